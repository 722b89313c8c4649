package ns

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

// CloneFlags are the namespaces init starts in: pid, mount, uts, ipc, network unless the
// container uses the host's, and user when the spec maps IDs.
func CloneFlags(s *spec.Spec) uintptr {
	f := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if s.Network != "host" && s.NetNSPath == "" {
		f |= unix.CLONE_NEWNET
	}
	if s.UserNS != nil {
		f |= unix.CLONE_NEWUSER
	}
	return f
}

// Attr is the SysProcAttr that clones init into its namespaces.
// With a user namespace, Go writes uid_map and gid_map between clone and exec (setgroups
// allowed, so init can set the workload's supplementary groups).
func Attr(s *spec.Spec) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Cloneflags: CloneFlags(s)}
	if m := s.UserNS; m != nil {
		ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.HostID), Size: int(m.Size)}}
		a.UidMappings, a.GidMappings = ids, ids
		a.GidMappingsEnableSetgroups = true
		// Our host uid 0 is unmapped in there: become the namespace's root before exec,
		// or init would run as the overflow uid without capabilities.
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	return a
}

// Warm are the namespaces of an init cloned before its container is known (a warm shim's):
// those of every container without a user namespace and with a network namespace of its
// own ("bridge", "none").
const Warm = uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET)

// FitsWarm reports whether s can run in a warm init.
func FitsWarm(s *spec.Spec) bool { return CloneFlags(s) == Warm && s.UserNS == nil }
