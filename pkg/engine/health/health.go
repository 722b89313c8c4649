// Package health runs a container's health check: which probe applies (the container's,
// the image's, the labels'), the probes on their interval through an exec interface, and
// the status they come to.
package health

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
)

// Health states.
const (
	None      = "none"
	Starting  = "starting"
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
)

const (
	defaultInterval = 30 * time.Second
	defaultTimeout  = 30 * time.Second
	defaultRetries  = 3
	logKeep         = 5
	outputMax       = 4096
)

// Probe is one probe's result.
type Probe struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// Report is a health check's state: its status, failures in a row and last probes.
type Report struct {
	Status        string
	FailingStreak int
	Log           []Probe
}

// Process is a probe started in the container.
type Process interface {
	// Wait returns the probe's exit code once it ends, or ctx's error.
	Wait(ctx context.Context) (int, error)
	// Kill ends a probe that ran out of time.
	Kill()
}

// Execer starts a probe inside the container, as exec does (every namespace, the
// container's seccomp and capabilities), its stdout and stderr both to out.
type Execer interface {
	Exec(ctx context.Context, args []string, out io.Writer) (Process, error)
}

// Checker is one container's health check while it runs. A nil Checker reports none.
type Checker struct {
	hc      ctrconfig.Healthcheck
	mu      sync.Mutex
	status  string
	failing int
	log     []Probe
	cancel  context.CancelFunc
}

// NewChecker returns the check hc in its starting state; Run starts its probes.
func NewChecker(hc *ctrconfig.Healthcheck) *Checker {
	return &Checker{hc: *hc, status: Starting}
}

// Stop ends the probes (nil: nothing to stop). Safe before Run.
func (h *Checker) Stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancel != nil {
		h.cancel()
	}
	h.cancel = func() {} // a Run after Stop does nothing
}

// Report returns the check's state now; a nil Checker reports none.
func (h *Checker) Report() Report {
	if h == nil {
		return Report{Status: None}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return Report{Status: h.status, FailingStreak: h.failing, Log: append([]Probe(nil), h.log...)}
}

// Run probes through ex every interval in the background until Stop; changed is called
// after each probe's result is recorded.
func (h *Checker) Run(ex Execer, changed func()) {
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	if h.cancel != nil { // stopped already
		h.mu.Unlock()
		cancel()
		return
	}
	h.cancel = cancel
	h.mu.Unlock()
	interval := durationOr(h.hc.Interval, defaultInterval)
	timeout := durationOr(h.hc.Timeout, defaultTimeout)
	retries := h.hc.Retries
	if retries <= 0 {
		retries = defaultRetries
	}
	startPeriod := h.hc.StartPeriod
	started := time.Now()
	args := probeArgs(h.hc.Test)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			probe := runProbe(ctx, ex, args, timeout)
			if ctx.Err() != nil {
				return
			}
			h.record(probe, time.Since(started) < startPeriod, retries)
			changed()
		}
	}()
}

// record adds one probe's result; failures in the start period do not count while the
// check has not yet passed.
func (h *Checker) record(probe Probe, inStartPeriod bool, retries int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, probe)
	if len(h.log) > logKeep {
		h.log = h.log[len(h.log)-logKeep:]
	}
	switch {
	case probe.ExitCode == 0:
		h.status, h.failing = Healthy, 0
	case inStartPeriod && h.status == Starting:
	default:
		h.failing++
		if h.failing >= retries {
			h.status = Unhealthy
		}
	}
}

// FromImageConfig reads Docker's Healthcheck extension from an image's config blob; nil
// when it has none.
func FromImageConfig(b []byte) *ctrconfig.Healthcheck {
	var cfg struct {
		Config struct {
			Healthcheck *struct {
				Test        []string
				Interval    int64
				Timeout     int64
				StartPeriod int64
				Retries     int
			}
		} `json:"config"`
	}
	if json.Unmarshal(b, &cfg) != nil || cfg.Config.Healthcheck == nil {
		return nil
	}
	h := cfg.Config.Healthcheck
	return &ctrconfig.Healthcheck{Test: h.Test, Interval: time.Duration(h.Interval), Timeout: time.Duration(h.Timeout), StartPeriod: time.Duration(h.StartPeriod), Retries: h.Retries}
}

// Resolve is the check that runs: own (--health-*), else image's (its HEALTHCHECK), else
// the labels mini.healthcheck.cmd/.interval (label reads them); nil when there is none or
// it is disabled. Flags without a command tune the image's probe.
func Resolve(own, image *ctrconfig.Healthcheck, label func(key string) string) *ctrconfig.Healthcheck {
	h := own
	if h != nil && (h.Disable || len(h.Test) == 1 && h.Test[0] == "NONE") {
		return nil
	}
	if h != nil && len(h.Test) > 0 {
		return h
	}
	base := image
	if base == nil {
		base = fromLabels(label)
	}
	if base == nil || len(base.Test) == 0 || base.Test[0] == "NONE" {
		return nil
	}
	merged := *base
	if h != nil {
		if h.Interval > 0 {
			merged.Interval = h.Interval
		}
		if h.Timeout > 0 {
			merged.Timeout = h.Timeout
		}
		if h.StartPeriod > 0 {
			merged.StartPeriod = h.StartPeriod
		}
		if h.Retries > 0 {
			merged.Retries = h.Retries
		}
	}
	return &merged
}

// fromLabels is the check the original's labels name (the interval as a duration or in
// seconds); nil without mini.healthcheck.cmd.
func fromLabels(label func(string) string) *ctrconfig.Healthcheck {
	cmd := label("mini.healthcheck.cmd")
	if cmd == "" {
		return nil
	}
	h := &ctrconfig.Healthcheck{Test: []string{"CMD-SHELL", cmd}}
	if iv := label("mini.healthcheck.interval"); iv != "" {
		if d, err := time.ParseDuration(iv); err == nil {
			h.Interval = d
		} else if n, err := strconv.Atoi(iv); err == nil {
			h.Interval = time.Duration(n) * time.Second
		}
	}
	return h
}

func durationOr(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

func probeArgs(test []string) []string {
	switch {
	case len(test) == 0:
		return nil
	case test[0] == "CMD":
		return test[1:]
	case test[0] == "CMD-SHELL":
		if len(test) > 1 {
			return []string{"/bin/sh", "-c", test[1]}
		}
		return nil
	}
	return []string{"/bin/sh", "-c", test[0]}
}

// runProbe runs one probe; a timeout counts as a failure.
func runProbe(ctx context.Context, ex Execer, args []string, timeout time.Duration) Probe {
	p := Probe{Start: time.Now().UTC(), ExitCode: -1}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	lw := &limitedWriter{w: &out, n: outputMax}
	proc, err := ex.Exec(ctx, args, lw)
	if err != nil {
		p.End, p.Output = time.Now().UTC(), err.Error()
		return p
	}
	code, err := proc.Wait(ctx)
	p.End = time.Now().UTC()
	if err != nil {
		proc.Kill()
		p.Output = "health check timed out after " + timeout.String()
		return p
	}
	p.ExitCode, p.Output = code, out.String()
	return p
}

// limitedWriter keeps the first n bytes and drops the rest (a probe's output is kept
// for inspect, not streamed). Stdout and stderr may write at once.
type limitedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
