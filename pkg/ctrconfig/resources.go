package ctrconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
)

const (
	mib = 1 << 20
	// minMemory is the smallest memory limit a container starts with (Docker's 6 MiB).
	minMemory = 6 * mib
	// maxBytes bounds sizes: more than any host has, so a larger figure is a mistake (and
	// a MiB figure times 2^20 would overflow).
	maxBytes = 1 << 50
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
			return bad(r.field, "%d is out of range; expected %s", r.v, r.expect)
		}
	}
	return nil
}

var unset = span{0, 0}

func checkMemory(r *api.CreateRequest, _ *Options, _ *[]string) error {
	err := checkInts([]intRule{
		{"memory", r.Memory, []span{unset, {minMemory / mib, maxBytes / mib}}, "a number of MiB from 6 to 2^30 (0: no limit)"},
		{"memory_bytes", r.MemoryBytes, []span{unset, {minMemory, maxBytes}}, "a number of bytes from 6 MiB to 1 PiB (0: no limit)"},
		{"memory_swap", r.MemorySwap, []span{{-1, maxBytes}}, "memory plus swap in bytes, up to 1 PiB (-1: unlimited swap)"},
		{"shm_size", r.ShmSize, []span{{0, maxBytes / mib}}, "a number of MiB (0: the default 64 MiB)"},
		{"shm_size_bytes", r.ShmSizeBytes, []span{{0, maxBytes}}, "a number of bytes up to 1 PiB (0: the default 64 MiB)"},
		{"memory_reservation", r.MemoryReservation, []span{unset, {minMemory, maxBytes}}, "a number of bytes from 6 MiB to 1 PiB (0: none)"},
	})
	if err != nil {
		return err
	}
	if r.MemoryBytes == 0 {
		r.MemoryBytes = r.Memory * mib
	}
	if r.ShmSizeBytes == 0 {
		r.ShmSizeBytes = r.ShmSize * mib
	}
	if r.MemoryReservation > 0 && r.MemoryBytes > 0 && r.MemoryReservation > r.MemoryBytes {
		return bad("memory_reservation", "%d is more than the memory limit %d; the minimum memory limit can not be less than the memory reservation", r.MemoryReservation, r.MemoryBytes)
	}
	if r.MemorySwap > 0 {
		if r.MemoryBytes == 0 {
			return bad("memory_swap", "is set without a memory limit; set memory too (memory_swap counts memory plus swap)")
		}
		if r.MemorySwap < r.MemoryBytes {
			return bad("memory_swap", "%d is less than the memory limit %d; it counts memory plus swap (-1: unlimited swap)", r.MemorySwap, r.MemoryBytes)
		}
	}
	return nil
}

// checkCPU: Docker's rule is 0 < cpus <= the host's CPUs; the quota it makes must be at
// least the kernel's 1 ms.
func checkCPU(r *api.CreateRequest, o *Options, _ *[]string) error {
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
		{"cpu", r.CPU, 100, 100 * hostCPUs, "percent of one CPU"},
	} {
		if c.v == 0 {
			continue
		}
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) || c.v < 0 || c.v > c.hi {
			return bad(c.field, "%v is out of range; expected more than 0 and at most %v %s", c.v, c.hi, c.unit)
		}
		if c.v/c.per*period < minCFS {
			return bad(c.field, "%v %s is less than the kernel's minimum quota of 1 ms per %v µs period", c.v, c.unit, period)
		}
	}
	if r.CpusetCpus == "" {
		r.CpusetCpus = r.Cpuset
	}
	field := "cpuset_cpus"
	if r.Cpuset == r.CpusetCpus && r.Cpuset != "" {
		field = "cpuset"
	}
	if r.CpusetCpus == "" {
		return nil
	}
	set, err := ParseCPUSet(r.CpusetCpus)
	if err != nil {
		return bad(field, "%v", err)
	}
	for c := range set {
		if o.OnlineCPUs != nil && !o.OnlineCPUs[c] {
			return bad(field, "CPU %d is not online on this host", c)
		}
	}
	return nil
}

// ParseCPUSet reads the kernel's CPU list syntax ("0-3,5"), as in cpuset.cpus and
// /sys/devices/system/cpu/online.
func ParseCPUSet(s string) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.ParseUint(a, 10, 16)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.ParseUint(b, 10, 16)
		}
		if err1 != nil || err2 != nil || hi < lo || hi >= 8192 {
			return nil, fmt.Errorf("%q is not a CPU list; expected numbers and ranges such as 0-3,5", s)
		}
		for c := lo; c <= hi; c++ {
			set[int(c)] = true
		}
	}
	return set, nil
}

func checkLimits(r *api.CreateRequest, _ *Options, _ *[]string) error {
	rules := []intRule{
		{"pids_limit", r.PidsLimit, []span{{-1, maxPids}}, fmt.Sprintf("a number of processes up to %d (0 or -1: no limit)", maxPids)},
		{"blkio_weight", int64(r.BlkioWeight), []span{unset, {10, 1000}}, "a weight from 10 to 1000"},
		{"io_weight", int64(r.IOWeight), []span{unset, {1, 10000}}, "a weight from 1 to 10000"},
	}
	if r.OOMScoreAdj != nil {
		rules = append(rules, intRule{"oom_score_adj", int64(*r.OOMScoreAdj), []span{{-1000, 1000}}, "-1000 to 1000"})
	}
	return checkInts(rules)
}
