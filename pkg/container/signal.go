package container

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// ParseSignal reads "SIGTERM", "TERM", "term" or "15"; empty is SIGTERM (Docker's
// --stop-signal and kill -s forms).
func ParseSignal(s string) (syscall.Signal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return unix.SIGTERM, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, errdefs.Invalid(fmt.Sprintf("invalid signal %q", s))
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// Real-time signals by name, as Docker takes them: RTMIN, RTMIN+3, RTMAX-1.
	for _, rt := range []struct {
		name string
		base int
	}{{"SIGRTMIN", 34}, {"SIGRTMAX", 64}} {
		if rest, ok := strings.CutPrefix(name, rt.name); ok {
			off := 0
			if rest != "" {
				n, err := strconv.Atoi(rest)
				if err != nil {
					break
				}
				off = n
			}
			if n := rt.base + off; n >= 34 && n <= 64 {
				return syscall.Signal(n), nil
			}
		}
	}
	return 0, errdefs.Invalid(fmt.Sprintf("invalid signal %q", s))
}

// Stop sends sig (the container's stop signal) and, if the workload has not ended after
// timeout, SIGKILL; it returns the recorded exit (143 or 137 for the defaults).
func (c *Container) Stop(ctx context.Context, sig syscall.Signal, timeout time.Duration) (*Exit, error) {
	if err := c.Signal(sig); err != nil {
		if e, rerr := c.Wait(ctx); rerr == nil {
			return e, nil // it had ended already
		}
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	e, err := c.Wait(wctx)
	cancel()
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return nil, err
	}
	if err := c.Signal(unix.SIGKILL); err != nil {
		if e, rerr := c.Wait(ctx); rerr == nil {
			return e, nil
		}
		return nil, err
	}
	return c.Wait(ctx)
}
