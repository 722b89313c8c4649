package ns

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

// CloneFlags are the namespaces init starts in: mount; pid, uts, ipc and network unless the
// container shares the host's or joins another container's; user when the spec maps IDs.
func CloneFlags(s *spec.Spec) uintptr {
	f := uintptr(unix.CLONE_NEWNS)
	for _, k := range [...]struct {
		kind string
		flag uintptr
	}{{spec.NSPID, unix.CLONE_NEWPID}, {spec.NSUTS, unix.CLONE_NEWUTS}, {spec.NSIPC, unix.CLONE_NEWIPC}} {
		if s.NewNS(k.kind) {
			f |= k.flag
		}
	}
	if s.Network != "host" && s.NetNSPath == "" {
		f |= unix.CLONE_NEWNET
	}
	if s.UserNS != nil {
		f |= unix.CLONE_NEWUSER
	}
	return f
}

// Joins are the namespaces the thread that clones init enters first, other containers'
// (init inherits them): kind ("net", "ipc", "pid", "uts") and path. The pid namespace is
// last: joining it changes only the namespace of the children to come.
func Joins(s *spec.Spec) [][2]string {
	var out [][2]string
	if s.NetNSPath != "" {
		out = append(out, [2]string{"net", s.NetNSPath})
	}
	for _, kind := range []string{spec.NSIPC, spec.NSUTS, spec.NSPID} {
		if p := s.Namespaces[kind]; p != "" && p != spec.NSHost {
			out = append(out, [2]string{kind, p})
		}
	}
	return out
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
