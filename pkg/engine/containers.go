package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/engine/restartpolicy"
	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/engine/warmpool"
	"github.com/minibox/minibox/pkg/hostprobe"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/shimclient"
)

// Record is one container as state.json keeps it (pkg/engine/ctrstore).
type Record = ctrstore.Record

// ctr is a container in memory: its record and live handles, guarded by the store's lock.
type ctr struct {
	op   sync.Mutex // serialises start, stop, remove of this container
	rec  *Record
	shim *shimclient.Container // nil unless running or paused
	// exited is closed when the current run ends (nil when not running); cleaned once
	// its cgroup, veth and socket are gone.
	exited  chan struct{}
	cleaned chan struct{}
	health  *health.Checker
	restart restartpolicy.Pending // the restart policy's next restart
	removed chan struct{}         // closed once the container is removed
	gone    chan struct{}         // made by waiters (goneCh), closed at removal
	// answered is closed once a wait for the removal of this run's container (a
	// foreground run --rm) has its answer (made by the start of a --rm run).
	answered chan struct{}
	// runs is made by a wait for the next exit of a container that is not running, and
	// closed when its next run begins.
	runs chan struct{}
}

type containersArea struct {
	// store is the records' table and state.json; its lock guards each ctr's fields too.
	store    *ctrstore.Store[*ctr]
	cg       cgroup.Manager
	recent   sync.Map // removed ID -> *WaitResult, for a wait that comes late
	stopping bool
	warm     *warmpool.Pool[*shimclient.Warm]
	// trash deletes removed container directories and warm pairs' records in the
	// background (rundir.Trash): a removal waits for no disk.
	trash *rundir.Trash
}

// loadContainers opens the records' store: state.json, its old records migrated.
func (e *Engine) loadContainers() error {
	s, err := ctrstore.Open(ctrstore.Config[*ctr]{State: e.State, Path: filepath.Join(e.Root, "state.json"),
		Migrate: e.Cfg.MigrateConfig, Log: e.Log, Wrap: func(r *Record) *ctr { return &ctr{rec: r} }})
	e.store = s
	return err
}

// update changes a record under the lock, bumps the generation and has it persisted soon.
func (e *Engine) update(c *ctr, fn func(r *Record)) error {
	e.store.Update(c.rec, fn)
	return nil
}

// snapshot copies a record for reading outside the lock.
func (e *Engine) snapshot(c *ctr) Record {
	e.store.RLock()
	defer e.store.RUnlock()
	return *c.rec
}

// lookup finds a container by exact name, full ID or unique ID prefix.
func (e *Engine) lookup(ref string) (*ctr, error) { return e.store.Lookup(ref) }

// wakeRuns wakes the waits for a next exit: a run began, or a pending restart was
// called off (the store's lock held).
func (c *ctr) wakeRuns() {
	if c.runs != nil {
		close(c.runs)
		c.runs = nil
	}
}

// goneCh is closed when the container is removed.
func (e *Engine) goneCh(c *ctr) <-chan struct{} {
	e.store.Lock()
	defer e.store.Unlock()
	if c.gone == nil {
		c.gone = make(chan struct{})
		if c.removed != nil {
			close(c.gone)
		}
	}
	return c.gone
}

func newID() string { return ctrstore.NewID() }

func (e *Engine) ctrDir(id string) string { return filepath.Join(e.Root, "containers", id) }

// ContainerLayerDigests is every layer a container (running or stopped) uses: prune keeps them.
func (e *Engine) ContainerLayerDigests() (map[digest.Digest]bool, error) {
	used := map[digest.Digest]bool{}
	e.store.RLock()
	defer e.store.RUnlock()
	for _, c := range e.store.AllLocked() {
		for _, l := range c.rec.Layers {
			used[l.Digest] = true
		}
		if c.rec.ImageID != "" {
			used[digest.Digest(c.rec.ImageID)] = true
		}
	}
	return used, nil
}

// imageUsers names the containers created from the image with config digest id.
func (e *Engine) imageUsers(id digest.Digest) []string {
	e.store.RLock()
	defer e.store.RUnlock()
	var names []string
	for _, c := range e.store.AllLocked() {
		if c.rec.ImageID == id.String() {
			names = append(names, c.rec.Name)
		}
	}
	sort.Strings(names)
	return names
}

func (e *Engine) countContainers(info *Info) {
	e.store.RLock()
	for _, c := range e.store.AllLocked() {
		info.Containers++
		switch c.rec.Status {
		case StatusRunning, StatusRestarting:
			info.ContainersRunning++
		case StatusPaused:
			info.ContainersPaused++
		default:
			info.ContainersStopped++
		}
	}
	e.store.RUnlock()
	if e.Images != nil {
		if imgs, err := e.Images.List(); err == nil {
			info.Images = len(imgs)
		}
	}
}

func apiPort(addr string) int {
	if strings.HasPrefix(addr, "unix:") {
		return 0
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// openContainers reconciles the records with the shims that still live .
func (e *Engine) openContainers(ctx context.Context) error {
	// The sealed executable shims and inits run from (unpacked from the binary, a few ms)
	// is made now, off the first run's path.
	go func() {
		if err := shimclient.Prepare(); err != nil {
			e.Log.Warn("the shim's executable", "err", err)
		}
	}()
	cg, err := cgroup.Open(e.Log.With("area", "cgroup"))
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	e.cg = cg
	t := time.Now()
	e.host = hostprobe.Probe(cg, e.Root)
	e.Log.Debug("host probed", "took", time.Since(t), "host", fmt.Sprintf("%+v", e.host))
	e.openWarm()
	go e.warm.RemoveStale()
	e.removeOrphans(ctx)
	rs := &restoreSet{userRunning: map[string][]network.Endpoint{}}
	for _, c := range e.allContainers() {
		e.restoreContainer(ctx, c, rs)
	}
	running, autoRemove, restart, userRunning := rs.running, rs.autoRemove, rs.restart, rs.userRunning
	var bridge *network.Manager
	if len(running) > 0 || e.Cfg.BridgeOnStartup {
		if bridge, err = e.nets.DefaultBridge(ctx, false); err != nil {
			return err
		}
		if err := bridge.ClaimSubnet(e.Root); err != nil {
			return fmt.Errorf("MINIBOX_BRIDGE_SUBNET: %w", err)
		}
		running = e.adoptLive(bridge, "", running)
	} else {
		// A daemon of this root killed with nothing on the bridge left its address, rules
		// and claim there: they go now (a file read when there is nothing to find).
		e.nets.ReleaseBridge(ctx)
	}
	if err := e.nets.Open(ctx, userRunning, e.adoptLive); err != nil {
		e.Log.Warn("networks", "err", err)
	}
	for _, c := range autoRemove {
		e.removeContainer(ctx, c, true, true)
	}
	if bridge != nil {
		m := bridge
		if err := m.Reconcile(ctx, running); err != nil {
			e.Log.Warn("network reconcile", "err", err)
		}
		if e.Cfg.BridgeOnStartup {
			if err := m.EnsureBridge(ctx); err != nil {
				return fmt.Errorf("bridge: %w", err)
			}
		}
	}
	// The resolver (still running, or started now) gets the table as it is now.
	e.nets.PublishNames()
	for _, c := range restart {
		go func(c *ctr) {
			// An "always" container a user stopped runs again from here, and its policy
			// with it (Docker's): the stop held until this daemon start only.
			e.update(c, func(r *Record) { r.UserStopped = false })
			if err := e.startContainer(context.Background(), c, nil); err != nil {
				e.Log.Warn("restart policy at daemon start", "id", c.rec.ID[:12], "err", err)
			}
		}(c)
	}
	return nil
}

// restoreSet is what openContainers learns from the records and the live shims: the
// endpoints to keep on the default bridge and on each user network, and the containers to
// remove (--rm) or restart (their policy) once the networks are back.
type restoreSet struct {
	running             []network.Endpoint
	userRunning         map[string][]network.Endpoint
	autoRemove, restart []*ctr
}

// restoreContainer reconciles one record with its shim: a live one is reattached, a gone
// one's exit is recorded from exit.json, and a record whose directory is gone is dropped.
func (e *Engine) restoreContainer(ctx context.Context, c *ctr, rs *restoreSet) {
	r := e.snapshot(c)
	if _, err := os.Stat(e.ctrDir(r.ID)); errors.Is(err, fs.ErrNotExist) {
		// Removed, but the daemon stopped before the record's removal was written.
		e.store.Delete(r.ID, nil)
		return
	}
	switch r.Status {
	case StatusRunning, StatusPaused, StatusRestarting:
	case StatusCreated:
		// Started, but the daemon stopped before "running" was written: a live shim
		// (or its exit.json) says so.
		if _, err := os.Stat(filepath.Join(e.ctrDir(r.ID), "shim.sock")); err != nil {
			if _, err := shimclient.ReadExit(e.ctrDir(r.ID)); err != nil {
				return
			}
		}
	default:
		if r.Conf.AutoRemove && r.Status == StatusExited {
			rs.autoRemove = append(rs.autoRemove, c)
		} else if restartpolicy.AtDaemonStart(r.Conf.Restart, policyRun(&r)) {
			rs.restart = append(rs.restart, c)
		}
		return
	}
	shim, err := shimclient.Connect(e.ctrDir(r.ID))
	if err == nil {
		st, serr := shim.State()
		if serr == nil && st.Status == "created" {
			// The daemon died between creating init and letting the workload run:
			// nobody will resume it. It goes, and the container can be started again.
			killShim(ctx, shim, 5*time.Second)
			e.cg.Remove(cgroupPath(r.ID))
			shimclient.Cleanup(e.ctrDir(r.ID))
			os.Remove(filepath.Join(e.ctrDir(r.ID), "exit.json"))
			e.setStatus(c, StatusCreated, func(r *Record) { r.PID = 0 })
			return
		}
		if serr == nil && st.Exit == nil {
			c.shim = shim
			c.exited, c.cleaned = make(chan struct{}), make(chan struct{})
			// Paused is the freezer's word: a pause (or unpause) just before a kill -9
			// may not have reached state.json.
			paused := st.Status == "paused" || r.Status == StatusPaused
			if frozen, ferr := e.cg.Frozen(cgroupPath(r.ID)); ferr == nil {
				paused = frozen
			}
			status := StatusRunning
			if paused {
				status = StatusPaused
			}
			e.setStatus(c, status, func(r *Record) { r.PID = shim.PID() })
			// The record's addresses and ports may lag the start (or be a previous
			// run's): adoptLive takes what the host holds for the container instead.
			for _, ep := range r.Endpoints {
				a, _ := netip.ParseAddr(ep.IP)
				rs.userRunning[ep.NetworkID] = append(rs.userRunning[ep.NetworkID], network.Endpoint{ID: r.ID, PID: shim.PID(), Addr: a, IfName: ep.IfName})
			}
			if r.Conf.Network == "bridge" {
				a, _ := netip.ParseAddr(r.IP)
				rs.running = append(rs.running, network.Endpoint{ID: r.ID, PID: shim.PID(), Addr: a, Ports: r.Ports})
			}
			if b := r.Bridge; b != nil {
				a, _ := netip.ParseAddr(b.IP)
				rs.running = append(rs.running, network.Endpoint{ID: r.ID, PID: shim.PID(), Addr: a, IfName: b.IfName, NoRoute: true})
			}
			go e.monitor(c, shim)
			e.startHealth(c)
			e.Log.Info("container reattached", "id", r.ID[:12], "pid", shim.PID())
			return
		}
	}
	// The shim is gone: its exit.json tells how the workload ended.
	ex, rerr := shimclient.ReadExit(e.ctrDir(r.ID))
	e.setStatus(c, StatusExited, func(r *Record) {
		r.PID = 0
		if rerr == nil {
			r.ExitCode, r.OOMKilled, r.FinishedAt = ex.ExitCode, ex.OOMKilled, ex.FinishedAt
		} else {
			r.ExitCode, r.Error, r.FinishedAt = 255, "shim lost", time.Now().UTC()
		}
	})
	shimclient.Cleanup(e.ctrDir(r.ID))
	e.cg.Remove(cgroupPath(r.ID))
	e.Log.Info("container ended while the daemon was down", "id", r.ID[:12], "exit_code", e.snapshot(c).ExitCode)
	r = e.snapshot(c)
	if r.Conf.AutoRemove {
		rs.autoRemove = append(rs.autoRemove, c)
	} else if restartpolicy.AtDaemonStart(r.Conf.Restart, policyRun(&r)) {
		rs.restart = append(rs.restart, c)
	}
}

// adoptLive puts what the host holds for reattached containers on one network (netID ""
// is the default bridge) into eps and into their records: addresses and published ports.
// An endpoint left without an address (no veth, none recorded) cannot be kept: it is
// dropped, and Reconcile then removes whatever is left of it.
func (e *Engine) adoptLive(m *network.Manager, netID string, eps []network.Endpoint) []network.Endpoint {
	live, err := m.AdoptLive(eps)
	if err != nil {
		e.Log.Warn("read live endpoints", "network", netID, "err", err)
		live = eps
	}
	out := live[:0]
	for _, ep := range live {
		if !ep.Addr.IsValid() {
			e.Log.Warn("a running container has no address to keep", "id", ep.ID[:12], "network", netID)
			continue
		}
		out = append(out, ep)
		c, ok := e.store.Get(ep.ID)
		if !ok {
			continue
		}
		ip := ep.Addr.String()
		r := e.snapshot(c)
		if netID == "" {
			if r.IP != ip || !slices.Equal(r.Ports, ep.Ports) {
				e.update(c, func(rec *Record) { rec.IP, rec.Ports = ip, slices.Clone(ep.Ports) })
			}
			continue
		}
		if i := slices.IndexFunc(r.Endpoints, func(x EndpointRecord) bool { return x.NetworkID == netID }); i >= 0 && r.Endpoints[i].IP != ip {
			e.update(c, func(rec *Record) {
				if i < len(rec.Endpoints) && rec.Endpoints[i].NetworkID == netID {
					rec.Endpoints[i].IP = ip
				}
			})
		}
	}
	return out
}

func (e *Engine) allContainers() []*ctr { return e.store.List() }

// closeContainers stops health probes and restart timers; containers keep running.
func (e *Engine) closeContainers() {
	e.store.Lock()
	e.stopping = true
	for _, c := range e.store.AllLocked() {
		c.restart.Cancel()
		c.health.Stop()
	}
	e.store.Unlock()
	e.warm.Close()
	e.trash.Close(trashWait)
	if err := e.store.Close(); err != nil {
		e.Log.Error("save state", "err", err)
	}
	e.nets.Close()
}

// removeOrphans removes the container directories no record names: a foreground
// `run --rm` whose daemon died before its record reached the disk (createContainer). Its
// client has lost the run already; what it left (a shim, a cgroup, the directory) goes.
func (e *Engine) removeOrphans(ctx context.Context) {
	ents, err := os.ReadDir(e.ctrDir(""))
	if err != nil {
		e.Log.Warn("list containers", "err", err)
		return
	}
	for _, ent := range ents {
		id := ent.Name()
		if e.store.Known(id) || !ent.IsDir() || len(id) != 64 {
			continue
		}
		dir := e.ctrDir(id)
		if shim, err := shimclient.Connect(dir); err == nil {
			killShim(ctx, shim, 5*time.Second)
		}
		if err := e.cg.Remove(cgroupPath(id)); err != nil {
			e.Log.Warn("remove orphan cgroup", "id", id[:12], "err", err)
		}
		anon := e.orphanAnonVolumes(dir)
		if err := rundir.Remove(dir); err != nil {
			e.Log.Warn("remove orphan container", "id", id[:12], "err", err)
			continue
		}
		// The run never answered: its anonymous volumes go with it (only its config.json
		// still names them).
		e.vols.Discard(anon)
		e.Log.Info("removed a container without a record (a run cut short before its answer)", "id", id[:12], "volumes", len(anon))
	}
}

// killShim kills a container (its init, through the shim) and waits up to within for
// its end to be recorded.
func killShim(ctx context.Context, shim *shimclient.Container, within time.Duration) {
	shim.Signal(syscall.SIGKILL)
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	shim.Wait(wctx)
}

func cgroupPath(id string) string { return "minibox/" + id }

// short12 is an ID or digest as shown: 12 hex characters, without "sha256:".
func short12(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
