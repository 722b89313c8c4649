package engine

import (
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/execsvc"

	"context"
	"errors"
	"path/filepath"

	"github.com/minibox/minibox/pkg/shimclient"
)

// running returns the container's live shim, or a 409-kind error.
func (e *Engine) running(ref string, allowPaused bool) (*ctr, *shimclient.Container, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, nil, err
	}
	e.store.RLock()
	shim, r := c.shim, *c.rec
	e.store.RUnlock()
	op := OpExec
	if allowPaused {
		op = OpAttach
	}
	if shim == nil {
		return nil, nil, &StateError{Name: r.Name, Status: r.Status, Op: op}
	}
	if err := allow(&r, op); err != nil {
		return nil, nil, err
	}
	return c, shim, nil
}

// AttachContainer attaches to a running container's stdio: raw bytes for a tty, else
// multiplexed frames.
func (e *Engine) AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error) {
	_, shim, err := e.running(ref, true)
	if err != nil {
		return nil, false, err
	}
	conn, err := shim.AttachConn(ctx, stdin)
	return conn, shim.Tty(), err
}

// ResizeContainer sets a running container's terminal size.
func (e *Engine) ResizeContainer(ref string, h, w uint16) error {
	_, shim, err := e.running(ref, true)
	if err != nil {
		return err
	}
	return shim.Resize(h, w)
}

// RunStarted is a container created and started by Run with its stdio attached.
type RunStarted struct {
	ID   string
	Tty  bool
	Conn *shimclient.Conn // nil when detached
	// Failed is set when the workload could not run (exit 126/127); Conn is nil then.
	Failed *StartFailed
}

// RunAttach says whether and how RunContainer attaches its caller to the container's stdio.
type RunAttach struct {
	Output bool // false: detached
	Stdin  bool
	// Held: the shim holds the output until the caller hands it the client's connection
	// (RunStarted.Conn.HandOff, when Conn.Held) or reads the stream itself.
	Held bool
}

// RunContainer creates and starts a container; unless detached it attaches first, so no
// output is lost.
// A tty gets the client's size (height, width; 0 = unknown) before the workload starts.
func (e *Engine) RunContainer(ctx context.Context, req ctrconfig.Config, att RunAttach, height, width uint16) (*RunStarted, []string, error) {
	id, warnings, err := e.createContainer(ctx, req, !(att.Output && req.AutoRemove))
	if err != nil {
		return nil, nil, err
	}
	run := &RunStarted{ID: id}
	var before BeforeResume
	if att.Output {
		before = attachBefore(ctx, run, att.Stdin, att.Held, height, width)
	}
	if _, err := e.StartContainer(ctx, id, before); err != nil {
		if run.failed(err) {
			return run, warnings, nil
		}
		// A container that never ran is not kept when it was meant to be removed.
		if c, lerr := e.lookup(id); lerr == nil && c.rec.Conf.AutoRemove {
			e.removeContainer(context.Background(), c, true, true)
		}
		return nil, warnings, err
	}
	return run, warnings, nil
}

// failed takes a failed start: the attachment goes, and a workload that could not run
// (126/127) is recorded in run.Failed (true) rather than being an error of the request.
func (run *RunStarted) failed(err error) bool {
	if run.Conn != nil {
		run.Conn.Close()
		run.Conn = nil
	}
	var sf *StartFailed
	if errors.As(err, &sf) {
		run.Failed = sf
		return true
	}
	return false
}

// attachBefore attaches run to the container's stdio (a tty sized first) before its
// workload starts.
func attachBefore(ctx context.Context, run *RunStarted, stdin, held bool, height, width uint16) BeforeResume {
	return func(shim *shimclient.Container) error {
		if shim.Tty() && height > 0 && width > 0 {
			if err := shim.Resize(height, width); err != nil {
				return err
			}
		}
		attach := shim.AttachConn
		if held {
			attach = shim.AttachHeld
		}
		conn, err := attach(ctx, stdin)
		run.Conn, run.Tty = conn, shim.Tty()
		return err
	}
}

// StartAttached starts a container with its stdio attached before the workload runs
// (start -a -i: nothing typed or printed is lost between the start and the attach). One
// that is already running is attached to.
func (e *Engine) StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*RunStarted, error) {
	run := &RunStarted{}
	id, err := e.StartContainer(ctx, ref, attachBefore(ctx, run, stdin, false, height, width))
	run.ID = id
	if err != nil {
		if run.failed(err) {
			return run, nil
		}
		return nil, err
	}
	if run.Conn == nil { // it was running already
		if run.Conn, run.Tty, err = e.AttachContainer(ctx, id, stdin); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// ExecTarget is the running, unpaused container an exec runs in, with its workload's
// environment (execsvc.Containers).
func (e *Engine) ExecTarget(ref string) (execsvc.Target, error) {
	c, shim, err := e.running(ref, false)
	if err != nil {
		return execsvc.Target{}, err
	}
	r := e.snapshot(c)
	t := execsvc.Target{ID: r.ID, Shim: shim}
	if s, err := e.buildSpec(&r, nil); err == nil {
		t.Env, t.EnvKnown = s.Process.Env, true
	}
	return t, nil
}

// ExecService is the exec service the engine opened, for the daemon to hand to the HTTP
// layers.
func (e *Engine) ExecService() *execsvc.Service { return e.execs }

// LogOf is where a container's log is and how to read it (ctrio.LogSource).
func (e *Engine) LogOf(ref string) (ctrio.LogFile, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return ctrio.LogFile{}, err
	}
	r := e.snapshot(c)
	e.store.RLock()
	live := c.shim != nil
	e.store.RUnlock()
	env := func() []string {
		if s, _ := e.buildSpec(&r, nil); s != nil {
			return s.Process.Env
		}
		return nil
	}
	return ctrio.LogFile{Name: r.Name, Path: filepath.Join(e.ctrDir(r.ID), "container.log"), Conf: &r.Conf, Live: live, Env: env}, nil
}
