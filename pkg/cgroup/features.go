package cgroup

import (
	"path/filepath"
	"slices"

	"github.com/minibox/minibox/pkg/spec"
)

// Features are what this host's cgroups can do, read once from the hierarchies (Probe) so
// that a limit the host cannot honour is skipped with a warning instead of failing a start.
type Features struct {
	Version int `json:"version"`
	// Controllers are the mounted v1 hierarchies, or the v2 root's cgroup.controllers.
	Controllers []string `json:"controllers"`
	// BlkioWeight and BlkioBFQWeight are v1's blkio.weight (CFQ) and blkio.bfq.weight
	// (BFQ); IOWeight and IOBFQWeight v2's io.weight and io.bfq.weight. None of them
	// exists without a proportional I/O scheduler.
	BlkioWeight    bool `json:"blkio_weight"`
	BlkioBFQWeight bool `json:"blkio_bfq_weight"`
	IOWeight       bool `json:"io_weight"`
	IOBFQWeight    bool `json:"io_bfq_weight"`
	Memory         bool `json:"memory"`
	// MemoryReservation is a soft limit: memory.soft_limit_in_bytes (v1), memory.low (v2).
	MemoryReservation bool `json:"memory_reservation"`
	// Devices is a device allowlist: the v1 devices controller; v2's BPF filter is core.
	Devices bool `json:"devices"`
	// MemorySwap is swap accounting: memory.memsw.* on v1, memory.swap.max on v2.
	MemorySwap bool `json:"memory_swap"`
	CPUShares  bool `json:"cpu_shares"`
	CPUCFS     bool `json:"cpu_cfs"` // cpu.cfs_quota_us (v1), cpu.max (v2)
	CPURT      bool `json:"cpu_rt"`  // cpu.rt_runtime_us (v1 only)
	Cpuset     bool `json:"cpuset"`
	Pids       bool `json:"pids"`
	Hugetlb    bool `json:"hugetlb"`
	Freezer    bool `json:"freezer"`
}

// Weight reports whether any I/O weight file exists.
func (f Features) Weight() bool {
	return f.BlkioWeight || f.BlkioBFQWeight || f.IOWeight || f.IOBFQWeight
}

// Warnings names each limit of r this host cannot honour (in Docker's words): the
// container starts without it.
func (f Features) Warnings(r spec.Resources) []string {
	var w []string
	if r.Memory > 0 && !f.Memory {
		w = append(w, "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
	} else if r.Memory > 0 && r.MemorySwap != -1 && !f.MemorySwap {
		w = append(w, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
	}
	if r.MemoryReservation > 0 && !f.MemoryReservation {
		w = append(w, "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.")
	}
	if len(r.Devices) > 0 && !f.Devices {
		w = append(w, "Your kernel does not support the devices cgroup or it is not mounted. Device permissions discarded.")
	}
	if (r.CPUQuota != 0 || r.CPUPeriod != 0) && !f.CPUCFS {
		w = append(w, "Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
	}
	if r.CPUShares != 0 && !f.CPUShares {
		w = append(w, "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
	}
	if (r.CpusetCpus != "" || r.CpusetMems != "") && !f.Cpuset {
		w = append(w, "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
	}
	if r.PidsLimit != 0 && !f.Pids {
		w = append(w, "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.")
	}
	if (r.BlkioWeight != 0 || r.IOWeight != 0) && !f.Weight() {
		w = append(w, "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
	}
	return w
}

// v1Known are the v1 controllers reported in Features.Controllers (minibox uses
// v1Controllers; the others are shown for what the host offers).
var v1Known = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "net_cls", "net_prio", "perf_event", "pids", "rdma", "misc"}

func (m *V1) probe() Features {
	f := Features{Version: 1}
	for _, c := range v1Known {
		if m.has(c) {
			f.Controllers = append(f.Controllers, c)
		}
	}
	// The root cgroup of a v1 hierarchy has every file its controller offers.
	at := func(c, file string) bool { return m.has(c) && exists(filepath.Join(m.root, c), file) }
	f.BlkioWeight = at("blkio", "blkio.weight")
	f.BlkioBFQWeight = at("blkio", "blkio.bfq.weight")
	f.Memory = m.has("memory")
	f.MemorySwap = at("memory", "memory.memsw.limit_in_bytes")
	f.MemoryReservation = at("memory", "memory.soft_limit_in_bytes")
	f.Devices = m.has("devices")
	f.CPUShares = at("cpu", "cpu.shares")
	f.CPUCFS = at("cpu", "cpu.cfs_quota_us")
	f.CPURT = at("cpu", "cpu.rt_runtime_us")
	f.Cpuset = m.has("cpuset")
	f.Pids = m.has("pids")
	f.Hugetlb = m.has("hugetlb")
	f.Freezer = m.has("freezer")
	return f
}

// probe reads the controllers from the root and the files from parent, a cgroup below it
// with them enabled (the root cgroup has none of io.weight, memory.swap.max, cpu.max). It
// makes parent as Create would; when that fails, what the controllers imply is kept.
func (m *V2) probe(parent string) Features {
	f := Features{Version: 2, Controllers: m.available(), Freezer: true, Devices: true} // cgroup.freeze and BPF device filters are core
	has := func(c string) bool { return slices.Contains(f.Controllers, c) }
	f.Memory, f.CPUShares, f.CPUCFS, f.Cpuset, f.Pids, f.Hugetlb = has("memory"), has("cpu"), has("cpu"), has("cpuset"), has("pids"), has("hugetlb")
	dir := filepath.Join(m.root, parent)
	if _, err := m.makeParent(parent); err != nil {
		// Without a cgroup to look in, trust the controllers and let Update find out.
		f.IOWeight, f.MemorySwap = has("io"), has("memory") && exists(m.root, "memory.swap.max")
		f.MemoryReservation = has("memory")
		return f
	}
	f.MemoryReservation = has("memory") && exists(dir, "memory.low")
	f.IOWeight = has("io") && exists(dir, "io.weight")
	f.IOBFQWeight = has("io") && exists(dir, "io.bfq.weight")
	f.MemorySwap = has("memory") && m.swapAccounted(dir)
	f.CPUCFS = has("cpu") && exists(dir, "cpu.max")
	return f
}

// probeParent is the cgroup a v2 probe looks in: the engine's containers are
// "minibox/<id>", so its files are what theirs will be.
const probeParent = "minibox"
