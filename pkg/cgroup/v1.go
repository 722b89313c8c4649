package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/spec"
)

// v1Controllers are the hierarchies minibox uses, each mounted at <root>/<name> (a
// co-mounted "cpu,cpuacct" is reached through the usual symlinks).
var v1Controllers = []string{"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices"}

// V1 manages cgroups on v1 hierarchies under one root.
type V1 struct {
	root  string
	once  sync.Once
	feats Features
	// mounted: the controllers whose hierarchy is mounted under root, looked up once (a
	// start asked again for each of its calls, some sixty stat(2)s of cgroupfs).
	mountedOnce sync.Once
	mounted     map[string]bool
	// threadsJoin: each hierarchy's cgroup of this process is a directory under root
	// (ThreadsCanJoin), looked up once.
	threadsJoinOnce sync.Once
	threadsJoin     bool
}

// NewV1 manages v1 hierarchies at root/<controller> (a controller whose directory is
// missing is skipped).
func NewV1(root string) *V1 { return &V1{root: root} }

func (m *V1) Version() int { return 1 }

func (m *V1) Features() Features {
	m.once.Do(func() { m.feats = m.probe() })
	return m.feats
}

func (m *V1) has(c string) bool {
	m.mountedOnce.Do(func() {
		m.mounted = map[string]bool{}
		for _, c := range slices.Concat(v1Controllers, v1Known) {
			m.mounted[c] = isDir(filepath.Join(m.root, c))
		}
	})
	if on, known := m.mounted[c]; known {
		return on
	}
	return isDir(filepath.Join(m.root, c))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// dirs maps each present controller to the cgroup's directory in it.
func (m *V1) dirs(path string) (map[string]string, error) {
	rel, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	d := map[string]string{}
	for _, c := range v1Controllers {
		if m.has(c) {
			d[c] = filepath.Join(m.root, c, rel)
		}
	}
	return d, nil
}

// DefaultDevices is Docker's device allowlist: mknod of any node, but read and write only
// of the harmless character devices, the terminals and /dev/net/tun.
var DefaultDevices = []string{
	"c *:* m", "b *:* m",
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", // null zero full random urandom
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", // tty console ptmx pts
	"c 10:200 rwm", // tun
}

func (m *V1) Create(path string, r spec.Resources) error {
	rel, err := checkPath(path)
	if err != nil {
		return err
	}
	for _, c := range v1Controllers {
		if !m.has(c) {
			continue
		}
		var init func(dir, parent string) error
		if c == "cpuset" {
			// A new v1 cpuset has no CPUs or memory nodes, and no task may join it until
			// both are set: inherit the parent's at every level.
			init = func(dir, parent string) error {
				for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
					if cur, _ := read(dir, f); cur != "" {
						continue
					}
					v, err := read(parent, f)
					if err != nil {
						return fmt.Errorf("cgroup %s: read parent %s: %w", path, f, err)
					}
					if err := write(dir, f, v); err != nil {
						return fmt.Errorf("cgroup %s: %w", path, err)
					}
				}
				return nil
			}
		}
		target := rel
		if c == "pids" {
			// Only the pids hierarchy needs the workload apart: in the others it shares
			// the container's cgroup with init, and nothing migrates there.
			target += "/" + WorkloadName
		}
		if err := mkdirs(filepath.Join(m.root, c), target, init); err != nil {
			return fmt.Errorf("create cgroup %s: %w", path, err)
		}
	}
	if m.has("devices") {
		dir := filepath.Join(m.root, "devices", rel)
		if err := write(dir, "devices.deny", "a"); err != nil {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
		for _, d := range DefaultDevices {
			if err := write(dir, "devices.allow", d); err != nil {
				return fmt.Errorf("cgroup %s: %w", path, err)
			}
		}
	}
	return m.Update(path, r)
}

func (m *V1) AllowAllDevices(path string) error {
	d, err := m.dirs(path)
	if err != nil || d["devices"] == "" {
		return err
	}
	if err := write(d["devices"], "devices.allow", "a"); err != nil {
		return fmt.Errorf("cgroup %s: %w", path, err)
	}
	return nil
}

func (m *V1) Update(path string, r spec.Resources) error {
	d, err := m.dirs(path)
	if err != nil {
		return err
	}
	f := m.Features()
	if (r.Memory != 0 || r.MemorySwap != 0) && f.Memory {
		if err := m.memory(d["memory"], path, r, f.MemorySwap); err != nil {
			return err
		}
	}
	for _, w := range v1Writes(r, f) {
		dir := d[w.controller]
		if dir == "" {
			return fmt.Errorf("cgroup %s: %s needs the v1 %s controller, which this host lacks", path, w.file, w.controller)
		}
		if err := write(filepath.Join(dir, w.sub), w.file, w.value); err != nil {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
	}
	return nil
}

// v1Write is one value for one file of a controller's cgroup (or its child sub).
type v1Write struct{ controller, sub, file, value string }

// v1Writes plans the files r sets, memory aside (its order depends on the current
// limits). What the probe found absent is skipped: the create answer has warned of it
// (Features.Warnings), and a start never fails for it.
func v1Writes(r spec.Resources, f Features) []v1Write {
	var ws []v1Write
	add := func(c, file, value string) { ws = append(ws, v1Write{controller: c, file: file, value: value}) }
	if (r.CPUQuota != 0 || r.CPUPeriod != 0) && f.CPUCFS {
		period := r.CPUPeriod
		if period == 0 {
			period = 100000
		}
		// The period first: a quota is checked against the current period.
		add("cpu", "cpu.cfs_period_us", utoa(period))
		if r.CPUQuota != 0 {
			add("cpu", "cpu.cfs_quota_us", itoa(r.CPUQuota))
		}
	}
	if r.CPUShares != 0 && f.CPUShares {
		add("cpu", "cpu.shares", utoa(r.CPUShares))
	}
	if r.CpusetCpus != "" && f.Cpuset {
		add("cpuset", "cpuset.cpus", r.CpusetCpus)
	}
	if r.CpusetMems != "" && f.Cpuset {
		add("cpuset", "cpuset.mems", r.CpusetMems)
	}
	if r.PidsLimit != 0 && f.Pids {
		w := v1Write{controller: "pids", file: "pids.max", value: "max"}
		if r.PidsLimit > 0 {
			w.value = itoa(r.PidsLimit)
		}
		if r.WorkloadApart {
			w.sub = WorkloadName
		}
		ws = append(ws, w)
	}
	if r.MemoryReservation != 0 && f.MemoryReservation {
		add("memory", "memory.soft_limit_in_bytes", itoa(r.MemoryReservation))
	}
	if f.Devices {
		for _, d := range r.Devices {
			add("devices", "devices.allow", d)
		}
	}
	if w := blkioWeight(r); w != 0 && (f.BlkioWeight || f.BlkioBFQWeight) {
		// Kernels with BFQ instead of CFQ name the file blkio.bfq.weight.
		file := "blkio.weight"
		if !f.BlkioWeight {
			file = "blkio.bfq.weight"
		}
		add("blkio", file, utoa(uint64(w)))
	}
	return ws
}

// blkioWeight is the v1 weight (10-1000), converting a v2 io weight (1-10000) when only
// that is given, with the inverse of runc's formula.
func blkioWeight(r spec.Resources) uint16 {
	switch {
	case r.BlkioWeight != 0:
		return r.BlkioWeight
	case r.IOWeight != 0:
		return uint16(10 + (uint64(r.IOWeight)-1)*990/9999)
	}
	return 0
}

// memory sets the limit and memory+swap limit. Unset swap with a memory limit means no
// swap (memsw = memory), where swap is accounted at all. The kernel keeps memsw >= memory
// at every step, so when raising, memsw goes first.
func (m *V1) memory(dir, path string, r spec.Resources, swapAccounted bool) error {
	var writes [][2]string
	if r.Memory != 0 {
		writes = append(writes, [2]string{"memory.limit_in_bytes", itoa(r.Memory)})
	}
	swap := r.MemorySwap
	if swap == 0 && r.Memory > 0 {
		swap = r.Memory
	}
	// Swap accounting (memsw) is a boot-time choice, visible at the hierarchy's root;
	// without it there is no swap limit to set, as Docker warns and goes on.
	if swap != 0 && swapAccounted {
		writes = append(writes, [2]string{"memory.memsw.limit_in_bytes", itoa(swap)})
	}
	apply := func(ws [][2]string) error {
		for _, w := range ws {
			if err := write(dir, w[0], w[1]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := apply(writes); err != nil {
		if len(writes) != 2 || !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
		if err := apply([][2]string{writes[1], writes[0]}); err != nil {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
	}
	return nil
}

func (m *V1) Add(path string, pid int) error {
	d, err := m.dirs(path)
	if err != nil {
		return err
	}
	// The first migration waits for an RCU grace period (the kernel's
	// cgroup_threadgroup_rwsem, ~8 ms here); the ones right after it find the period
	// passed and take ~30 µs. Writers in parallel each wait their own: twice as slow.
	for _, c := range v1Controllers {
		if d[c] == "" {
			continue
		}
		if err := write(d[c], "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("add pid %d to cgroup %s (%s): %w", pid, path, c, err)
		}
	}
	return nil
}

func (m *V1) Workload(path string, limit int64) *spec.WorkloadCgroup {
	d, err := m.dirs(path)
	if err != nil || d["pids"] == "" || !m.Features().Pids {
		return nil
	}
	return &spec.WorkloadCgroup{Version: 1, Dir: filepath.Join(d["pids"], WorkloadName), Parent: d["pids"], Limit: max(limit, 0)}
}

func (m *V1) Rename(from, to string) error {
	src, err := m.dirs(from)
	if err != nil {
		return err
	}
	dst, err := m.dirs(to)
	if err != nil {
		return err
	}
	var done []string
	for _, c := range v1Controllers {
		if src[c] == "" {
			continue
		}
		if err := os.Rename(src[c], dst[c]); err != nil {
			for _, c := range done { // all or nothing: a half-renamed cgroup is two
				os.Rename(dst[c], src[c])
			}
			return fmt.Errorf("rename cgroup %s to %s: %w", from, to, err)
		}
		done = append(done, c)
	}
	return nil
}

func (m *V1) Children(path string) ([]string, error) {
	d, err := m.dirs(path)
	if err != nil {
		return nil, err
	}
	for _, c := range v1Controllers {
		if d[c] != "" {
			return subdirs(d[c])
		}
	}
	return nil, nil
}

func (m *V1) Freeze(path string) error { return m.freezer(path, "FROZEN") }
func (m *V1) Thaw(path string) error   { return m.freezer(path, "THAWED") }

// freezer writes the state and waits for it: FREEZING means some task has not stopped yet,
// and writing FROZEN again retries those.
func (m *V1) Frozen(path string) (bool, error) {
	d, err := m.dirs(path)
	if err != nil {
		return false, err
	}
	if d["freezer"] == "" {
		return false, fmt.Errorf("cgroup %s: no v1 freezer controller", path)
	}
	state, err := read(d["freezer"], "freezer.state")
	return state == "FROZEN" || state == "FREEZING", err
}

func (m *V1) freezer(path, state string) error {
	d, err := m.dirs(path)
	if err != nil {
		return err
	}
	dir := d["freezer"]
	if dir == "" {
		return fmt.Errorf("cgroup %s: pausing needs the v1 freezer controller, which this host lacks", path)
	}
	return poll("cgroup "+path+" "+strings.ToLower(state), 10*time.Second, func() (bool, error) {
		if err := write(dir, "freezer.state", state); err != nil {
			return false, fmt.Errorf("cgroup %s: %w", path, err)
		}
		cur, err := read(dir, "freezer.state")
		return cur == state, err
	})
}

func (m *V1) Stats(path string) (*Stats, error) {
	d, err := m.dirs(path)
	if err != nil {
		return nil, err
	}
	var s Stats
	if dir := d["memory"]; dir != "" {
		usage, err := readUint(dir, "memory.usage_in_bytes")
		if err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		st, err := keyValues(dir, "memory.stat")
		if err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		s.MemoryUsage = usage - min(usage, st["total_inactive_file"])
		l, err := readUint(dir, "memory.limit_in_bytes")
		if err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		s.MemoryLimit = limit(l)
	}
	if dir := d["cpuacct"]; dir != "" {
		ns, err := readUint(dir, "cpuacct.usage")
		if err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		s.CPUUsageUsec = ns / 1000
	}
	if dir := d["pids"]; dir != "" {
		if s.Pids, err = readUint(dir, "pids.current"); err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		if s.PidsLimit, err = readUint(dir, "pids.max"); err != nil {
			return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
		}
		if w := filepath.Join(dir, WorkloadName); exists(w, "pids.current") {
			if s.WorkloadPids, err = readUint(w, "pids.current"); err != nil {
				return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
			}
			if s.WorkloadPidsLimit, err = readUint(w, "pids.max"); err != nil {
				return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
			}
		}
	}
	if dir := d["blkio"]; dir != "" {
		// The throttle files count every bio whatever the I/O scheduler; the CFQ/BFQ ones
		// only exist with that scheduler.
		for _, f := range []string{"blkio.throttle.io_service_bytes_recursive", "blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive"} {
			if !exists(dir, f) {
				continue
			}
			rd, wr, err := blkioBytes(dir, f)
			if err != nil {
				return nil, fmt.Errorf("cgroup %s stats: %w", path, err)
			}
			s.BlockRead, s.BlockWrite = rd, wr
			if rd+wr > 0 {
				break
			}
		}
	}
	return &s, nil
}

// blkioBytes sums "major:minor Read|Write N" lines over devices.
func blkioBytes(dir, file string) (rd, wr uint64, err error) {
	s, err := read(dir, file)
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		switch f[1] {
		case "Read":
			rd += n
		case "Write":
			wr += n
		}
	}
	return rd, wr, nil
}

func (m *V1) OOMKilled(path string) (bool, error) {
	d, err := m.dirs(path)
	if err != nil || d["memory"] == "" {
		return false, err
	}
	kv, err := keyValues(d["memory"], "memory.oom_control")
	if err != nil {
		return false, fmt.Errorf("cgroup %s: %w", path, err)
	}
	return kv["oom_kill"] > 0, nil
}

func (m *V1) Pids(path string) ([]int, error) {
	d, err := m.dirs(path)
	if err != nil {
		return nil, err
	}
	// Any hierarchy holds every task; pids and memory exist wherever containers run.
	for _, c := range []string{"pids", "memory", "freezer", "cpu", "cpuacct", "cpuset", "blkio", "devices"} {
		if d[c] != "" {
			p, err := treePids(d[c])
			if err != nil {
				return nil, fmt.Errorf("cgroup %s: %w", path, err)
			}
			return p, nil
		}
	}
	return nil, fmt.Errorf("cgroup %s: no v1 controller under %s", path, m.root)
}

// rmdirEmpty removes a cgroup whose tasks have all gone and that has no children but, with
// workload, the pids hierarchy's workload child: what a container's run leaves. It reports
// false for anything else, which removeTree then handles (children, tasks still leaving).
// One rmdir each, without reading the directories (a cgroup's holds every control file),
// one after the other: the kernel's cgroup mutex orders them anyway.
func rmdirEmpty(dir string, workload bool) bool {
	if workload {
		if err := syscall.Rmdir(filepath.Join(dir, WorkloadName)); err != nil && !errors.Is(err, syscall.ENOENT) {
			return false
		}
	}
	err := syscall.Rmdir(dir)
	return err == nil || errors.Is(err, syscall.ENOENT)
}

func (m *V1) Remove(path string) error {
	d, err := m.dirs(path)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	errs := make([]error, len(v1Controllers))
	var wg sync.WaitGroup
	for i, c := range v1Controllers {
		if d[c] == "" || rmdirEmpty(d[c], c == "pids") {
			continue
		}
		wg.Add(1)
		go func() { // hierarchies are independent: one slow rmdir does not hold the others
			defer wg.Done()
			errs[i] = RemoveTree(d[c], deadline)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", path, err)
	}
	return nil
}

// ThreadsCanJoin reports whether a thread of this process, or of a process it starts
// without moving it, can JoinThread and leave again: its cgroup in each hierarchy is a
// directory under root (not so in a cgroup namespace rooted elsewhere).
func (m *V1) ThreadsCanJoin() bool {
	m.threadsJoinOnce.Do(func() {
		b, err := os.ReadFile("/proc/self/cgroup")
		if err != nil {
			return
		}
		in := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.SplitN(l, ":", 3); len(f) == 3 {
				for _, c := range strings.Split(f[1], ",") {
					in[c] = f[2]
				}
			}
		}
		for _, c := range v1Controllers {
			if !m.has(c) {
				continue
			}
			p, ok := in[c]
			if !ok {
				return
			}
			if _, err := os.Stat(filepath.Join(m.root, c, p, "tasks")); err != nil {
				return
			}
		}
		m.threadsJoin = true
	})
	return m.threadsJoin
}

// JoinThread moves the calling thread (locked to its goroutine) into path in every
// hierarchy, so that what it forks from then on is born there; leave puts it back where it
// was. A thread that moves itself (it writes "0" to tasks) costs the kernel no threadgroup
// lock, and so none of the RCU grace period a process moved by its PID waits out (Add:
// ~4-8 ms for the first move here).
func (m *V1) JoinThread(path string) (leave func() error, err error) {
	d, err := m.dirs(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	// "N:ctrl[,ctrl...]:/path" per hierarchy: where the thread is now.
	was := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			was[c] = f[2]
		}
	}
	var joined []string
	leave = func() error {
		var errs []error
		for _, c := range joined {
			if err := write(filepath.Join(m.root, c, was[c]), "tasks", "0"); err != nil {
				errs = append(errs, fmt.Errorf("leave cgroup %s (%s): %w", path, c, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, c := range v1Controllers {
		if d[c] == "" {
			continue
		}
		if _, ok := was[c]; !ok {
			return nil, errors.Join(fmt.Errorf("join cgroup %s: this thread is in no %s cgroup to come back to", path, c), leave())
		}
		if err := write(d[c], "tasks", "0"); err != nil {
			return nil, errors.Join(fmt.Errorf("join cgroup %s (%s): %w", path, c, err), leave())
		}
		joined = append(joined, c)
	}
	return leave, nil
}
