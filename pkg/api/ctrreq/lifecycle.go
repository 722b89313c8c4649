package ctrreq

import (
	"math"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/signals"
)

func checkRestart(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	policy, _, err := ctrconfig.ParseRestart(r.Restart)
	if err != nil {
		return bad("restart", "%v", err)
	}
	if policy != "no" && r.AutoRemove {
		return bad("restart", "%q cannot be used with --rm (auto_remove); drop one of them", r.Restart)
	}
	return nil
}

func checkStop(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.StopSignal != "" {
		if _, err := signals.Parse(r.StopSignal); err != nil {
			return bad("stop_signal", "%q is not a signal (SIGTERM, TERM, 15, RTMIN+3)", r.StopSignal)
		}
	}
	if r.StopTimeout != nil && (*r.StopTimeout < 0 || *r.StopTimeout > math.MaxInt32) {
		return bad("stop_timeout", "%d: expected a number of seconds, 0 or more", *r.StopTimeout)
	}
	return nil
}

// checkHealthcheck: Docker's test forms (empty: the image's), durations of 0 (the
// default) or at least 1 ms.
func checkHealthcheck(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	h := r.Healthcheck
	if h == nil {
		return nil
	}
	if err := healthTest(h.Test); err != nil {
		return err
	}
	for _, d := range []struct {
		field string
		v     int64
	}{{"healthcheck.interval", h.Interval}, {"healthcheck.timeout", h.Timeout}, {"healthcheck.start_period", h.StartPeriod}} {
		if d.v < 0 || d.v > 0 && d.v < int64(time.Millisecond) {
			return bad(d.field, "%d: expected nanoseconds, 0 (the default) or at least 1 ms", d.v)
		}
	}
	if h.Retries < 0 {
		return bad("healthcheck.retries", "%d: expected 0 (the default) or more", h.Retries)
	}
	return nil
}

func healthTest(t []string) error {
	const f = "healthcheck.test"
	if len(t) == 0 {
		return nil
	}
	for i, a := range t {
		if err := noNUL(idx(f, i), a); err != nil {
			return err
		}
	}
	switch {
	case t[0] == "NONE" && len(t) == 1:
	case t[0] == "CMD" && len(t) >= 2 && t[1] != "":
	case t[0] == "CMD-SHELL" && len(t) == 2 && strings.TrimSpace(t[1]) != "":
	default:
		return bad(f, "%q: expected [\"NONE\"], [\"CMD\", program, args...] or [\"CMD-SHELL\", command]", t)
	}
	return nil
}
