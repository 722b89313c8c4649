// Package hostprobe learns once, at the daemon's start, what this host offers containers:
// its cgroup layout and controller files, overlayfs, idmapped mounts, nftables, FUSE and
// user namespaces. The engine keeps the result as a value: limits the host cannot honour
// are warned of and skipped instead of failing a start, and `minibox info` shows it.
package hostprobe

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
)

// Host is what the probe found.
type Host struct {
	Cgroup cgroup.Features `json:"cgroup"`
	// Overlay is overlayfs in /proc/filesystems (container roots need it).
	Overlay bool `json:"overlay"`
	// IDMappedMounts is whether the data root's filesystem takes an idmapped mount
	// (user-namespaced containers use them instead of copying layers with shifted owners).
	IDMappedMounts bool `json:"idmapped_mounts"`
	// Nftables is whether the kernel answers nf_tables netlink requests (bridge NAT).
	Nftables bool `json:"nftables"`
	// FUSE is /dev/fuse and the fuse filesystem (lazy image layers).
	FUSE bool `json:"fuse"`
	// UserNS is whether user namespaces can be made (max_user_namespaces > 0).
	UserNS bool `json:"userns"`
}

// Probe reads the host; dataRoot is where idmapped mounts are tried. It takes a few
// milliseconds (a process for the user namespace, a netlink round trip).
func Probe(cg cgroup.Manager, dataRoot string) Host {
	h := Host{Cgroup: cg.Features()}
	fs := filesystems()
	h.Overlay = fs["overlay"]
	if _, err := os.Stat("/dev/fuse"); err == nil {
		h.FUSE = fs["fuse"]
	}
	h.UserNS = userNamespaces()
	if h.UserNS {
		h.IDMappedMounts = idmapped(dataRoot)
	}
	h.Nftables = nftablesWork()
	return h
}

// filesystems reads /proc/filesystems; a module not loaded yet is not counted.
func filesystems() map[string]bool {
	b, _ := os.ReadFile("/proc/filesystems")
	m := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			m[f[len(f)-1]] = true
		}
	}
	return m
}

func userNamespaces() bool {
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil {
		return true // an older kernel without the knob, but with the namespace
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && n > 0
}

// idmapped tries an idmapped mount of a detached copy of dir's mount.
func idmapped(dir string) bool {
	f, err := usernsFD(1<<20, 65536)
	if err != nil {
		return false
	}
	defer f.Close()
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fd) // the detached copy vanishes with its fd
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(f.Fd())}
	return unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr) == nil
}

// usernsFD returns an fd of a new user namespace mapping 0 to hostID (size IDs). A
// namespace needs a process, and Go cannot unshare one itself (it is multithreaded): a
// child is cloned into it and stopped by ptrace at its execve, so none of its code runs;
// its namespace is opened and the child killed.
func usernsFD(hostID, size int) (*os.File, error) {
	runtime.LockOSThread() // the tracer must also be the thread that reaps the child
	defer runtime.UnlockOSThread()
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: size}}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"minibox-userns-probe"},
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: ids,
			GidMappings: ids, GidMappingsEnableSetgroups: true, Ptrace: true, Pdeathsig: syscall.SIGKILL}}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a user namespace holder: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	return os.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
}

func nftablesWork() bool {
	c, err := nftables.New() // not lasting: each request has its own socket, closed after it
	if err != nil {
		return false
	}
	_, err = c.ListTables()
	return err == nil
}
