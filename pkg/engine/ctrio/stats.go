package ctrio

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
)

// Stats are one container's figures at Read.
type Stats struct {
	ID, Name      string
	MemoryUsage   uint64
	MemoryLimit   uint64
	MemoryPercent float64
	CPUUsageUsec  uint64
	CPUPercent    float64
	OnlineCPUs    int
	Pids          uint64
	PidsLimit     uint64
	NetInput      uint64
	NetOutput     uint64
	BlockInput    uint64
	BlockOutput   uint64
	Read          time.Time
}

// Target is one container whose figures are read, as it is now.
type Target struct {
	ID, Name string
	Running  bool // running or paused: a stopped one has no figures
	PID      int  // its init's, whose threads count in a shared pids controller
	Bridge   bool // on the default bridge: its veth's counters are its network figures
}

// Container gives a container's current state: it may stop while its figures are read.
type Container interface {
	Target() Target
}

// Source reads the figures of a container by ID.
type Source interface {
	CgroupStats(id string) (*cgroup.Stats, error)
	NetCounters(id string) (rx, tx uint64, err error)
}

// Sampler reads containers' figures and keeps each one's last CPU reading, so that the
// next read has a percentage without waiting.
type Sampler struct {
	src Source
	// initPids is what init may take of a pids limit where it shares the workload's cgroup.
	initPids uint64
	// window is the first reading's span.
	window  time.Duration
	samples sync.Map // id -> cpuSample
}

// cpuSample is the last CPU reading of a container, for the percentage.
type cpuSample struct {
	at    time.Time
	usage uint64
}

// statsWindow is the first reading's span: ten CFS periods, so a quota shows as its average.
const statsWindow = time.Second

// NewSampler returns a sampler reading from src; initPids is the part of a pids limit
// the engine adds for init where init shares the workload's cgroup.
func NewSampler(src Source, initPids uint64) *Sampler {
	return &Sampler{src: src, initPids: initPids, window: statsWindow}
}

// Forget drops a removed container's last reading.
func (s *Sampler) Forget(id string) { s.samples.Delete(id) }

// Read returns the figures of cs. A running one without a recent reading is read twice,
// the window apart, for its CPU percentage; one that stopped meanwhile has none.
func (s *Sampler) Read(ctx context.Context, cs []Container) ([]Stats, error) {
	stale := false
	now := time.Now()
	for _, c := range cs {
		t := c.Target()
		if v, ok := s.samples.Load(t.ID); !ok || now.Sub(v.(cpuSample).at) > 2*time.Second {
			stale = true
			if st, err := s.src.CgroupStats(t.ID); err == nil {
				s.samples.Store(t.ID, cpuSample{at: time.Now(), usage: st.CPUUsageUsec})
			}
		}
	}
	if stale {
		select {
		case <-time.After(s.window):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	hostMem := uint64(si.Totalram) * uint64(si.Unit)
	out := make([]Stats, 0, len(cs))
	for _, c := range cs {
		t := c.Target()
		st := Stats{ID: t.ID, Name: t.Name, OnlineCPUs: runtime.NumCPU(), Read: time.Now().UTC()}
		if t.Running {
			if err := s.readOne(&st, t, hostMem); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Sampler) readOne(out *Stats, t Target, hostMem uint64) error {
	st, err := s.src.CgroupStats(t.ID)
	if err != nil {
		return err
	}
	out.MemoryUsage, out.MemoryLimit = st.MemoryUsage, st.MemoryLimit
	out.CPUUsageUsec, out.Pids, out.PidsLimit = st.CPUUsageUsec, st.Pids, st.PidsLimit
	if st.WorkloadPids > 0 { // the workload's own cgroup: its figures are exact
		out.Pids, out.PidsLimit = st.WorkloadPids, st.WorkloadPidsLimit
	} else {
		// init shares the workload's cgroup: report the workload's share.
		if out.PidsLimit > s.initPids {
			out.PidsLimit -= s.initPids
		}
		out.Pids -= min(out.Pids, initThreads(t.PID))
	}
	out.BlockInput, out.BlockOutput = st.BlockRead, st.BlockWrite
	out.MemoryPercent = cgroup.MemoryPercent(st, hostMem)
	now := time.Now()
	if v, ok := s.samples.Load(t.ID); ok {
		prev := v.(cpuSample)
		out.CPUPercent = cgroup.CPUPercent(&cgroup.Stats{CPUUsageUsec: prev.usage}, st, now.Sub(prev.at))
	}
	s.samples.Store(t.ID, cpuSample{at: now, usage: st.CPUUsageUsec})
	if t.Bridge {
		out.NetInput, out.NetOutput, _ = s.src.NetCounters(t.ID)
	}
	return nil
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
