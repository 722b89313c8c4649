package cgroup

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// Manager creates, limits, inspects and removes cgroups. Every method takes the cgroup's
// path relative to the hierarchy root.
type Manager interface {
	// Version is 1 or 2.
	Version() int
	// Features are what the host's cgroups can limit, probed on the first call (the
	// daemon's start) and kept: Create and Update skip what is absent.
	Features() Features
	// Create makes the cgroup (and its parents), and on v1 its workload child in the pids
	// hierarchy (WorkloadName), and applies r and the default device allowlist. Zero
	// fields of r are left at the kernel's defaults. On v1 r.PidsLimit goes to the
	// workload child: init's threads, in the cgroup itself, take none of it.
	Create(path string, r spec.Resources) error
	// Update applies the non-zero fields of r to an existing cgroup.
	Update(path string, r spec.Resources) error
	// Add moves a process into the cgroup.
	Add(path string, pid int) error
	// Workload names the cgroup's workload child for init, or nil when there is none (v2,
	// or no pids controller); limit is its pids.max (0: none).
	Workload(path string, limit int64) *spec.WorkloadCgroup
	// Rename gives a cgroup, and the processes in it, another name under the same parent:
	// no process moves, so it costs none of a migration's kernel grace period. v2
	// hierarchies refuse it.
	Rename(from, to string) error
	// Children lists the names of the cgroup's child cgroups (none if it does not exist).
	Children(path string) ([]string, error)
	// AllowAllDevices lifts the device allowlist (--privileged).
	AllowAllDevices(path string) error
	// Freeze stops every process in the cgroup and returns once they are frozen; Thaw
	// resumes them.
	Freeze(path string) error
	Thaw(path string) error
	// Frozen reports whether the cgroup is frozen (or freezing): the kernel's word on a
	// pause, which outlives a daemon that had no time to record it.
	Frozen(path string) (bool, error)
	Stats(path string) (*Stats, error)
	// OOMKilled reports whether the kernel's OOM killer has killed a process of the cgroup.
	OOMKilled(path string) (bool, error)
	// Pids lists the processes in the cgroup.
	Pids(path string) ([]int, error)
	// Remove deletes the cgroup and any children from every hierarchy, waiting for exiting
	// tasks to leave; a missing cgroup is no error.
	Remove(path string) error
}

// Stats are a cgroup's figures as the stats API reports them.
type Stats struct {
	// MemoryUsage excludes the inactive file cache, as Docker's stats do.
	MemoryUsage  uint64 `json:"memory_usage"`
	MemoryLimit  uint64 `json:"memory_limit"` // 0: none
	CPUUsageUsec uint64 `json:"cpu_usage_usec"`
	Pids         uint64 `json:"pids"`
	PidsLimit    uint64 `json:"pids_limit"` // 0: none
	// WorkloadPids and WorkloadPidsLimit are the workload child's (v1), where it has one.
	WorkloadPids      uint64 `json:"workload_pids"`
	WorkloadPidsLimit uint64 `json:"workload_pids_limit"`
	BlockRead         uint64 `json:"block_read"`  // bytes
	BlockWrite        uint64 `json:"block_write"` // bytes
}

// WorkloadName is the child of a container's cgroup that holds its workload and execs.
const WorkloadName = "workload"

// Root is where the host mounts its cgroup hierarchies.
const Root = "/sys/fs/cgroup"

// Open detects this host's cgroup layout: v2 when /sys/fs/cgroup is the unified hierarchy
// with controllers, else v1 controllers under /sys/fs/cgroup/<controller> (a hybrid host's
// empty unified tree at /sys/fs/cgroup/unified is ignored).
func Open(log *slog.Logger) (Manager, error) {
	if _, err := os.Stat(filepath.Join(Root, "cgroup.controllers")); err == nil {
		m := NewV2(Root)
		log.Debug("cgroup v2", "root", Root, "controllers", m.available())
		return m, nil
	}
	m := NewV1(Root)
	var found, missing []string
	for _, c := range v1Controllers {
		if m.has(c) {
			found = append(found, c)
		} else {
			missing = append(missing, c)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no cgroup v1 controllers or v2 hierarchy under %s: %w", Root, errdefs.ErrUnavailable)
	}
	log.Debug("cgroup v1", "root", Root, "controllers", found)
	if len(missing) > 0 {
		log.Warn("cgroup v1 controllers missing; their limits are not applied", "controllers", missing)
	}
	return m, nil
}

// checkPath refuses paths that would leave the hierarchy.
func checkPath(path string) (string, error) {
	c := filepath.Clean("/" + path)
	if c == "/" || slices.Contains(strings.Split(path, "/"), "..") {
		return "", errdefs.Invalid(fmt.Sprintf("cgroup path %q: must name a cgroup below the hierarchy root", path))
	}
	return c[1:], nil
}
