package boxinit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

// workloadCgroup puts what init forks (the workload, execs) in the container's workload
// cgroup of the v1 pids hierarchy, whose pids.max is the user's --pids-limit: init's own
// threads stay in the container's cgroup above it and take none of the limit.
//
// A v1 thread may join a cgroup on its own (it writes "0" to the cgroup's tasks file),
// which costs the kernel no threadgroup lock and so no RCU grace period, unlike moving a
// process by its pid. The forking thread joins the workload cgroup, forks (the child is
// born there), and returns to the container's cgroup. While it is in, it counts: pids.max
// is one higher from just before the fork until just before it leaves.
type workloadCgroup struct {
	mu            sync.Mutex
	tasks, parent *os.File
	max           *os.File // nil without a limit
	limit         int64
}

// openWorkloadCgroup opens the files before pivot_root hides the host's cgroupfs.
func openWorkloadCgroup(w *spec.WorkloadCgroup) (*workloadCgroup, error) {
	if w == nil || w.Version != 1 {
		return nil, nil
	}
	open := func(dir, file string) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("workload cgroup: %w", err)
		}
		return f, nil
	}
	c := &workloadCgroup{limit: w.Limit}
	var err error
	if c.tasks, err = open(w.Dir, "tasks"); err != nil {
		return nil, err
	}
	if c.parent, err = open(w.Parent, "tasks"); err != nil {
		c.tasks.Close()
		return nil, err
	}
	if w.Limit > 0 {
		if c.max, err = open(w.Dir, "pids.max"); err != nil {
			c.tasks.Close()
			c.parent.Close()
			return nil, err
		}
	}
	return c, nil
}

func put(f *os.File, v string) error {
	if _, err := unix.Pwrite(int(f.Fd()), []byte(v), 0); err != nil {
		return fmt.Errorf("write %q to %s: %w", v, f.Name(), err)
	}
	return nil
}

// enter moves the calling (locked) thread into the workload cgroup.
func (c *workloadCgroup) enter() error { return put(c.tasks, "0") }

// leave puts pids.max back and moves the calling thread back to the container's cgroup,
// in that order: the child runs already, and with the thread gone first it had a moment
// at N tasks under a limit of N+1, room for one fork too many (an exec'd shell's, once,
// on a loaded machine). pids.max may be set below pids.current: it only refuses forks.
func (c *workloadCgroup) leave() error {
	var err error
	if c.max != nil {
		err = put(c.max, strconv.FormatInt(c.limit, 10))
	}
	if perr := put(c.parent, "0"); err == nil {
		err = perr
	}
	return err
}

// forking raises pids.max by one for a forking thread about to join; the returned func
// ends the fork (leave has put the limit back by then).
func (c *workloadCgroup) forking() func() {
	c.mu.Lock()
	if c.max != nil {
		put(c.max, strconv.FormatInt(c.limit+1, 10))
	}
	return c.mu.Unlock
}
