// Package execsvc runs extra processes (exec) in running containers and keeps each for
// inspect, wait and resize. It knows containers only through the Containers interface
// the engine hands it.
package execsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/spec"
)

// Target is the running container an exec runs in.
type Target struct {
	ID   string
	Shim *shimclient.Container
	// Env is the workload's environment, which the exec's own adds to; EnvKnown is false
	// when it could not be worked out (the exec then gets only its own).
	Env      []string
	EnvKnown bool
}

// Containers finds the container an exec runs in: running and not paused, else a
// 409-kind error (404 when there is none).
type Containers interface {
	ExecTarget(ref string) (Target, error)
}

// Service is the exec processes of the daemon's containers.
type Service struct {
	ctrs  Containers
	execs sync.Map // exec ID -> *entry
	// keep is how long an ended exec stays for inspect.
	keep time.Duration
}

// New makes the service over the engine's containers.
func New(ctrs Containers) *Service { return &Service{ctrs: ctrs, keep: time.Hour} }

// entry is an exec process, kept for inspect and resize.
type entry struct {
	id       string
	proc     *shimclient.ExecProcess
	done     chan struct{}
	exitCode int
	running  bool
	mu       sync.Mutex
}

// Started is a started exec process with its raw stream (nil when detached).
type Started struct {
	ID     string
	Tty    bool
	Conn   *shimclient.Conn
	Failed *errdefs.StartFailed
}

// Options say what Exec runs in a container, and how.
type Options struct {
	ID            string // the container
	Command       []string
	Tty, Stdin    bool
	Env           []string // added to the container's
	User          string
	WorkingDir    string
	Detach        bool   // nobody reads the output
	Height, Width uint16 // a tty's size; 0 = unknown
	Privileged    bool   // every capability, as Docker's exec --privileged
}

// State is an exec process's state: its exit code once it ended.
type State struct {
	Running  bool
	ExitCode int
	PID      int
}

// Exec starts a process in a running, unpaused container.
func (s *Service) Exec(ctx context.Context, req Options) (*Started, error) {
	if len(req.Command) == 0 {
		return nil, errdefs.Invalid("exec needs a command")
	}
	t, err := s.ctrs.ExecTarget(req.ID)
	if err != nil {
		return nil, err
	}
	env := req.Env
	if t.EnvKnown {
		env = spec.MergeEnv(t.Env, req.Env)
		if req.Tty && !runspec.HasEnv(env, "TERM") {
			env = append(env, "TERM=xterm")
		}
	}
	es := shimclient.ExecSpec{Args: req.Command, Env: env, Cwd: req.WorkingDir, User: req.User,
		Tty: req.Tty, Stdin: req.Stdin && !req.Detach, Height: req.Height, Width: req.Width, Privileged: req.Privileged}
	ent := &entry{id: ctrstore.NewID(), done: make(chan struct{}), running: true}
	s.execs.Store(ent.id, ent)
	time.AfterFunc(s.keep, func() { <-ent.done; s.execs.Delete(ent.id) })
	proc, conn, err := t.Shim.ExecConn(context.Background(), es)
	if err != nil {
		var se *shimclient.StartError
		if errors.As(err, &se) && se.Code != 0 {
			ent.finish(se.Code)
			return &Started{ID: ent.id, Tty: req.Tty, Failed: &errdefs.StartFailed{Code: se.Code, Msg: se.Msg}}, nil
		}
		ent.finish(126)
		s.execs.Delete(ent.id)
		return nil, err
	}
	ent.mu.Lock()
	ent.proc = proc
	ent.mu.Unlock()
	go func() {
		ex, err := proc.Wait(context.Background())
		code := 126
		if err == nil && ex != nil {
			code = ex.ExitCode
		}
		ent.finish(code)
	}()
	if req.Detach { // nobody reads its output: drain it so the process never blocks
		go func(c *shimclient.Conn) { io.Copy(io.Discard, c); c.Close() }(conn)
		conn = nil
	}
	return &Started{ID: ent.id, Tty: req.Tty, Conn: conn}, nil
}

func (x *entry) finish(code int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.running {
		return
	}
	x.running, x.exitCode = false, code
	close(x.done)
}

func (s *Service) entry(id string) (*entry, error) {
	if v, ok := s.execs.Load(id); ok {
		return v.(*entry), nil
	}
	return nil, errdefs.NotFound(fmt.Sprintf("no such exec instance: %s", id))
}

// InspectExec reports an exec process; with wait it returns once the process has ended.
func (s *Service) InspectExec(ctx context.Context, id string, wait bool) (*State, error) {
	x, err := s.entry(id)
	if err != nil {
		return nil, err
	}
	if wait {
		select {
		case <-x.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	out := &State{Running: x.running, ExitCode: x.exitCode}
	if x.proc != nil {
		out.PID = x.proc.PID()
	}
	return out, nil
}

// WaitExec waits for an exec process's end.
func (s *Service) WaitExec(ctx context.Context, id string) (int, error) {
	in, err := s.InspectExec(ctx, id, true)
	if err != nil {
		return 0, err
	}
	return in.ExitCode, nil
}

// ResizeExec sets an exec's terminal size.
func (s *Service) ResizeExec(id string, h, w uint16) error {
	x, err := s.entry(id)
	if err != nil {
		return err
	}
	x.mu.Lock()
	proc := x.proc
	x.mu.Unlock()
	if proc == nil {
		return errdefs.Conflict("exec " + id + " is not running")
	}
	return proc.Resize(h, w)
}
