package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
)

// Exit is how a container's workload (or an exec) ended: exit.json.
type Exit = shimapi.Exit

// State is a container as its shim reports it.
type State = shimapi.State

// ExecSpec is a process to run in a running container; empty User, Cwd use the container's.
type ExecSpec = shimapi.Exec

// StartError is a process that could not run: Code 126 (not runnable, unknown user) or 127
// (not found); other failures have Code 0 (the CLI's 125).
type StartError = shimapi.Error

// StartOptions tune Start.
type StartOptions struct {
	// Log receives the daemon-side messages (the shim logs to containers/<id>/shim.log).
	Log *slog.Logger
	// ShimEnv is added to the shim's environment (tests; GOGC and GOMAXPROCS are set).
	ShimEnv []string
}

// Container is a handle on a live shim.
type Container struct {
	dir  string
	sock string
	pid  int
	tty  bool
}

// Start creates the container described by s (config.json already saved in s.Dir): it
// starts the shim detached and returns once init exists in its namespaces, held before
// the workload. The caller sets up the cgroup and network on PID(), then calls Resume.
func Start(ctx context.Context, s *spec.Spec, opts StartOptions) (*Container, error) {
	exe, err := sealedSelf()
	if err != nil {
		return nil, fmt.Errorf("sealed copy of the binary: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	shimLog, err := os.OpenFile(filepath.Join(s.Dir, shimapi.ShimLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		w.Close()
		return nil, err
	}
	cmd := reexec.Command("minibox-shim", []string{s.Dir}, w, exe)
	cmd.Stderr = shimLog
	// A shim is small and idle: one P, an eager collector.
	cmd.Env = append([]string{"GOMAXPROCS=1", "GOGC=25", "GODEBUG=madvdontneed=1"}, opts.ShimEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives us, and our terminal's signals
	err = cmd.Start()
	w.Close()
	shimLog.Close()
	if err != nil {
		return nil, fmt.Errorf("start shim: %w", err)
	}
	reap(cmd.Process.Pid, opts.Log)
	cmd.Process.Release()
	if dl, ok := ctx.Deadline(); ok {
		r.SetReadDeadline(dl)
	}
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("container %s: shim exited before init was ready (see %s): %w",
			short(s.ID), filepath.Join(s.Dir, shimapi.ShimLog), err)
	}
	var resp shimapi.Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("shim ready message: %w", err)
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return &Container{dir: s.Dir, sock: filepath.Join(s.Dir, shimapi.SocketName), pid: resp.PID, tty: s.Process.Terminal}, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Connect reconnects to the live shim of the container in dir (after a daemon restart).
// A container whose shim is gone is errdefs.ErrNotFound: read its exit with ReadExit.
func Connect(dir string) (*Container, error) {
	c := &Container{dir: dir, sock: filepath.Join(dir, shimapi.SocketName)}
	st, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("shim of %s: %w", dir, errors.Join(errdefs.ErrNotFound, err))
	}
	c.pid, c.tty = st.PID, st.Tty
	return c, nil
}

// ReadExit reads dir/exit.json; errdefs.ErrNotFound if the workload has no recorded end.
func ReadExit(dir string) (*Exit, error) {
	e, err := shimapi.ReadExit(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("exit record of %s: %w", dir, errdefs.ErrNotFound)
	}
	return e, err
}

// Cleanup removes what a dead container leaves in dir: its socket and the empty rootfs
// mount point. Nothing is mounted on the host (mounts lived in the container's namespace).
func Cleanup(dir string) error {
	if c, err := shimapi.Dial(filepath.Join(dir, shimapi.SocketName)); err == nil {
		c.Close()
		// Its rootfs mount point is in use in the container's namespace.
		return errdefs.Conflict(fmt.Sprintf("container in %s is still running", dir))
	}
	if err := os.Remove(filepath.Join(dir, shimapi.SocketName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err := os.Remove(mount.RootfsDir(&spec.Spec{Dir: dir}))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove rootfs mount point: %w", err)
	}
	return nil
}

// PID is init's PID in the host's namespace: the target of cgroup and network setup.
func (c *Container) PID() int { return c.pid }

// Dir is the container directory.
func (c *Container) Dir() string { return c.dir }

// Tty reports whether the workload has a terminal.
func (c *Container) Tty() bool { return c.tty }

func (c *Container) call(ctx context.Context, req *shimapi.Request) (*shimapi.Response, error) {
	dl, _ := ctx.Deadline()
	resp, _, err := shimapi.Call(c.sock, req, false, dl)
	if err != nil && resp == nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	return resp, err
}

// Resume lets the held workload run. A workload that cannot start is a *StartError
// (Code 126/127) and the container has exited with that code.
func (c *Container) Resume(ctx context.Context) error {
	_, err := c.call(ctx, &shimapi.Request{Op: shimapi.OpStart})
	return err
}

// State asks the shim.
func (c *Container) State() (*State, error) {
	resp, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpState})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Signal sends sig to init, which forwards it to the workload (SIGKILL ends init and so
// the whole container). It goes through the shim: never to a stored, reusable PID.
func (c *Container) Signal(sig syscall.Signal) error {
	_, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpSignal, Signal: int(sig)})
	return err
}

// Resize sets the container's terminal size.
func (c *Container) Resize(height, width uint16) error {
	_, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpResize, Height: height, Width: width})
	return err
}

// WaitReaped is Wait that also reports the end of the container's processes: reaped yields
// true once the shim has reaped init (every process and namespace of the container is
// gone), false when the shim cannot tell (it is gone, or had finished already).
func (c *Container) WaitReaped(ctx context.Context) (ex *Exit, reaped <-chan bool, err error) {
	ex, reaped, err = shimapi.Wait(ctx, c.sock)
	if err == nil {
		return ex, reaped, nil
	}
	closed := make(chan bool)
	close(closed)
	if ctx.Err() != nil {
		return nil, closed, ctx.Err()
	}
	if e, rerr := ReadExit(c.dir); rerr == nil {
		return e, closed, nil
	}
	return nil, closed, fmt.Errorf("wait for container: %w", err)
}

// Wait returns the workload's exit once it has ended (exit.json is written by then). A shim
// that died without recording it is an error.
func (c *Container) Wait(ctx context.Context) (*Exit, error) {
	resp, err := shimapi.CallContext(ctx, c.sock, &shimapi.Request{Op: shimapi.OpWait})
	if err == nil && resp.Exit != nil {
		return resp.Exit, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// The shim may have finished between our calls: its record is on disk.
	if e, rerr := ReadExit(c.dir); rerr == nil {
		return e, nil
	}
	if err == nil {
		err = errors.New("no exit status")
	}
	return nil, fmt.Errorf("wait for container: %w", err)
}
