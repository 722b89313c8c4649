package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/engine/runspec"
)

// cpuSample is the last CPU reading of a container, for the percentage.
type cpuSample struct {
	at    time.Time
	usage uint64
}

var cpuSamples sync.Map // id -> cpuSample

// statsWindow is the first reading's span: ten CFS periods, so a quota shows as its average.
const statsWindow = time.Second

// Stats reads the figures of the named containers (none: every running one). A container
// without a recent reading is read twice, statsWindow apart, for its CPU percentage.
func (e *Engine) Stats(ctx context.Context, refs []string) ([]api.Stats, error) {
	var cs []*ctr
	if len(refs) == 0 {
		for _, c := range e.allContainers() {
			if e.snapshot(c).Status == StatusRunning || e.snapshot(c).Status == StatusPaused {
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
	stale := false
	now := time.Now()
	for _, c := range cs {
		if v, ok := cpuSamples.Load(c.rec.ID); !ok || now.Sub(v.(cpuSample).at) > 2*time.Second {
			stale = true
			if st, err := e.cg.Stats(cgroupPath(c.rec.ID)); err == nil {
				cpuSamples.Store(c.rec.ID, cpuSample{at: time.Now(), usage: st.CPUUsageUsec})
			}
		}
	}
	if stale {
		select {
		case <-time.After(statsWindow):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	hostMem := uint64(si.Totalram) * uint64(si.Unit)
	out := make([]api.Stats, 0, len(cs))
	for _, c := range cs {
		r := e.snapshot(c)
		s := api.Stats{ID: r.ID, Name: r.Name, OnlineCPUs: runtime.NumCPU(), Read: time.Now().UTC()}
		if r.Status == StatusRunning || r.Status == StatusPaused {
			st, err := e.cg.Stats(cgroupPath(r.ID))
			if err != nil {
				return nil, err
			}
			s.MemoryUsage, s.MemoryLimit = st.MemoryUsage, st.MemoryLimit
			s.CPUUsageUsec, s.Pids, s.PidsLimit = st.CPUUsageUsec, st.Pids, st.PidsLimit
			if st.WorkloadPids > 0 { // the workload's own cgroup: its figures are exact
				s.Pids, s.PidsLimit = st.WorkloadPids, st.WorkloadPidsLimit
			} else {
				// init shares the workload's cgroup: report the workload's share.
				if s.PidsLimit > runspec.InitPids {
					s.PidsLimit -= runspec.InitPids
				}
				s.Pids -= min(s.Pids, initThreads(r.PID))
			}
			s.BlockInput, s.BlockOutput = st.BlockRead, st.BlockWrite
			s.MemoryPercent = cgroup.MemoryPercent(st, hostMem)
			now := time.Now()
			if v, ok := cpuSamples.Load(r.ID); ok {
				prev := v.(cpuSample)
				s.CPUPercent = cgroup.CPUPercent(&cgroup.Stats{CPUUsageUsec: prev.usage}, st, now.Sub(prev.at))
			}
			cpuSamples.Store(r.ID, cpuSample{at: now, usage: st.CPUUsageUsec})
			if r.Conf.Network == "bridge" && e.net != nil {
				s.NetInput, s.NetOutput, _ = e.net.Counters(r.ID)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// initThreads counts init's threads (each counts towards the pids controller).
func initThreads(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	return uint64(len(ents))
}
