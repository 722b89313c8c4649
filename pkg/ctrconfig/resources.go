package ctrconfig

import (
	"fmt"
	"math"
)

const (
	mib = 1 << 20
	// minMemory is the smallest memory limit a container starts with (Docker's 6 MiB).
	minMemory = 6 * mib
	// MaxBytes bounds sizes: more than any host has, so a larger figure is a mistake (and
	// a MiB figure times 2^20 would overflow).
	MaxBytes = 1 << 50
	// maxCPUs bounds --cpus when the host is unknown.
	maxCPUs = 4096
	// The kernel's CFS limits: a period of 1 ms to 1 s, a quota of at least 1 ms and at
	// most 2^44-1 µs.
	minCFS       = 1000
	maxCFSPeriod = 1000000
	maxCFSQuota  = 1<<44 - 1
	// maxPids is the kernel's PID_MAX_LIMIT: a larger pids limit limits nothing.
	maxPids = 1 << 22
)

// span is an inclusive range of accepted values.
type span struct{ lo, hi int64 }

// intRule is one integer field and the ranges it may take.
type intRule struct {
	field  string
	v      int64
	spans  []span
	expect string
}

func checkInts(rules []intRule) error {
	for _, r := range rules {
		ok := false
		for _, s := range r.spans {
			ok = ok || r.v >= s.lo && r.v <= s.hi
		}
		if !ok {
			return Bad(r.field, "%d is out of range; expected %s", r.v, r.expect)
		}
	}
	return nil
}

var unset = span{0, 0}

// CheckMiB checks a size given in MiB (the original API's memory and shm_size) before it
// is folded into bytes.
func CheckMiB(field string, v int64, minMiB int64) error {
	if minMiB > 0 {
		return checkInts([]intRule{{field, v, []span{unset, {minMiB, MaxBytes / mib}}, "a number of MiB from 6 to 2^30 (0: no limit)"}})
	}
	return checkInts([]intRule{{field, v, []span{{0, MaxBytes / mib}}, "a number of MiB (0: the default 64 MiB)"}})
}

// MinMemoryMiB is the smallest memory limit in MiB.
const MinMemoryMiB = minMemory / mib

// CheckResources checks the limits as create and update set them; cpusetField names the
// field the cpuset came from (cpuset_cpus, or the original cpuset).
func CheckResources(r *Resources, o Options, cpusetField string) error {
	rules := []intRule{
		{"memory_bytes", r.Memory, []span{unset, {minMemory, MaxBytes}}, "a number of bytes from 6 MiB to 1 PiB (0: no limit)"},
		{"memory_swap", r.MemorySwap, []span{{-1, MaxBytes}}, "memory plus swap in bytes, up to 1 PiB (-1: unlimited swap)"},
		{"shm_size_bytes", r.ShmSize, []span{{0, MaxBytes}}, "a number of bytes up to 1 PiB (0: the default 64 MiB)"},
		{"memory_reservation", r.MemoryReservation, []span{unset, {minMemory, MaxBytes}}, "a number of bytes from 6 MiB to 1 PiB (0: none)"},
	}
	if err := checkInts(rules); err != nil {
		return err
	}
	if r.MemoryReservation > 0 && r.Memory > 0 && r.MemoryReservation > r.Memory {
		return Bad("memory_reservation", "%d is more than the memory limit %d; the minimum memory limit can not be less than the memory reservation", r.MemoryReservation, r.Memory)
	}
	if r.MemorySwap > 0 {
		if r.Memory == 0 {
			return Bad("memory_swap", "is set without a memory limit; set memory too (memory_swap counts memory plus swap)")
		}
		if r.MemorySwap < r.Memory {
			return Bad("memory_swap", "%d is less than the memory limit %d; it counts memory plus swap (-1: unlimited swap)", r.MemorySwap, r.Memory)
		}
	}
	if err := checkCPU(r, o, cpusetField); err != nil {
		return err
	}
	limits := []intRule{
		{"pids_limit", r.PidsLimit, []span{{-1, maxPids}}, fmt.Sprintf("a number of processes up to %d (0 or -1: no limit)", maxPids)},
		{"blkio_weight", int64(r.BlkioWeight), []span{unset, {10, 1000}}, "a weight from 10 to 1000"},
		{"io_weight", int64(r.IOWeight), []span{unset, {1, 10000}}, "a weight from 1 to 10000"},
	}
	if r.OOMScoreAdj != nil {
		limits = append(limits, intRule{"oom_score_adj", int64(*r.OOMScoreAdj), []span{{-1000, 1000}}, "-1000 to 1000"})
	}
	return checkInts(limits)
}

// checkCPU: Docker's rule is 0 < cpus <= the host's CPUs; the quota it makes must be at
// least the kernel's 1 ms.
func checkCPU(r *Resources, o Options, cpusetField string) error {
	err := checkInts([]intRule{
		{"cpu_shares", r.CPUShares, []span{unset, {2, 262144}}, "a weight from 2 to 262144 (1024 is the default)"},
		{"cpu_period", r.CPUPeriod, []span{unset, {minCFS, maxCFSPeriod}}, "microseconds from 1000 to 1000000"},
		{"cpu_quota", r.CPUQuota, []span{{-1, 0}, {minCFS, maxCFSQuota}}, "microseconds, at least 1000 (-1 or 0: no limit)"},
	})
	if err != nil {
		return err
	}
	hostCPUs := float64(maxCPUs)
	if o.HostCPUs > 0 {
		hostCPUs = float64(o.HostCPUs)
	}
	period := float64(100000)
	if r.CPUPeriod > 0 {
		period = float64(r.CPUPeriod)
	}
	for _, c := range []struct {
		field      string
		v, per, hi float64
		unit       string
	}{
		{"cpus", r.CPUs, 1, hostCPUs, "CPUs"},
		{"cpu", r.CPUPercent, 100, 100 * hostCPUs, "percent of one CPU"},
	} {
		if c.v == 0 {
			continue
		}
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) || c.v < 0 || c.v > c.hi {
			return Bad(c.field, "%v is out of range; expected more than 0 and at most %v %s", c.v, c.hi, c.unit)
		}
		if c.v/c.per*period < minCFS {
			return Bad(c.field, "%v %s is less than the kernel's minimum quota of 1 ms per %v µs period", c.v, c.unit, period)
		}
	}
	if r.CpusetCpus == "" {
		return nil
	}
	set, err := ParseCPUSet(r.CpusetCpus)
	if err != nil {
		return Bad(cpusetField, "%v", err)
	}
	for c := range set {
		if o.OnlineCPUs != nil && !o.OnlineCPUs[c] {
			return Bad(cpusetField, "CPU %d is not online on this host", c)
		}
	}
	return nil
}
