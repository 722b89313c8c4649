package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/restartpolicy"
	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/engine/warmpool"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/signals"
	"github.com/minibox/minibox/pkg/spec"
)

const (
	defaultStopTimeout = 10 * time.Second
	recentKeep         = 5 * time.Minute
	// trashWait bounds how long a daemon that stops deletes discarded directories.
	trashWait = 10 * time.Second
)

// StartContainer starts a created or exited container; a running one is left alone.
func (e *Engine) StartContainer(ctx context.Context, ref string, before attachsvc.BeforeResume) (string, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return "", err
	}
	e.update(c, func(r *Record) { r.UserStopped = false })
	return c.rec.ID, e.startContainer(ctx, c, before)
}

// markRunning records a started run: its process, time, address, published ports, and
// each network's address.
func (e *Engine) markRunning(c *ctr, pid int, started time.Time, sn *netsvc.StartPlan) {
	ipStr := ""
	if sn.Addr.IsValid() {
		ipStr = sn.Addr.String()
	}
	e.setStatus(c, StatusRunning, func(rec *Record) {
		rec.PID, rec.StartedAt, rec.FinishedAt = pid, started, time.Time{}
		rec.ExitCode, rec.OOMKilled, rec.Error, rec.IP, rec.Ports = 0, false, "", ipStr, sn.Ports
		if b := rec.Bridge; b != nil && sn.BridgeIP() != "" {
			nb := *b // replaced whole: snapshots share it
			nb.IP = sn.BridgeIP()
			rec.Bridge = &nb
		}
		for _, a := range sn.Atts {
			if a.Index < len(rec.Endpoints) && rec.Endpoints[a.Index].NetworkID == a.NetworkID {
				rec.Endpoints[a.Index].IP = a.Endpoint.Addr.String()
			}
		}
	})
}

// prepareShared points the spec at what the container shares with others (another
// container's network or namespaces) and writes the loader's configuration (--gpus).
func (e *Engine) prepareShared(r *Record, s *spec.Spec) error {
	if err := e.joinContainerNet(r, s); err != nil {
		return err
	}
	if err := e.joinNamespaces(r, s); err != nil {
		return err
	}
	return runspec.WriteLdConf(s)
}

func (e *Engine) startContainer(ctx context.Context, c *ctr, before attachsvc.BeforeResume) (err error) {
	c.op.Lock()
	defer c.op.Unlock()
	e.cancelRestart(c)
	r := e.snapshot(c)
	if c.shim != nil {
		return nil
	}
	if c.removed != nil {
		return errdefs.NotFound("container " + r.Name + " was removed")
	}
	e.waitCleaned(c) // the last run's cgroup and veth are gone before new ones are made
	dir := e.ctrDir(r.ID)
	t0 := time.Now()
	lap := func(step string) {
		e.Log.Debug("start step", "id", r.ID[:12], "step", step, "at", time.Since(t0))
	}
	lower, err := e.containerLayerDirs(ctx, &r)
	if err != nil {
		return fmt.Errorf("container %s: prepare layers: %w", r.Name, err)
	}
	s, err := e.buildSpec(&r, lower)
	if err != nil {
		return err
	}
	sn, err := e.nets.PlanStart(ctx, netsvc.StartRequest{ID: r.ID, Name: r.Name, Mode: r.Conf.Network, IP: r.IP,
		Bridge: r.Bridge, Endpoints: r.Endpoints, Publish: r.Conf.Publish})
	if err != nil {
		return err
	}
	if err := e.prepareShared(&r, s); err != nil {
		sn.Release()
		return err
	}
	cleanup := func() {
		runspec.UnmountShm(dir)
		sn.Undo()
		e.cg.Remove(s.CgroupPath)
		shimclient.Cleanup(dir)
	}
	lap("layers+spec+addr")
	if err := e.writeEtcFiles(&r, s, sn.Addr); err != nil {
		cleanup()
		return err
	}
	os.Remove(filepath.Join(dir, "exit.json"))
	if err := runspec.MountShm(s); err != nil {
		cleanup()
		return err
	}
	var settled <-chan struct{} // this run's end is handled: cleaned up, or removed (--rm)
	// Once the run is settled, or has run for settleWait (at once when the start failed),
	// the warm pool is refilled (Refill says why not before) and the discarded directories
	// (the warm pair's record now, a --rm container's own at its end) are deleted
	// (rundir.Trash).
	release := e.trash.Hold()
	defer func() {
		go func() {
			if settled != nil {
				t := time.NewTimer(settleWait)
				select {
				case <-settled:
				case <-t.C:
				}
				t.Stop()
			}
			e.warm.Refill()
			release()
		}()
	}()
	e.warm.StartBegins()
	defer e.warm.StartEnds()
	ws := e.warm.Take(ctx, s)
	// Without a warm pair, the shim clones init into its cgroup where it can (v1): no
	// process moves, and no kernel grace period is waited out (4-8 ms here).
	s.InitInCgroup = ws != nil || s.CgroupPath != "" && threadsJoinCgroups(e.cg)
	if err := s.Save(); err != nil {
		if ws != nil {
			e.warm.Discard(ws)
		}
		cleanup()
		return err
	}
	lap("etc+config.json")
	// A warm init sits in its network namespace already: the network is wired while the
	// pair is given the container (its cgroup renamed, the spec sent), not after. The
	// namespace is taken through the pidfd on init, so it is that process's for sure.
	var wired chan error
	if ws != nil && sn.Wired() {
		if netns, err := ws.Shim().NetNS(); err == nil {
			wired = make(chan error, 1)
			go func(pid int) {
				defer netns.Close()
				wired <- sn.AttachIn(ctx, pid, netns)
			}(ws.Shim().PID())
		}
	}
	shim, inCgroup, err := e.startShim(ctx, s, ws)
	if err != nil {
		if wired != nil {
			<-wired // then undone with the rest
		}
		cleanup()
		return fmt.Errorf("container %s: %w", r.Name, err)
	}
	abort := func(err error) error {
		killShim(context.Background(), shim, 10*time.Second)
		cleanup()
		return err
	}
	lap("shim")
	// init mounts the rootfs meanwhile. Joining the cgroup (a kernel grace period) overlaps
	// the network and the attach: the workload is still held, so neither can race it.
	joined := make(chan error, 1)
	go func() {
		if !inCgroup {
			joined <- e.cg.Add(s.CgroupPath, shim.PID())
			return
		}
		joined <- nil
	}()
	ready := make(chan error, 1)
	go func() { err := shim.Ready(ctx); lap("init ready"); ready <- err }()
	if wired != nil {
		if before != nil {
			err = before(shim)
		}
		if werr := <-wired; werr != nil {
			err = werr
		}
	} else {
		err = sn.Attach(ctx, shim.PID())
		if err == nil && before != nil {
			err = before(shim)
		}
	}
	lap("network attached")
	if jerr := <-joined; jerr != nil && err == nil {
		err = fmt.Errorf("container %s: join cgroup: %w", r.Name, jerr)
	}
	if rerr := <-ready; rerr != nil {
		err = fmt.Errorf("container %s: %w", r.Name, rerr) // the cause of any other failure
	}
	if err != nil {
		return abort(err)
	}
	lap("cgroup+network+attach")
	started := time.Now().UTC()
	e.store.Lock()
	c.shim = shim
	c.exited, c.cleaned = make(chan struct{}), make(chan struct{})
	settled = c.cleaned
	c.wakeRuns()
	if r.Conf.AutoRemove {
		// The refill (a shim's start and a cgroup's making, a CPU's worth) comes once the
		// client waiting for the removal has its answer, not ahead of it (on 2 CPUs, a
		// refill begun at the removal held a foreground run's answer up by 0.5-1.5 ms);
		// with no one waiting, once the container has run for the pool's grace period.
		c.answered = make(chan struct{})
		settled = c.answered
	}
	e.store.Unlock()
	e.markRunning(c, shim.PID(), started, sn)
	if sn.Wired() {
		// The name table is written while the workload is let go, and before the answer:
		// a name resolves once its container's start has returned, as before.
		published := make(chan struct{})
		go func() { e.namesChanged(); close(published) }()
		defer func() { <-published }()
	}
	lap("record")
	if snap := e.snapshot(c); true {
		e.containerEvent(&snap, "start", nil)
	}
	go e.monitor(c, shim)
	defer lap("resumed")
	if err := shim.Resume(ctx); err != nil {
		var se *shimclient.StartError
		if errors.As(err, &se) && se.Code != 0 {
			<-c.exited // the monitor records the exit (126/127)
			return &errdefs.StartFailed{Code: se.Code, Msg: se.Msg}
		}
		shim.Signal(syscall.SIGKILL)
		<-c.exited
		return fmt.Errorf("container %s: start workload: %w", r.Name, err)
	}
	e.startHealth(c)
	e.Log.Info("container started", "id", r.ID[:12], "pid", shim.PID())
	return nil
}

// settleWait bounds how long a start's end holds the warm pool's refill and the trash's
// deletions back.
const settleWait = 100 * time.Millisecond

// startShim starts s's shim and init, or hands s to the warm shim ws (nil: none): then
// init is in s's cgroup before it reads s (inCgroup).
func (e *Engine) startShim(ctx context.Context, s *spec.Spec, ws *warmpool.Pair[*shimclient.Warm]) (shim *shimclient.Container, inCgroup bool, err error) {
	if ws != nil {
		err = e.warm.Place(ws, s)
		if err != nil {
			e.warm.Discard(ws)
		}
	} else {
		err = e.cg.Create(s.CgroupPath, s.Resources)
	}
	if err != nil {
		return nil, false, fmt.Errorf("cgroup: %w", err)
	}
	if s.Privileged {
		e.cg.AllowAllDevices(s.CgroupPath)
	}
	if ws != nil {
		shim, err = ws.Shim().Start(ctx, s)
		return shim, true, err
	}
	shim, err = shimclient.Start(ctx, s, shimclient.StartOptions{Log: e.Log})
	return shim, s.InitInCgroup, err
}

// threadsJoinCgroups reports whether a shim can clone init into its cgroup from a thread
// that joined it (cgroup.V1.JoinThread).
func threadsJoinCgroups(cg cgroup.Manager) bool {
	j, ok := cg.(interface{ ThreadsCanJoin() bool })
	return ok && j.ThreadsCanJoin()
}

// containerLayerDirs unpacks (or lazily mounts) the record's layers: top first.
func (e *Engine) containerLayerDirs(ctx context.Context, r *Record) ([]string, error) {
	dirs := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		var (
			d   string
			err error
		)
		if r.Lazy {
			d, err = e.imageService.LazyLayerDir(ctx, l)
		} else {
			d, err = e.Images.Unpack(ctx, l)
		}
		if err != nil {
			return nil, err
		}
		dirs[len(dirs)-1-i] = d
	}
	if len(dirs) == 0 {
		// An image without layers (scratch): an empty lower directory.
		empty := filepath.Join(e.Root, "extracted", "empty")
		os.MkdirAll(empty, 0o755)
		dirs = []string{empty}
	}
	return dirs, nil
}

// writeEtcFiles writes the container's hosts, resolv.conf and hostname into its directory
// (netsvc.WriteEtcFiles).
func (e *Engine) writeEtcFiles(r *Record, s *spec.Spec, addr netip.Addr) error {
	req := netsvc.EtcRequest{ID: r.ID, Name: r.Name, Hostname: s.Hostname, Mode: r.Conf.Network, Addr: addr,
		Endpoints: r.Endpoints, Dir: e.ctrDir(r.ID), ExtraHosts: r.Conf.ExtraHosts,
		DNS: r.Conf.DNS, DNSSearch: r.Conf.DNSSearch, DNSOption: r.Conf.DNSOption}
	if target, ok := strings.CutPrefix(r.Conf.Network, "container:"); ok {
		c, err := e.lookup(target)
		if err != nil {
			return err
		}
		req.SharedDir = e.ctrDir(e.snapshot(c).ID)
	}
	f := netsvc.EtcFiles{Hosts: s.HostsPath, Resolv: s.ResolvPath, Hostname: s.HostnamePath}
	err := e.nets.WriteEtcFiles(req, &f)
	s.HostsPath, s.ResolvPath = f.Hosts, f.Resolv
	return err
}

// monitor waits for the workload's end and records it.
func (e *Engine) monitor(c *ctr, shim *shimclient.Container) {
	ex, reaped, err := shim.WaitReaped(context.Background())
	r := e.snapshot(c)
	if err != nil {
		if rex, rerr := shimclient.ReadExit(e.ctrDir(r.ID)); rerr == nil {
			ex, err = rex, nil
		}
	}
	if err != nil {
		e.Log.Warn("container shim lost", "id", r.ID[:12], "err", err)
		ex = &shimclient.Exit{ExitCode: 255, FinishedAt: time.Now().UTC()}
	}
	e.finishRun(c, ex, reaped, err)
}

// reapWait bounds the wait for a shim to report init reaped.
const reapWait = 5 * time.Second

// finishRun records the run's end, then cleans up: at once when reaped yields true (the
// container's processes and namespaces are gone), else after its cgroup could be removed.
func (e *Engine) finishRun(c *ctr, ex *shimclient.Exit, reaped <-chan bool, lost error) {
	r := e.snapshot(c)
	// The veths' removals go first: the kernel takes milliseconds to unlist them, which
	// the cleanup below waits for, and nothing of the workload uses them any more. Begun
	// aside: a network's Manager busy with another container must not hold the exit's
	// record up.
	endNet := make(chan func(), 1)
	go func() {
		endNet <- e.nets.EndRun(&netsvc.Container{ID: r.ID, Mode: r.Conf.Network, Bridge: r.Bridge, Endpoints: r.Endpoints})
	}()
	c.health.Stop()
	ranFor := ex.FinishedAt.Sub(r.StartedAt)
	exited := func(rec *Record) {
		if err := moveTo(rec, StatusExited); err != nil {
			e.Log.Error("refused status change", "id", r.ID[:12], "err", err)
		}
		rec.PID = 0
		rec.ExitCode, rec.OOMKilled, rec.FinishedAt = ex.ExitCode, ex.OOMKilled, ex.FinishedAt
		if lost != nil {
			rec.Error = "shim lost"
		}
	}
	if r.Conf.AutoRemove {
		// Not saved: the removal a moment later is (a daemon that dies in between finds
		// the shim gone and removes the container at start).
		e.store.Change(func() { exited(c.rec) })
	} else {
		e.update(c, exited)
	}
	// Waiters learn the exit first; the cleanup follows, and what needs it done (rm, the
	// next start) waits for cleaned.
	e.store.Lock()
	c.shim = nil
	close(c.exited)
	cleaned := c.cleaned
	e.store.Unlock()
	e.Log.Info("container exited", "id", r.ID[:12], "exit_code", ex.ExitCode, "oom_killed", ex.OOMKilled)
	if ex.OOMKilled {
		e.containerEvent(&r, "oom", nil)
	}
	e.containerEvent(&r, "die", map[string]string{"exitCode": strconv.Itoa(ex.ExitCode)})
	// The veths are waited for (and the name table, now without the container, written
	// meanwhile), while the rest is cleaned up.
	netDone := make(chan struct{})
	go func() {
		defer close(netDone)
		(<-endNet)()
	}()
	t := time.Now()
	dir := e.ctrDir(r.ID)
	var early chan error
	if r.Conf.AutoRemove {
		// A --rm container's directory goes once its processes are gone; the check that
		// nothing of it is mounted here is made while init tears its namespaces down.
		early = make(chan error, 1)
		go func() { early <- rundir.DetachMountsUnder(dir) }()
	}
	gone := false
	select {
	case gone = <-reaped:
	case <-time.After(reapWait):
	}
	reapedAfter := time.Since(t)
	e.killLeftovers(&r)
	runspec.UnmountShm(dir)
	cgDone := make(chan struct{})
	var cgErr error
	go func() { cgErr = e.cg.Remove(cgroupPath(r.ID)); close(cgDone) }()
	if !gone {
		// Without the shim's word, the cgroup's removal (retried while tasks exit) is what
		// says no process is left to use the mounts in the directory.
		<-cgDone
	}
	// A --rm container's whole directory goes now, alongside its cgroup: moved away at
	// once, deleted in the background (rundir.Trash).
	dirGone := false
	if early != nil {
		if <-early == nil {
			dirGone = e.trash.DiscardUnmounted(dir) == nil
		}
	} else {
		shimclient.Cleanup(dir)
	}
	<-cgDone
	if cgErr != nil {
		e.Log.Warn("remove cgroup", "id", r.ID[:12], "err", cgErr)
	}
	<-netDone
	close(cleaned)
	e.Log.Debug("run cleaned up", "id", r.ID[:12], "reaped", gone, "reaped_after", reapedAfter, "took", time.Since(t))
	if r.Conf.AutoRemove {
		go e.remove(context.Background(), c, true, true, dirGone && cgErr == nil)
		return
	}
	r = e.snapshot(c)
	e.maybeRestart(c, &r, ranFor)
}

// waitCleaned waits for the cleanup of the container's last run.
func (e *Engine) waitCleaned(c *ctr) {
	e.store.RLock()
	cl := c.cleaned
	e.store.RUnlock()
	if cl != nil {
		<-cl
	}
}

// maybeRestart applies the restart policy (pkg/engine/restartpolicy) to a run that ended.
func (e *Engine) maybeRestart(c *ctr, r *Record, ranFor time.Duration) {
	restart := restartpolicy.AfterExit(r.Conf.Restart, policyRun(r))
	e.store.Lock()
	defer e.store.Unlock()
	if !restart || e.stopping || c.removed != nil {
		return
	}
	if err := moveTo(c.rec, StatusRestarting); err != nil {
		e.Log.Error("restart policy", "id", r.ID[:12], "err", err)
		return
	}
	c.rec.RestartCount++
	e.store.ChangedLocked()
	c.restart.Schedule(ranFor, func() {
		if err := e.startContainer(context.Background(), c, nil); err != nil {
			e.Log.Warn("restart policy: start failed", "id", r.ID[:12], "err", err)
			e.store.Lock()
			if c.shim == nil && c.rec.Status == StatusRestarting {
				moveTo(c.rec, StatusExited) // allowed from restarting
				c.wakeRuns()
			}
			e.store.Unlock()
			e.store.SaveSoon()
		}
	})
	e.store.SaveSoon()
}

func policyRun(r *Record) restartpolicy.Run {
	return restartpolicy.Run{UserStopped: r.UserStopped, ExitCode: r.ExitCode, RestartCount: r.RestartCount}
}

// cancelRestart stops a pending restart-policy restart and says whether there was one.
// It is set under the store's lock (a short back-off may fire before its setter returns),
// so it is cleared under it too.
func (e *Engine) cancelRestart(c *ctr) bool {
	e.store.Lock()
	defer e.store.Unlock()
	return c.restart.Cancel()
}

// StopContainer sends the stop signal, then SIGKILL after timeout (nil: the container's
// --stop-timeout, else 10 s). A container that is not running is a success.
func (e *Engine) StopContainer(ctx context.Context, ref string, timeout *time.Duration) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	return e.stopContainer(ctx, c, timeout)
}

func (e *Engine) stopContainer(ctx context.Context, c *ctr, timeout *time.Duration) error {
	c.op.Lock()
	defer c.op.Unlock()
	e.update(c, func(r *Record) { r.UserStopped = true })
	if e.cancelRestart(c) {
		e.update(c, func(r *Record) {
			if r.Status == StatusRestarting {
				moveTo(r, StatusExited) // allowed from restarting
				c.wakeRuns()
			}
		})
	}
	r := e.snapshot(c)
	shim, exited := c.shim, c.exited
	if shim == nil {
		return nil
	}
	t := defaultStopTimeout
	if r.Conf.StopTimeout != nil {
		t = time.Duration(*r.Conf.StopTimeout) * time.Second
	}
	if timeout != nil {
		t = *timeout
	}
	sig, err := signals.Parse(runspec.StopSignal(&r.Conf, &r.Config))
	if err != nil {
		sig = syscall.SIGTERM
	}
	if t > 0 {
		shim.Signal(sig)
		e.thawIfPaused(c)
		select {
		case <-exited:
			return nil
		case <-time.After(t):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	shim.Signal(syscall.SIGKILL)
	return e.awaitKilled(c, &r, exited)
}

// awaitKilled follows a SIGKILL sent to c's shim: the processes that left its cgroup are
// killed too, a paused container thawed so that it can die, and the run's end waited for.
func (e *Engine) awaitKilled(c *ctr, r *Record, exited <-chan struct{}) error {
	e.killLeftovers(r)
	e.thawIfPaused(c)
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("container %s did not exit 30 s after SIGKILL", r.Name)
	}
}

func (e *Engine) thawIfPaused(c *ctr) {
	if e.snapshot(c).Status == StatusPaused {
		e.cg.Thaw(cgroupPath(c.rec.ID))
		e.update(c, func(r *Record) {
			if r.Status == StatusPaused {
				moveTo(r, StatusRunning) // allowed from paused
			}
		})
	}
}

// KillContainer sends a signal (default SIGKILL) to a running container.
func (e *Engine) KillContainer(ref, signal string) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	if signal == "" {
		signal = "KILL"
	}
	sig, err := signals.Parse(signal)
	if err != nil {
		return err
	}
	e.store.RLock()
	shim, exited := c.shim, c.exited
	r := *c.rec
	e.store.RUnlock()
	if shim == nil {
		return &StateError{Name: r.Name, Status: r.Status, Op: OpKill}
	}
	if err := allow(&r, OpKill); err != nil {
		return err
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		e.update(c, func(r *Record) { r.UserStopped = true })
	}
	if err := shim.Signal(sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		// As Docker's kill does: once it answers, the container is no longer running, so
		// an rm right after it is not refused.
		return e.awaitKilled(c, &r, exited)
	}
	return nil
}

// RestartContainer stops then starts.
func (e *Engine) RestartContainer(ctx context.Context, ref string, timeout *time.Duration) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	if err := e.stopContainer(ctx, c, timeout); err != nil {
		return err
	}
	e.update(c, func(r *Record) { r.UserStopped = false })
	return e.startContainer(ctx, c, nil)
}

// PauseContainer freezes a running container; UnpauseContainer thaws it.
func (e *Engine) PauseContainer(ref string, pause bool) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	r := e.snapshot(c)
	op, to := OpUnpause, StatusRunning
	if pause {
		op, to = OpPause, StatusPaused
	}
	if err := allow(&r, op); err != nil {
		return err
	}
	if pause {
		if err := e.cg.Freeze(cgroupPath(r.ID)); err != nil {
			return err
		}
	} else if err := e.cg.Thaw(cgroupPath(r.ID)); err != nil {
		return err
	}
	e.setStatus(c, to, nil)
	e.containerEvent(&r, map[bool]string{true: "pause", false: "unpause"}[pause], nil)
	return nil
}

// RenameContainer gives a container a new unique name.
func (e *Engine) RenameContainer(ref, name string) error {
	name = strings.TrimPrefix(name, "/")
	if !ctrconfig.ValidName(name) {
		return errdefs.Invalid(fmt.Sprintf("invalid container name %q: %s", name, ctrconfig.NameRule))
	}
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	other, err := e.store.Rename(c.rec, name)
	if other != "" {
		return errdefs.Conflict(fmt.Sprintf("container name %q is already in use by container %s", name, short12(other)))
	}
	e.namesChanged()
	r := e.snapshot(c)
	e.containerEvent(&r, "rename", nil)
	return err
}

// RemoveContainer deletes a container; a running one needs force (it is killed). With
// volumes its anonymous volumes go too; named volumes never.
func (e *Engine) RemoveContainer(ctx context.Context, ref string, force, volumes bool) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	return e.removeContainer(ctx, c, force, volumes)
}

func (e *Engine) removeContainer(ctx context.Context, c *ctr, force, volumes bool) error {
	r := e.snapshot(c)
	err := e.remove(ctx, c, force, volumes, false)
	if err == nil {
		e.containerEvent(&r, "destroy", nil)
	}
	return err
}

// remove is removeContainer; filesGone: the run's cleanup already removed the directory and
// the cgroup (--rm).
func (e *Engine) remove(ctx context.Context, c *ctr, force, volumes, filesGone bool) error {
	c.op.Lock()
	defer c.op.Unlock()
	if c.removed != nil {
		return nil
	}
	r := e.snapshot(c)
	e.cancelRestart(c)
	if shim, exited := c.shim, c.exited; shim != nil {
		if !force {
			return &StateError{Name: r.Name, Status: r.Status, Op: OpRemove}
		}
		shim.Signal(syscall.SIGKILL)
		if err := e.awaitKilled(c, &r, exited); err != nil {
			return err
		}
		r = e.snapshot(c)
	}
	e.waitCleaned(c)
	dir := e.ctrDir(r.ID)
	if _, err := os.Lstat(dir); err == nil || !filesGone { // (a start since then made it again)
		if err := e.trash.Discard(dir); err != nil {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		e.cg.Remove(cgroupPath(r.ID))
	}
	// The exit is kept before the container leaves the store: a wait that finds no
	// container must find its exit (run --rm's client asks once its stream ended).
	e.recent.Store(r.ID, &WaitResult{ExitCode: r.ExitCode, OOMKilled: r.OOMKilled})
	time.AfterFunc(recentKeep, func() { e.recent.Delete(r.ID) })
	e.store.Delete(r.ID, func() {
		c.removed = make(chan struct{})
		close(c.removed)
		if c.gone != nil {
			close(c.gone)
		}
	})
	e.stats.Forget(r.ID)
	if volumes {
		e.vols.Discard(r.AnonVolumes)
	}
	e.Log.Info("container removed", "id", r.ID[:12])
	return nil
}

// WaitResult is how a container's run ended.
type WaitResult struct {
	ExitCode  int
	OOMKilled bool
	Error     string
}

// WaitContainer waits for a condition: not-running (default), next-exit or removed.
func (e *Engine) WaitContainer(ctx context.Context, ref, condition string) (*WaitResult, error) {
	c, err := e.lookup(ref)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			if v, ok := e.recentExit(ref); ok {
				return v, nil
			}
		}
		return nil, err
	}
	switch condition {
	case "", "not-running":
	case "next-exit":
		for {
			e.store.Lock()
			exited, removed, running := c.exited, c.removed, c.shim != nil
			status := c.rec.Status
			// A container that already ran and stopped answers with that exit (a client
			// that started it just before asking must not wait forever); one never
			// started, or restarting, is waited for: its next start wakes this wait.
			if removed != nil || !running && status == StatusExited {
				e.store.Unlock()
				break
			}
			if running {
				e.store.Unlock()
				select {
				case <-exited:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				break
			}
			if c.runs == nil {
				c.runs = make(chan struct{})
			}
			runs := c.runs
			e.store.Unlock()
			select {
			case <-runs:
			case <-e.goneCh(c):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	case "removed":
		select {
		case <-e.goneCh(c):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		e.store.Lock()
		if c.answered != nil {
			close(c.answered)
			c.answered = nil
		}
		e.store.Unlock()
	default:
		return nil, errdefs.Invalid(fmt.Sprintf("wait condition %q: expected not-running, next-exit or removed", condition))
	}
	e.store.RLock()
	exited := c.exited
	e.store.RUnlock()
	if exited != nil && condition != "removed" {
		select {
		case <-exited:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r := e.snapshot(c)
	res := &WaitResult{ExitCode: r.ExitCode, OOMKilled: r.OOMKilled}
	if r.Error != "" {
		res.Error = r.Error
	}
	return res, nil
}

func (e *Engine) recentExit(ref string) (*WaitResult, bool) {
	if v, ok := e.recent.Load(ref); ok {
		return v.(*WaitResult), true
	}
	var found *WaitResult
	if ctrstore.IsIDPrefix(ref) {
		e.recent.Range(func(k, v any) bool {
			if strings.HasPrefix(k.(string), ref) {
				found = v.(*WaitResult)
				return false
			}
			return true
		})
	}
	return found, found != nil
}
