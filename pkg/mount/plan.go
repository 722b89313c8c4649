package mount

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

// Kind says what Apply does with a Mount.
type Kind uint8

const (
	// KindMount is one mount(2) call; a bind with MS_RDONLY is a bind plus a read-only remount
	// (the kernel ignores MS_RDONLY on the bind itself).
	KindMount Kind = iota
	// KindSymlink creates Target as a symlink to Source.
	KindSymlink
	// KindMask hides Target: /dev/null bound over a file, an empty read-only tmpfs over a
	// directory. A missing Target is skipped.
	KindMask
	// KindReadonly binds Target over itself read-only. A missing Target is skipped.
	KindReadonly
	// KindCopyUp copies the rootfs content at Target into the (empty) directory Source,
	// Docker's rule for a fresh volume.
	KindCopyUp
	// KindPivot makes Root the root: pivot_root, or MS_MOVE + chroot when the current root
	// is a ramfs (pivot_root(2) refuses it, as on an initramfs).
	KindPivot
)

// Mount is one step of a plan. Target is a path inside Root when Root is set (resolved with
// symlinks scoped to Root), else a host path.
type Mount struct {
	Kind   Kind
	Source string
	Target string
	Type   string
	Flags  uintptr
	Data   string
	Root   string
}

func (m Mount) String() string {
	switch m.Kind {
	case KindSymlink:
		return fmt.Sprintf("symlink %s -> %s", filepath.Join(m.Root, m.Target), m.Source)
	case KindMask:
		return "mask " + filepath.Join(m.Root, m.Target)
	case KindReadonly:
		return "read-only " + filepath.Join(m.Root, m.Target)
	case KindCopyUp:
		return fmt.Sprintf("copy %s to volume %s", filepath.Join(m.Root, m.Target), m.Source)
	case KindPivot:
		return "pivot_root " + m.Root
	}
	return fmt.Sprintf("mount %s on %s type %s flags %#x data %q", m.Source, filepath.Join(m.Root, m.Target), m.Type, m.Flags, m.Data)
}

// Docker's default masked and read-only paths (moby oci/defaults.go).
var (
	DefaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	DefaultReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// Devices are the nodes every container's /dev gets, bound from the host's.
var Devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// DefaultShmSize is /dev/shm's size when the spec leaves it unset.
const DefaultShmSize = 64 << 20

// RootfsDir is where the rootfs is mounted inside the container directory (only in the
// container's mount namespace).
func RootfsDir(s *spec.Spec) string { return filepath.Join(s.Dir, "rootfs") }

// RootfsPlan is everything init mounts before the workload may run, in order: private
// propagation, the overlay, the kernel filesystems, /dev, volumes and binds, the /etc files,
// masked and read-only paths, pivot_root, and a read-only root for --read-only.
func RootfsPlan(s *spec.Spec) []Mount {
	root := RootfsDir(s)
	in := func(m Mount) Mount { m.Root = root; return m }
	const (
		nosuid  = unix.MS_NOSUID
		nodev   = unix.MS_NODEV
		noexec  = unix.MS_NOEXEC
		rec     = unix.MS_REC
		bind    = unix.MS_BIND
		private = unix.MS_PRIVATE
	)
	plan := []Mount{
		// The overlay and everything under it stay in this namespace: nothing propagates
		// back to the host's mount table, and pivot_root wants a non-shared parent.
		{Target: "/", Flags: rec | private},
		OverlayMount(s.Rootfs, root),
		in(Mount{Source: "proc", Target: "/proc", Type: "proc", Flags: nosuid | nodev | noexec}),
	}
	if s.Privileged {
		plan = append(plan, in(Mount{Source: "/dev", Target: "/dev", Flags: bind | rec}))
	} else {
		plan = append(plan, in(Mount{Source: "tmpfs", Target: "/dev", Type: "tmpfs",
			Flags: nosuid | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"}))
		for _, d := range Devices {
			plan = append(plan, in(Mount{Source: "/dev/" + d, Target: "/dev/" + d, Flags: bind}))
		}
	}
	shm := s.ShmSize
	if shm <= 0 {
		shm = DefaultShmSize
	}
	sysFlags := uintptr(nosuid | nodev | noexec)
	if !s.Privileged {
		sysFlags |= unix.MS_RDONLY
	}
	plan = append(plan,
		in(Mount{Source: "devpts", Target: "/dev/pts", Type: "devpts", Flags: nosuid | noexec,
			Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"}),
	)
	if !s.Privileged {
		// A privileged /dev is the host's own (a bind): it has these, and creating files
		// there would change the host.
		for _, l := range [][2]string{{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"},
			{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}} {
			plan = append(plan, in(Mount{Kind: KindSymlink, Source: l[0], Target: l[1]}))
		}
	}
	for _, d := range s.Devices {
		if s.Privileged && strings.HasPrefix(d.Path, "/dev/") && d.Path == d.HostPath {
			continue // the host's /dev is there already
		}
		plan = append(plan, in(Mount{Source: d.HostPath, Target: d.Path, Flags: bind}))
	}
	switch {
	case s.NoShm:
	case s.ShmPath != "":
		plan = append(plan, in(Mount{Source: s.ShmPath, Target: "/dev/shm", Flags: bind | nosuid | nodev | noexec}))
	default:
		plan = append(plan, in(Mount{Source: "shm", Target: "/dev/shm", Type: "tmpfs", Flags: nosuid | nodev | noexec,
			Data: fmt.Sprintf("mode=1777,size=%d", shm)}))
	}
	plan = append(plan,
		in(Mount{Source: "mqueue", Target: "/dev/mqueue", Type: "mqueue", Flags: nosuid | nodev | noexec}),
		in(Mount{Source: "sysfs", Target: "/sys", Type: "sysfs", Flags: sysFlags}),
	)
	for _, m := range s.Mounts {
		plan = append(plan, volumePlan(root, m)...)
	}
	if d := s.Driver; d != nil {
		for _, f := range d.Files {
			plan = append(plan, in(Mount{Source: f.HostPath, Target: f.Path, Flags: bind | rec | nosuid | nodev | unix.MS_RDONLY}))
		}
		for _, l := range d.Links {
			plan = append(plan, in(Mount{Kind: KindSymlink, Source: l.Target, Target: l.Path}))
		}
		if d.LdConf != "" {
			plan = append(plan, in(Mount{Source: d.LdConf, Target: spec.LdConfPath, Flags: bind | nosuid | nodev | noexec | unix.MS_RDONLY}))
		}
	}
	for _, f := range []struct{ src, dst string }{
		{s.HostsPath, "/etc/hosts"}, {s.ResolvPath, "/etc/resolv.conf"}, {s.HostnamePath, "/etc/hostname"},
	} {
		if f.src != "" {
			plan = append(plan, in(Mount{Source: f.src, Target: f.dst, Flags: bind}))
		}
	}
	masked, readonly := s.MaskedPaths, s.ReadonlyPaths
	if !s.Privileged {
		if masked == nil {
			masked = DefaultMaskedPaths
		}
		if readonly == nil {
			readonly = DefaultReadonlyPaths
		}
	}
	for _, p := range masked {
		plan = append(plan, in(Mount{Kind: KindMask, Target: p}))
	}
	for _, p := range readonly {
		plan = append(plan, in(Mount{Kind: KindReadonly, Target: p}))
	}
	plan = append(plan, Mount{Kind: KindPivot, Root: root})
	if s.Rootfs.ReadOnly {
		plan = append(plan, Mount{Target: "/", Flags: unix.MS_REMOUNT | bind | unix.MS_RDONLY})
	}
	return plan
}

// OverlayMount mounts the layers (top first) under upper at target. Without an upper
// directory the overlay is read-only; a single lower without upper is a plain bind.
func OverlayMount(r spec.Rootfs, target string) Mount {
	if r.Upper == "" {
		if len(r.Lower) == 1 {
			return Mount{Source: r.Lower[0], Target: target, Flags: unix.MS_BIND | unix.MS_REC}
		}
		return Mount{Source: "overlay", Target: target, Type: "overlay",
			Data: "lowerdir=" + strings.Join(r.Lower, ":")}
	}
	data := "lowerdir=" + strings.Join(r.Lower, ":") + ",upperdir=" + r.Upper + ",workdir=" + r.Work
	if r.Volatile {
		// Linux 5.10: no syncfs of the upper's filesystem (the host's) when the overlay goes.
		// That sync, in init's exit, was most of the time from a --rm workload's end to the CLI's.
		data += ",volatile"
	}
	return Mount{Source: "overlay", Target: target, Type: "overlay", Data: data}
}

// VolatileMarker is what a volatile overlay leaves in its work directory: overlayfs refuses to
// mount that upper again (it cannot tell a clean unmount from a crash) until it is removed.
func VolatileMarker(r spec.Rootfs) string { return filepath.Join(r.Work, "work", "incompat") }

func volumePlan(root string, m spec.Mount) []Mount {
	var plan []Mount
	switch m.Type {
	case "tmpfs":
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
		var data []string
		for _, o := range m.Options {
			switch o {
			case "ro":
				flags |= unix.MS_RDONLY
			case "noexec":
				flags |= unix.MS_NOEXEC
			case "exec", "rw", "nosuid", "nodev":
			default:
				data = append(data, o)
			}
		}
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		plan = append(plan, Mount{Source: "tmpfs", Target: m.Destination, Type: "tmpfs",
			Flags: flags, Data: strings.Join(data, ","), Root: root})
	default: // "bind", "volume"
		if m.CopyUp {
			plan = append(plan, Mount{Kind: KindCopyUp, Source: m.Source, Target: m.Destination, Root: root})
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REC)
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		plan = append(plan, Mount{Source: m.Source, Target: m.Destination, Flags: flags, Root: root})
	}
	return plan
}
