package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/spec"
)

// V2 manages cgroups in a unified (v2) hierarchy.
type V2 struct {
	root  string
	once  sync.Once
	feats Features
}

// NewV2 manages the unified hierarchy mounted at root.
func NewV2(root string) *V2 { return &V2{root: root} }

func (m *V2) Version() int { return 2 }

func (m *V2) Features() Features {
	m.once.Do(func() { m.feats = m.probe(probeParent) })
	return m.feats
}

// wanted are the controllers minibox enables for its cgroups.
var wanted = []string{"cpuset", "cpu", "io", "memory", "pids"}

func (m *V2) available() []string {
	s, _ := read(m.root, "cgroup.controllers")
	return strings.Fields(s)
}

func (m *V2) dir(path string) (string, error) {
	rel, err := checkPath(path)
	if err != nil {
		return "", err
	}
	return filepath.Join(m.root, rel), nil
}

func (m *V2) Create(path string, r spec.Resources) error {
	dir, err := m.makeParent(path)
	if err != nil {
		return err
	}
	// Devices are a BPF program attached to the cgroup in v2 (attachDevices).
	if err := attachDevices(dir, DefaultDevices); err != nil {
		return fmt.Errorf("cgroup %s: device filter: %w", path, err)
	}
	return m.Update(path, r)
}

// makeParent makes path and its parents, each level's controllers enabled by its parent.
func (m *V2) makeParent(path string) (string, error) {
	rel, err := checkPath(path)
	if err != nil {
		return "", err
	}
	var enable []string
	for _, c := range m.available() {
		if slices.Contains(wanted, c) {
			enable = append(enable, "+"+c)
		}
	}
	// A controller's files appear in a cgroup only when its parent enables it in
	// cgroup.subtree_control, level by level from the root. Intermediate cgroups hold no
	// processes, so the no-internal-processes rule is kept.
	dir := m.root
	for _, part := range strings.Split(rel, "/") {
		if len(enable) > 0 {
			if err := write(dir, "cgroup.subtree_control", strings.Join(enable, " ")); err != nil {
				return "", fmt.Errorf("create cgroup %s: %w", path, err)
			}
		}
		dir = filepath.Join(dir, part)
		if err := mkdirs(filepath.Dir(dir), part, nil); err != nil {
			return "", fmt.Errorf("create cgroup %s: %w", path, err)
		}
	}
	return dir, nil
}

func (m *V2) AllowAllDevices(path string) error {
	dir, err := m.dir(path)
	if err != nil {
		return err
	}
	if err := attachDevices(dir, []string{"a"}); err != nil {
		return fmt.Errorf("cgroup %s: device filter: %w", path, err)
	}
	return nil
}

func (m *V2) Update(path string, r spec.Resources) error {
	dir, err := m.dir(path)
	if err != nil {
		return err
	}
	for _, w := range v2Writes(r, m.Features()) {
		if err := write(dir, w.file, w.value); err != nil {
			return fmt.Errorf("cgroup %s: %w", path, err)
		}
	}
	if len(r.Devices) > 0 {
		// The filter attached by Create is replaced by one that also allows these.
		if err := attachDevices(dir, append(slices.Clip(DefaultDevices), r.Devices...)); err != nil {
			return fmt.Errorf("cgroup %s: device filter: %w", path, err)
		}
	}
	return nil
}

// fileWrite is one value for one interface file of a cgroup.
type fileWrite struct{ file, value string }

// v2Writes plans the files r sets, in order. What the probe found absent is skipped: the
// create answer has warned of it (Features.Warnings), and a start never fails for it.
func v2Writes(r spec.Resources, f Features) []fileWrite {
	var ws []fileWrite
	add := func(file, value string) { ws = append(ws, fileWrite{file, value}) }
	if r.Memory != 0 && f.Memory {
		add("memory.max", maxOr(r.Memory))
	}
	// v2 limits swap alone; Docker's --memory-swap is memory+swap. Unset swap with a
	// memory limit means none, where swap is accounted (memory.swap.max exists).
	if swap, ok := swapMax(r); ok && f.MemorySwap {
		add("memory.swap.max", swap)
	}
	if r.MemoryReservation != 0 && f.MemoryReservation {
		add("memory.low", itoa(r.MemoryReservation))
	}
	if (r.CPUQuota != 0 || r.CPUPeriod != 0) && f.CPUCFS {
		period := r.CPUPeriod
		if period == 0 {
			period = 100000
		}
		add("cpu.max", maxOr(r.CPUQuota)+" "+utoa(period))
	}
	if r.CPUShares != 0 && f.CPUShares {
		add("cpu.weight", utoa(cpuWeight(r.CPUShares)))
	}
	if r.CpusetCpus != "" && f.Cpuset {
		add("cpuset.cpus", r.CpusetCpus)
	}
	if r.CpusetMems != "" && f.Cpuset {
		add("cpuset.mems", r.CpusetMems)
	}
	if r.PidsLimit != 0 && f.Pids {
		add("pids.max", maxOr(r.PidsLimit))
	}
	if w := ioWeight(r); w != 0 && f.IOWeight {
		add("io.weight", "default "+utoa(w))
	} else if w != 0 && f.IOBFQWeight {
		add("io.bfq.weight", utoa(max(1, min(w, 1000))))
	}
	return ws
}

// maxOr is a limit as v2 writes it: the number, or "max" for a negative one (unlimited).
func maxOr(v int64) string {
	if v > 0 {
		return itoa(v)
	}
	return "max"
}

func (m *V2) swapAccounted(dir string) bool {
	// The root cgroup has no memory.swap.max; a fake tree marks accounting on its root.
	return exists(dir, "memory.swap.max") || exists(m.root, "memory.swap.max")
}

// swapMax converts Docker's memory+swap figure to v2's swap-only memory.swap.max.
func swapMax(r spec.Resources) (string, bool) {
	switch {
	case r.MemorySwap == -1:
		return "max", true
	case r.MemorySwap > 0 && r.Memory > 0:
		return itoa(max(0, r.MemorySwap-r.Memory)), true
	case r.MemorySwap == 0 && r.Memory > 0:
		return "0", true
	}
	return "", false
}

// cpuWeight converts v1 shares (2-262144) to cpu.weight (1-10000) as runc does.
func cpuWeight(shares uint64) uint64 {
	shares = max(2, min(shares, 262144))
	return 1 + ((shares-2)*9999)/262142
}

// ioWeight is the v2 weight (1-10000), converting a v1 blkio weight (10-1000) as runc does.
func ioWeight(r spec.Resources) uint64 {
	switch {
	case r.IOWeight != 0:
		return uint64(r.IOWeight)
	case r.BlkioWeight != 0:
		return 1 + (uint64(max(10, r.BlkioWeight))-10)*9999/990
	}
	return 0
}

func (m *V2) Add(path string, pid int) error {
	dir, err := m.dir(path)
	if err != nil {
		return err
	}
	if err := write(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("add pid %d to cgroup %s: %w", pid, path, err)
	}
	return nil
}

// Workload is nil on v2: the workload shares the container's cgroup with init. A child of
// its own would need init in a leaf beside it and a fork with CLONE_INTO_CGROUP from a
// thread whose cgroup namespace spans both, which init's spawner thread does not have.
func (m *V2) Workload(path string, limit int64) *spec.WorkloadCgroup { return nil }

func (m *V2) Rename(from, to string) error {
	src, err := m.dir(from)
	if err != nil {
		return err
	}
	dst, err := m.dir(to)
	if err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("rename cgroup %s to %s: %w", from, to, err)
	}
	return nil
}

func (m *V2) Children(path string) ([]string, error) {
	dir, err := m.dir(path)
	if err != nil {
		return nil, err
	}
	return subdirs(dir)
}

func (m *V2) Freeze(path string) error { return m.freeze(path, "1") }
func (m *V2) Thaw(path string) error   { return m.freeze(path, "0") }

// freeze writes cgroup.freeze and waits for cgroup.events to report the new state.
func (m *V2) Frozen(path string) (bool, error) {
	dir, err := m.dir(path)
	if err != nil {
		return false, err
	}
	v, err := read(dir, "cgroup.freeze")
	return v == "1", err
}

func (m *V2) freeze(path, v string) error {
	dir, err := m.dir(path)
	if err != nil {
		return err
	}
	if err := write(dir, "cgroup.freeze", v); err != nil {
		return fmt.Errorf("cgroup %s: %w", path, err)
	}
	return poll("cgroup "+path+" freeze="+v, 10*time.Second, func() (bool, error) {
		ev, err := keyValues(dir, "cgroup.events")
		if err != nil {
			return false, fmt.Errorf("cgroup %s: %w", path, err)
		}
		return strconv.FormatUint(ev["frozen"], 10) == v, nil
	})
}

func (m *V2) Stats(path string) (*Stats, error) {
	dir, err := m.dir(path)
	if err != nil {
		return nil, err
	}
	var s Stats
	wrap := func(err error) error { return fmt.Errorf("cgroup %s stats: %w", path, err) }
	if exists(dir, "memory.current") {
		usage, err := readUint(dir, "memory.current")
		if err != nil {
			return nil, wrap(err)
		}
		st, err := keyValues(dir, "memory.stat")
		if err != nil {
			return nil, wrap(err)
		}
		s.MemoryUsage = usage - min(usage, st["inactive_file"])
		if s.MemoryLimit, err = readUint(dir, "memory.max"); err != nil {
			return nil, wrap(err)
		}
	}
	cpu, err := keyValues(dir, "cpu.stat") // always present: cpu accounting is core in v2
	if err != nil {
		return nil, wrap(err)
	}
	s.CPUUsageUsec = cpu["usage_usec"]
	if exists(dir, "pids.current") {
		if s.Pids, err = readUint(dir, "pids.current"); err != nil {
			return nil, wrap(err)
		}
		if s.PidsLimit, err = readUint(dir, "pids.max"); err != nil {
			return nil, wrap(err)
		}
	}
	if exists(dir, "io.stat") {
		// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
		io, err := read(dir, "io.stat")
		if err != nil {
			return nil, wrap(err)
		}
		for _, f := range strings.Fields(io) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				s.BlockRead += n
			case "wbytes":
				s.BlockWrite += n
			}
		}
	}
	return &s, nil
}

func (m *V2) OOMKilled(path string) (bool, error) {
	dir, err := m.dir(path)
	if err != nil {
		return false, err
	}
	ev, err := keyValues(dir, "memory.events")
	if err != nil {
		return false, fmt.Errorf("cgroup %s: %w", path, err)
	}
	return ev["oom_kill"] > 0, nil
}

func (m *V2) Pids(path string) ([]int, error) {
	dir, err := m.dir(path)
	if err != nil {
		return nil, err
	}
	p, err := treePids(dir)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	return p, nil
}

func (m *V2) Remove(path string) error {
	dir, err := m.dir(path)
	if err != nil {
		return err
	}
	if err := RemoveTree(dir, time.Now().Add(5*time.Second)); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", path, err)
	}
	return nil
}
