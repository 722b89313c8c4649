package shimclient

import (
	"context"
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

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
