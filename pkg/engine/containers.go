package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/engine/warmpool"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/hostprobe"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/shimclient"
)

// Record is one container as state.json keeps it.
type Record struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Image       string               `json:"image"`      // as the user named it
	ImageName   string               `json:"image_name"` // normalised reference, if any
	ImageID     string               `json:"image_id"`   // config digest
	ImageDigest string               `json:"image_digest"`
	Layers      []ocispec.Descriptor `json:"layers"` // bottom first
	// Schema is the version of Conf (ctrconfig.SchemaVersion). A record of schema 0 was
	// written before Conf existed: it holds the API's create request in Legacy instead,
	// and is migrated once at load.
	Schema  int              `json:"schema,omitempty"`
	Conf    ctrconfig.Config `json:"config"`
	Legacy  json.RawMessage  `json:"request,omitempty"`
	Args    []string         `json:"args"` // entrypoint + command, resolved at create
	Created time.Time        `json:"created_at"`

	Status       string         `json:"status"`
	PID          int            `json:"pid,omitempty"`
	StartedAt    time.Time      `json:"started_at,omitzero"`
	FinishedAt   time.Time      `json:"finished_at,omitzero"`
	ExitCode     int            `json:"exit_code"`
	OOMKilled    bool           `json:"oom_killed,omitempty"`
	Error        string         `json:"error,omitempty"`
	IP           string         `json:"ip,omitempty"`
	Ports        []network.Port `json:"ports,omitempty"`
	RestartCount int            `json:"restart_count,omitempty"`
	UserStopped  bool           `json:"user_stopped,omitempty"`
	AnonVolumes  []string       `json:"anon_volumes,omitempty"`
	// Endpoints are the container's user-defined networks, in the order of their
	// interfaces.
	Endpoints []EndpointRecord `json:"endpoints,omitempty"`
	// Bridge is the default bridge joined after the create by a container of a
	// user-defined network (docker network connect bridge): one more interface, never
	// the primary one. Replaced whole, never changed in place (snapshots share it).
	Bridge *EndpointRecord `json:"bridge,omitempty"`
	Lazy   bool            `json:"lazy,omitempty"`
	// Config is the image's config at create: the container keeps working if the image
	// is removed.
	Config ocispec.ImageConfig `json:"image_config"`
	Mounts []MountRecord       `json:"mounts,omitempty"`
	// ImageHealth is the image's HEALTHCHECK (Docker's config extension).
	ImageHealth *ctrconfig.Healthcheck `json:"image_health,omitempty"`
}

// ctr is a container in memory: its record (guarded by e.cmu) and live handles.
type ctr struct {
	op   sync.Mutex // serialises start, stop, remove of this container
	rec  *Record
	shim *shimclient.Container // nil unless running or paused
	// exited is closed when the current run ends (nil when not running); cleaned once
	// its cgroup, veth and socket are gone.
	exited  chan struct{}
	cleaned chan struct{}
	health  *health.Checker
	restart *time.Timer // a pending restart-policy restart
	backoff time.Duration
	removed chan struct{} // closed once the container is removed
	gone    chan struct{} // made by waiters (goneCh), closed at removal
	// runs is made by a wait for the next exit of a container that is not running, and
	// closed when its next run begins.
	runs chan struct{}
	// ephemeral: a foreground `run --rm`, which lives as long as its client's request.
	// The background saver leaves it out (it comes and goes between two saves); a
	// daemon's last save keeps it, and one that died removes what it left (removeOrphans).
	ephemeral bool
}

type containersArea struct {
	cmu    sync.RWMutex
	ctrs   map[string]*ctr // by full ID
	names  map[string]string
	gen    uint64 // bumped on every change; keys the edges' list caches
	saveMu sync.Mutex
	saved  []byte // the records as last written (saveMu)
	// The last write, when it was a full one (ephemeral records included): the generation
	// it held and its error (saveMu).
	savedFull bool
	savedGen  uint64
	saveErr   error
	saveKick  chan struct{}
	saveDone  chan struct{}
	// saveClosing ends the saver's wait at shutdown.
	saveClosing chan struct{}
	kickMu      sync.Mutex
	cg          cgroup.Manager
	net         *network.Manager
	netMu       sync.Mutex // the network manager is made lazily
	execs       sync.Map   // exec ID -> *execEntry
	recent      sync.Map   // removed ID -> *WaitResult, for a wait that comes late
	stopping    bool
	// refused are the records that failed their migration at load, by ID: saved back
	// unchanged, and their directories are not orphans.
	refused map[string]*Record
	warm    *warmpool.Pool[*shimclient.Warm]
}

// stateDoc is state.json.
type stateDoc struct {
	Containers map[string]*Record `json:"containers"`
}

func (e *Engine) loadContainers() error {
	var doc stateDoc
	migrate, err := e.State.Load(&doc)
	if err != nil {
		return err
	}
	e.ctrs = map[string]*ctr{}
	e.names = map[string]string{}
	e.refused = map[string]*Record{}
	old := 0
	for id, r := range doc.Containers {
		if r == nil || r.ID != id {
			continue
		}
		if r.Schema < ctrconfig.SchemaVersion {
			old++
			if err := e.migrateRecord(r); err != nil {
				// Left out of the containers, but nothing of it is lost: every save writes
				// it back as it was, its directory stays (removeOrphans skips it), and the
				// next start tries again.
				e.Log.Error("container record refused: its configuration does not pass the validator; its record and files are kept",
					"id", id, "name", r.Name, "err", err)
				e.refused[id] = r
				continue
			}
		}
		e.ctrs[id] = &ctr{rec: r}
		e.names[r.Name] = id
	}
	e.saveKick, e.saveDone, e.saveClosing = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go e.saver(e.saveKick) // the field is nil once closed: the saver ranges over its own copy
	if old > 0 {
		// The file as the older daemon wrote it, for a downgrade or a refused record.
		if err := keepOldState(filepath.Join(e.Root, "state.json")); err != nil {
			return err
		}
		e.Log.Info("container records migrated to the current configuration schema", "records", old-len(e.refused),
			"refused", len(e.refused), "schema", ctrconfig.SchemaVersion)
		return e.saveState()
	}
	if migrate {
		e.Log.Info("state.json was plaintext: rewriting it encrypted")
		return e.saveState()
	}
	return nil
}

// migrateRecord gives a record of schema 0 its Config: the create request it holds, run
// through the validator once.
func (e *Engine) migrateRecord(r *Record) error {
	if len(r.Legacy) == 0 {
		return errors.New("the record holds no configuration")
	}
	if e.Cfg.MigrateConfig == nil {
		return errors.New("this daemon cannot read records of schema 0")
	}
	cfg, err := e.Cfg.MigrateConfig(r.Legacy)
	if err != nil {
		return err
	}
	r.Conf, r.Schema, r.Legacy = cfg, ctrconfig.SchemaVersion, nil
	return nil
}

// keepOldState copies state.json to state.json.schema0 (as it is, sealed or not), once:
// a later start keeps the first copy.
func keepOldState(path string) error {
	dst := path + ".schema0"
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, b, 0o600)
}

// saver writes state.json in the background, one write for a burst of changes. Only a
// container's creation waits for its write: every later change can be rebuilt at start
// from the container's own files (a live shim, exit.json, a missing directory).
//
// It waits saveDelay after a change for the ones that follow (a `run --rm` is created,
// started and removed in tens of milliseconds), and writes nothing when the records are
// what it last wrote: every write is an fsync, which the host's disk makes everyone wait
// for.
func (e *Engine) saver(kicks <-chan struct{}) {
	defer close(e.saveDone)
	for range kicks {
		t := time.NewTimer(saveDelay)
		select {
		case <-t.C:
		case <-e.saveClosing:
			t.Stop()
		}
		if err := e.saveIfChanged(); err != nil {
			e.Log.Error("save state", "err", err)
		}
	}
}

// saveDelay is how long the saver gathers changes before it writes.
const saveDelay = 100 * time.Millisecond

func (e *Engine) saveSoon() {
	e.kickMu.Lock()
	defer e.kickMu.Unlock()
	if e.saveKick == nil {
		return // closed: Close writes the final state itself
	}
	select {
	case e.saveKick <- struct{}{}:
	default: // a write is already due and will include this change
	}
}

// saveState writes every record; the snapshot is taken under saveMu so the last write
// always holds the newest state. Callers that change records at once (a compose project's
// creates) share writes: one that waited for saveMu while another wrote a snapshot
// holding its change returns that write's result instead of writing (and fsyncing) again.
func (e *Engine) saveState() error {
	e.cmu.RLock()
	want := e.gen
	e.cmu.RUnlock()
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	if e.savedFull && e.savedGen >= want {
		return e.saveErr
	}
	return e.saveLocked(false)
}

// saveIfChanged is the background saver's: the records but ephemeral ones, not written
// when they are what it last wrote.
func (e *Engine) saveIfChanged() error { return e.save(true) }

func (e *Engine) save(background bool) error {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	return e.saveLocked(background)
}

func (e *Engine) saveLocked(background bool) (err error) {
	e.cmu.RLock()
	gen := e.gen
	doc := stateDoc{Containers: make(map[string]*Record, len(e.ctrs)+len(e.refused))}
	for id, r := range e.refused {
		doc.Containers[id] = r
	}
	for id, c := range e.ctrs {
		if background && c.ephemeral {
			continue
		}
		doc.Containers[id] = c.rec
	}
	b, err := json.Marshal(doc)
	e.cmu.RUnlock()
	if err != nil {
		return err
	}
	if background && bytes.Equal(b, e.saved) {
		return nil
	}
	err = e.State.SaveRaw(b)
	if background {
		e.savedFull = e.savedFull && err != nil // a background write leaves ephemeral records out
	} else {
		e.savedFull, e.savedGen, e.saveErr = true, gen, err
	}
	if err != nil {
		return err
	}
	e.saved = b
	return nil
}

// update changes a record under the lock, bumps the generation and has it persisted soon.
func (e *Engine) update(c *ctr, fn func(r *Record)) error {
	e.cmu.Lock()
	fn(c.rec)
	e.gen++
	e.cmu.Unlock()
	e.saveSoon()
	return nil
}

func (e *Engine) touch() {
	e.cmu.Lock()
	e.gen++
	e.cmu.Unlock()
}

// snapshot copies a record for reading outside the lock.
func (e *Engine) snapshot(c *ctr) Record {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	return *c.rec
}

var idRe = lazyre.New(`^[0-9a-f]{1,64}$`)

// lookup finds a container by exact name, full ID or unique ID prefix.
func (e *Engine) lookup(ref string) (*ctr, error) {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil, errdefs.Invalid("a container ID or name is required")
	}
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	if id, ok := e.names[ref]; ok {
		return e.ctrs[id], nil
	}
	if c, ok := e.ctrs[ref]; ok {
		return c, nil
	}
	if idRe.MatchString(ref) {
		var found *ctr
		for id, c := range e.ctrs {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return nil, errdefs.Conflict(fmt.Sprintf("container ID prefix %q is ambiguous; give more characters", ref))
				}
				found = c
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, errdefs.NotFound(fmt.Sprintf("no such container: %s", ref))
}

// wakeRuns wakes the waits for a next exit: a run began, or a pending restart was
// called off (e.cmu held).
func (c *ctr) wakeRuns() {
	if c.runs != nil {
		close(c.runs)
		c.runs = nil
	}
}

// goneCh is closed when the container is removed.
func (e *Engine) goneCh(c *ctr) <-chan struct{} {
	e.cmu.Lock()
	defer e.cmu.Unlock()
	if c.gone == nil {
		c.gone = make(chan struct{})
		if c.removed != nil {
			close(c.gone)
		}
	}
	return c.gone
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *Engine) ctrDir(id string) string { return filepath.Join(e.Root, "containers", id) }

// ContainerLayerDigests is every layer a container (running or stopped) uses: prune keeps them.
func (e *Engine) ContainerLayerDigests() (map[digest.Digest]bool, error) {
	used := map[digest.Digest]bool{}
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	for _, c := range e.ctrs {
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
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	var names []string
	for _, c := range e.ctrs {
		if c.rec.ImageID == id.String() {
			names = append(names, c.rec.Name)
		}
	}
	sort.Strings(names)
	return names
}

func (e *Engine) countContainers(info *Info) {
	e.cmu.RLock()
	for _, c := range e.ctrs {
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
	e.cmu.RUnlock()
	if e.Images != nil {
		if imgs, err := e.Images.List(); err == nil {
			info.Images = len(imgs)
		}
	}
}

// netManager returns the network manager, creating it (and the bridge) when first needed.
func (e *Engine) netManager(ctx context.Context, bridge bool) (*network.Manager, error) {
	e.netMu.Lock()
	defer e.netMu.Unlock()
	if e.net == nil {
		m, err := network.New(network.Config{Subnet: e.Cfg.BridgeSubnet, APIPort: apiPort(e.Cfg.HTTPAddr)}, e.Log.With("area", "network"))
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		e.net = m
	}
	// Once set up, each start need not check it all again (~5 ms of netlink and nftables
	// round trips): Attach finds a missing or downed bridge and redoes the setup.
	if bridge && !e.net.Ready() {
		if err := e.net.ClaimSubnet(e.Root); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
		if err := e.net.EnsureBridge(ctx); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
	}
	return e.net, nil
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
	// The sealed copy of the binary that inits run from (~20 ms for a large binary) is
	// made now, off the first run's path.
	go func() {
		if err := shimclient.Prepare(); err != nil {
			e.Log.Warn("sealed copy of the binary", "err", err)
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
		if bridge, err = e.netManager(ctx, false); err != nil {
			return err
		}
		if err := bridge.ClaimSubnet(e.Root); err != nil {
			return fmt.Errorf("MINIBOX_BRIDGE_SUBNET: %w", err)
		}
		running = e.adoptLive(bridge, "", running)
	} else {
		// A daemon of this root killed with nothing on the bridge left its address, rules
		// and claim there: they go now (a file read when there is nothing to find).
		e.releaseBridge(ctx)
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
		e.cmu.Lock()
		delete(e.ctrs, r.ID)
		if e.names[r.Name] == r.ID {
			delete(e.names, r.Name)
		}
		e.gen++
		e.cmu.Unlock()
		e.saveSoon()
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
		} else if e.shouldRestartAtBoot(&r) {
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
	} else if e.shouldRestartAtBoot(&r) {
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
		e.cmu.RLock()
		c := e.ctrs[ep.ID]
		e.cmu.RUnlock()
		if c == nil {
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

func (e *Engine) allContainers() []*ctr {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	out := make([]*ctr, 0, len(e.ctrs))
	for _, c := range e.ctrs {
		out = append(out, c)
	}
	return out
}

// closeContainers stops health probes and restart timers; containers keep running.
func (e *Engine) closeContainers() {
	e.cmu.Lock()
	e.stopping = true
	for _, c := range e.ctrs {
		if c.restart != nil {
			c.restart.Stop()
		}
		c.health.Stop()
	}
	e.cmu.Unlock()
	e.warm.Close()
	close(e.saveClosing)
	e.kickMu.Lock()
	close(e.saveKick)
	e.saveKick = nil
	e.kickMu.Unlock()
	<-e.saveDone
	if err := e.saveState(); err != nil {
		e.Log.Error("save state", "err", err)
	}
	e.nets.Close()
	e.releaseBridge(context.Background())
	e.netMu.Lock()
	if e.net != nil {
		e.net.Close()
	}
	e.netMu.Unlock()
}

// bridgeInUse reports whether a container of this root is (or is being) on the default
// bridge: running, paused or restarting.
func (e *Engine) bridgeInUse() bool {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	for _, c := range e.ctrs {
		if c.rec.Conf.Network != "bridge" {
			continue
		}
		switch c.rec.Status {
		case StatusRunning, StatusPaused, StatusRestarting:
			return true
		}
		if c.shim != nil {
			return true
		}
	}
	return false
}

// releaseBridge takes this root's address, rules and claim off the shared default bridge
// when no container of the root is on it (at shutdown, at a start after a kill, at
// `system prune`). A later start on the bridge sets them up again.
func (e *Engine) releaseBridge(ctx context.Context) {
	// Only a subnet claimed for this root: the same subnet may be another root's, if this
	// daemon never set its bridge up (claims are made then).
	if network.ClaimedBy(e.Cfg.BridgeSubnet) != e.Root || e.bridgeInUse() {
		return
	}
	m, err := e.netManager(ctx, false)
	if err != nil {
		e.Log.Warn("release default bridge", "err", err)
		return
	}
	if err := m.ReleaseSubnet(e.Root); err != nil {
		e.Log.Warn("release default bridge", "err", err)
		return
	}
	e.Log.Info("default bridge released", "subnet", e.Cfg.BridgeSubnet.String())
	e.namesChanged()
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
		e.cmu.RLock()
		_, known := e.ctrs[id]
		known = known || e.refused[id] != nil
		e.cmu.RUnlock()
		if known || !ent.IsDir() || len(id) != 64 {
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
		if err := removeRunDir(dir); err != nil {
			e.Log.Warn("remove orphan container", "id", id[:12], "err", err)
			continue
		}
		// --rm takes its anonymous volumes along; only its config.json still names them.
		e.vols.Discard(anon)
		e.Log.Info("removed a container without a record (a run --rm cut short)", "id", id[:12], "volumes", len(anon))
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
