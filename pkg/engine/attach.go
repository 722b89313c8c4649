package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/execsvc"
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

// AttachTarget is the shim of a running or paused container (attachsvc.Containers).
func (e *Engine) AttachTarget(ref string) (*shimclient.Container, error) {
	_, shim, err := e.running(ref, true)
	return shim, err
}

// CreateForRun creates a container for run (attachsvc.Containers), its record not yet
// durable: see createContainer and PersistRun.
func (e *Engine) CreateForRun(ctx context.Context, cfg ctrconfig.Config) (string, []string, error) {
	return e.createContainer(ctx, cfg, false)
}

// PersistRun writes the record of a container CreateForRun made (attachsvc.Containers).
// One that cannot be written is removed, workload and anonymous volumes included: the
// caller is told the run failed, and nothing of it stays behind.
func (e *Engine) PersistRun(id string) error {
	err := e.store.Persist(id)
	if err == nil {
		return nil
	}
	if c, lerr := e.lookup(id); lerr == nil {
		e.removeContainer(context.Background(), c, true, true)
	}
	return fmt.Errorf("container %s: record: %w", short12(id), err)
}

// DiscardUnstarted removes a --rm container whose first start failed (attachsvc.Containers).
func (e *Engine) DiscardUnstarted(id string) {
	if c, err := e.lookup(id); err == nil && c.rec.Conf.AutoRemove {
		e.removeContainer(context.Background(), c, true, true)
	}
}

// AttachService is the attach service the engine opened, for the daemon to hand to the
// HTTP layers.
func (e *Engine) AttachService() *attachsvc.Service { return e.attach }

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
