package engine

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/shimclient"
)

// Health states.
const (
	HealthNone      = "none"
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
	healthLogKeep         = 5
	healthOutputMax       = 4096
)

type healthState struct {
	mu      sync.Mutex
	status  string
	failing int
	log     []HealthProbe
	cancel  context.CancelFunc
}

func (h *healthState) stop() {
	if h != nil && h.cancel != nil {
		h.cancel()
	}
}

func (h *healthState) snapshot() (string, int, []HealthProbe) {
	if h == nil {
		return HealthNone, 0, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status, h.failing, append([]HealthProbe(nil), h.log...)
}

// healthcheckOf is --health-*, else the image's HEALTHCHECK, else the original's labels
// mini.healthcheck.cmd/.interval; nil when there is none or it is disabled.
func healthcheckOf(r *Record) *ctrconfig.Healthcheck {
	h := r.Conf.Healthcheck
	if h != nil && (h.Disable || len(h.Test) == 1 && h.Test[0] == "NONE") {
		return nil
	}
	if h == nil || len(h.Test) == 0 {
		base := r.ImageHealth
		if base == nil {
			if cmd := labelOf(r, "mini.healthcheck.cmd"); cmd != "" {
				base = &ctrconfig.Healthcheck{Test: []string{"CMD-SHELL", cmd}}
				if iv := labelOf(r, "mini.healthcheck.interval"); iv != "" {
					if d, err := time.ParseDuration(iv); err == nil {
						base.Interval = d
					} else if n, err := strconv.Atoi(iv); err == nil {
						base.Interval = time.Duration(n) * time.Second
					}
				}
			}
		}
		if base == nil || len(base.Test) == 0 || base.Test[0] == "NONE" {
			return nil
		}
		merged := *base
		if h != nil { // flags without a command tune the image's probe
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
		h = &merged
	}
	return h
}

func labelOf(r *Record, k string) string {
	if v, ok := r.Conf.Labels[k]; ok {
		return v
	}
	return r.Config.Labels[k]
}

// HealthProbe is one probe's result.
type HealthProbe struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// startHealth runs the container's probe in the background while it runs.
func (e *Engine) startHealth(c *ctr) {
	r := e.snapshot(c)
	hc := healthcheckOf(&r)
	if hc == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &healthState{status: HealthStarting, cancel: cancel}
	e.cmu.Lock()
	if c.health != nil {
		c.health.stop()
	}
	c.health = h
	shim := c.shim
	e.gen++
	e.cmu.Unlock()
	if shim == nil {
		cancel()
		return
	}
	interval := durationOr(hc.Interval, defaultHealthInterval)
	timeout := durationOr(hc.Timeout, defaultHealthTimeout)
	retries := hc.Retries
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	startPeriod := time.Duration(hc.StartPeriod)
	started := time.Now()
	args := probeArgs(hc.Test)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			probe := e.runProbe(ctx, shim, args, timeout)
			if ctx.Err() != nil {
				return
			}
			h.mu.Lock()
			h.log = append(h.log, probe)
			if len(h.log) > healthLogKeep {
				h.log = h.log[len(h.log)-healthLogKeep:]
			}
			switch {
			case probe.ExitCode == 0:
				h.status, h.failing = HealthHealthy, 0
			case time.Since(started) < startPeriod && h.status == HealthStarting:
				// failures in the start period do not count
			default:
				h.failing++
				if h.failing >= retries {
					h.status = HealthUnhealthy
				}
			}
			h.mu.Unlock()
			e.touch()
		}
	}()
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

// runProbe runs one probe like exec (inside every namespace, with the container's
// seccomp and capabilities); a timeout counts as a failure.
func (e *Engine) runProbe(ctx context.Context, shim *shimclient.Container, args []string, timeout time.Duration) HealthProbe {
	p := HealthProbe{Start: time.Now().UTC(), ExitCode: -1}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	lw := &limitedWriter{w: &out, n: healthOutputMax}
	proc, err := shim.Exec(ctx, shimclient.ExecSpec{Args: args}, shimclient.AttachOptions{Stdout: lw, Stderr: lw})
	if err != nil {
		p.End, p.Output = time.Now().UTC(), err.Error()
		return p
	}
	ex, err := proc.Wait(ctx)
	p.End = time.Now().UTC()
	if err != nil {
		proc.Signal(9)
		p.Output = "health check timed out after " + timeout.String()
		return p
	}
	p.ExitCode, p.Output = ex.ExitCode, out.String()
	return p
}

type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
