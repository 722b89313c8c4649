package dockerconv

import (
	"github.com/moby/moby/api/types/container"

	"github.com/minibox/minibox/pkg/engine/ctrio"
)

// Stats converts one sample of the engine's stats; prev gives the previous sample (the
// client computes CPU use from the two) and systemUsage is the host's CPU time in
// nanoseconds.
func Stats(st *ctrio.Stats, prev *container.StatsResponse, systemUsage uint64) *container.StatsResponse {
	out := &container.StatsResponse{ID: st.ID, Name: "/" + st.Name, OSType: "linux", Read: st.Read,
		NumProcs: uint32(st.Pids),
		CPUStats: container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: st.CPUUsageUsec * 1000},
			SystemUsage: systemUsage, OnlineCPUs: uint32(st.OnlineCPUs)},
		MemoryStats: container.MemoryStats{Usage: st.MemoryUsage, Limit: st.MemoryLimit, Stats: map[string]uint64{}},
		PidsStats:   container.PidsStats{Current: st.Pids, Limit: st.PidsLimit},
		Networks:    map[string]container.NetworkStats{"eth0": {RxBytes: st.NetInput, TxBytes: st.NetOutput}},
		BlkioStats: container.BlkioStats{IoServiceBytesRecursive: []container.BlkioStatEntry{
			{Op: "read", Value: st.BlockInput}, {Op: "write", Value: st.BlockOutput}}},
	}
	if prev != nil {
		out.PreRead, out.PreCPUStats = prev.Read, prev.CPUStats
	}
	return out
}
