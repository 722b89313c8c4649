package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/engine/warmpool"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/spec"
)

// The services around the containers core, each in its own package, and what the engine
// hands them: the event bus, the warm shim pool, health checks, and a container's files
// and figures (ctrio).

// openServices makes the services that need nothing opened first.
func (e *Engine) openServices() {
	e.events = events.New()
	e.execs = execsvc.New(e)
	e.attach = attachsvc.New(e)
	e.files = ctrio.NewFiles(rootfsOf{e})
	e.logs = ctrio.NewLogs(e)
	e.stats = ctrio.NewSampler(statsSource{e}, runspec.InitPids)
}

// openWarm makes the warm pool once the cgroups are open.
func (e *Engine) openWarm() {
	e.warm = warmpool.New(warmpool.Config[*shimclient.Warm]{
		Size: e.Cfg.WarmShims, Root: e.Root, Cgroups: e.cg, Log: e.Log,
		StartShim: func(ctx context.Context, urgent bool, cgroup string) (*shimclient.Warm, error) {
			// Recorded under tmp/, whose leftovers the next daemon ends (dataroot.ClearTmp).
			return shimclient.StartWarm(ctx, e.ctrDir(""), filepath.Join(e.Root, "tmp", "warm"), cgroup, shimclient.StartOptions{Log: e.Log, Urgent: urgent, Discard: e.trash.DiscardUnmounted})
		},
	})
}

// ---- events ---------------------------------------------------------------------------

func (e *Engine) publish(ev events.Event) {
	if e.events != nil {
		e.events.Publish(ev)
	}
}

func (e *Engine) containerEvent(r *Record, action string, extra map[string]string) {
	attrs := map[string]string{"name": r.Name, "image": r.Image}
	for k, v := range r.Conf.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	e.publish(events.Event{Type: events.Container, Action: action, ID: r.ID, Attributes: attrs})
}

// EventService is the event bus, for the daemon to hand to the HTTP layers.
func (e *Engine) EventService() *events.Bus { return e.events }

// ---- warm pool ------------------------------------------------------------------------

// Prewarm announces n starts about to come (warmpool.Pool.Prewarm).
func (e *Engine) Prewarm(n int) { e.warm.Prewarm(n) }

// ---- health ---------------------------------------------------------------------------

// healthcheckOf is the check that runs for r (health.Resolve).
func healthcheckOf(r *Record) *ctrconfig.Healthcheck {
	return health.Resolve(r.Conf.Healthcheck, r.ImageHealth, func(k string) string { return labelOf(r, k) })
}

func labelOf(r *Record, k string) string {
	if v, ok := r.Conf.Labels[k]; ok {
		return v
	}
	return r.Config.Labels[k]
}

// startHealth runs the container's probe in the background while it runs.
func (e *Engine) startHealth(c *ctr) {
	r := e.snapshot(c)
	hc := healthcheckOf(&r)
	if hc == nil {
		return
	}
	h := health.NewChecker(hc)
	e.store.Lock()
	c.health.Stop()
	c.health = h
	shim := c.shim
	e.store.ChangedLocked()
	e.store.Unlock()
	if shim == nil {
		h.Stop()
		return
	}
	h.Run(execsvc.Probes(shim), e.store.Touch)
}

// ---- a container's files and figures ------------------------------------------------

// rootfsOf opens a container's root filesystem for ctrio.
type rootfsOf struct{ e *Engine }

// WithRootfs runs fn with an O_PATH fd of the container's root filesystem, the container
// held still (its op lock): a running one's through /proc/<pid>/root; a stopped one's
// overlay mounted in a private mount namespace (ctrio.StoppedRootfs).
func (o rootfsOf) WithRootfs(ctx context.Context, ref string, fn func(root int) error) error {
	e := o.e
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	e.store.RLock()
	shim := c.shim
	e.store.RUnlock()
	if shim != nil {
		return ctrio.RunningRootfs(shim.PID(), fn)
	}
	r := e.snapshot(c)
	lower, err := e.containerLayerDirs(ctx, &r)
	if err != nil {
		return err
	}
	mounts, err := e.vols.SpecMounts(r.Mounts)
	if err != nil {
		return err
	}
	dir := e.ctrDir(r.ID)
	target, err := os.MkdirTemp(filepath.Join(e.Root, "tmp"), "cp-")
	if err != nil {
		return err
	}
	defer os.Remove(target)
	rootfs := spec.Rootfs{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Volatile: r.Conf.AutoRemove}
	return ctrio.StoppedRootfs(rootfs, mounts, target, fn)
}

// FileService and LogService are containers' files (cp, export) and logs, for the daemon
// to hand to the HTTP layers.
func (e *Engine) FileService() *ctrio.Files { return e.files }
func (e *Engine) LogService() *ctrio.Logs   { return e.logs }

// ContainerTop lists the processes of a running container: those in its cgroup.
func (e *Engine) ContainerTop(ref string) (*ctrio.TopResult, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	r := e.snapshot(c)
	e.store.RLock()
	running := c.shim != nil
	e.store.RUnlock()
	if !running {
		return nil, errdefs.Conflict(fmt.Sprintf("container %s is not running", r.Name))
	}
	pids, err := e.cg.Pids(cgroupPath(r.ID))
	if err != nil {
		return nil, err
	}
	return ctrio.Top(pids), nil
}

// ContainerChanges lists what the container changed in its filesystem (ctrio.Changes).
func (e *Engine) ContainerChanges(ctx context.Context, ref string) ([]ctrio.Change, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	r := e.snapshot(c)
	lower, err := e.containerLayerDirs(ctx, &r)
	if err != nil {
		return nil, err
	}
	return ctrio.Changes(filepath.Join(e.ctrDir(r.ID), "upper"), lower)
}

// Stats reads the figures of the named containers (none: every running or paused one).
func (e *Engine) Stats(ctx context.Context, refs []string) ([]ctrio.Stats, error) {
	var cs []*ctr
	if len(refs) == 0 {
		for _, c := range e.allContainers() {
			if st := e.snapshot(c).Status; st == StatusRunning || st == StatusPaused {
				cs = append(cs, c)
			}
		}
	} else {
		for _, ref := range refs {
			c, err := e.lookup(ref)
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
		}
	}
	ts := make([]ctrio.Container, len(cs))
	for i, c := range cs {
		ts[i] = statsTarget{e, c}
	}
	return e.stats.Read(ctx, ts)
}

type statsTarget struct {
	e *Engine
	c *ctr
}

func (t statsTarget) Target() ctrio.Target {
	r := t.e.snapshot(t.c)
	return ctrio.Target{ID: r.ID, Name: r.Name, Running: r.Status == StatusRunning || r.Status == StatusPaused,
		PID: r.PID, Bridge: r.Conf.Network == "bridge"}
}

// statsSource reads a container's cgroup and veth for ctrio.
type statsSource struct{ e *Engine }

func (s statsSource) CgroupStats(id string) (*cgroup.Stats, error) {
	return s.e.cg.Stats(cgroupPath(id))
}

func (s statsSource) NetCounters(id string) (rx, tx uint64, err error) {
	return s.e.nets.BridgeCounters(id)
}
