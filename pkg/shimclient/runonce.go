package shimclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// reapWait bounds RunOnce's wait for the shim's word that init is reaped.
const reapWait = 5 * time.Second

// RunOnce runs s to completion with its output copied to stdout and stderr, and removes
// what the run left behind: the builder's build containers. s.Network must be "none" or
// "host" (nobody wires a bridge for it). It saves s in s.Dir. A workload that cannot start
// returns its code (126, 127) with a *StartError; a cancelled ctx kills the container.
func RunOnce(ctx context.Context, s *spec.Spec, stdout, stderr io.Writer) (code int, err error) {
	if s.Network != "none" && s.Network != "host" {
		return 0, errdefs.Invalid(fmt.Sprintf("run once: network %q: want none or host", s.Network))
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return 0, err
	}
	if err := s.Save(); err != nil {
		return 0, err
	}
	// Tied: a build container is of no use to a later daemon, and must not outlive ours.
	c, err := Start(ctx, s, StartOptions{Tied: true})
	if err != nil {
		return 0, err
	}
	defer Cleanup(s.Dir)
	defer c.Close()
	conn, err := c.AttachConn(ctx, false)
	if err != nil {
		c.Signal(syscall.SIGKILL)
		c.Wait(context.Background())
		return 0, err
	}
	relayed := make(chan error, 1)
	go func() {
		relayed <- pump(context.Background(), conn, s.Process.Terminal, AttachOptions{Stdout: stdout, Stderr: stderr})
	}()
	startErr := c.Resume(ctx)
	var se *StartError
	if startErr != nil && !errors.As(startErr, &se) {
		c.Signal(syscall.SIGKILL)
	}
	exit, reaped, err := c.WaitReaped(ctx)
	if ctx.Err() != nil {
		c.Signal(syscall.SIGKILL)
		exit, reaped, err = c.WaitReaped(context.Background())
	}
	// The caller takes the upper dir (a build's layer) or removes the directory next:
	// init's mount namespace, holding the overlay, must be gone first.
	select {
	case <-reaped:
	case <-time.After(reapWait):
	}
	<-relayed
	if startErr != nil {
		if se != nil {
			return se.Code, startErr
		}
		return 0, startErr
	}
	if err != nil {
		return 0, err
	}
	if ctx.Err() != nil {
		return exit.ExitCode, ctx.Err()
	}
	return exit.ExitCode, nil
}
