package runspec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/spec"
)

// What a container shares with the host or other containers: namespaces (--ipc, --pid,
// --uts, --cgroupns), host devices (--device, --gpus) and groups.

// share fills in the host namespaces, /dev/shm and groups the configuration asks for.
// Other containers' namespaces are joined at start (Join).
func share(conf *ctrconfig.Config, s *spec.Spec) {
	ns := map[string]string{}
	for kind, mode := range map[string]string{spec.NSIPC: conf.IPC, spec.NSPID: conf.PID, spec.NSUTS: conf.UTS, spec.NSCgroup: conf.CgroupNS} {
		if mode == ctrconfig.NSHost {
			ns[kind] = spec.NSHost
		}
	}
	if len(ns) > 0 {
		s.Namespaces = ns
	}
	switch conf.IPC {
	case ctrconfig.NSNone:
		s.NoShm = true
	case ctrconfig.NSShareable:
		s.ShmPath = filepath.Join(s.Dir, "shm")
	case ctrconfig.NSHost:
		s.ShmPath = "/dev/shm" // Docker's: the host's /dev/shm with its IPC namespace
	}
	s.Process.GroupAdd = conf.GroupAdd
}

// Devices are the host device nodes a container is given, with the cgroup rules that let
// it use them, and the GPU driver's files that come with --gpus.
type Devices struct {
	Nodes  []spec.Device
	Rules  []string
	Driver *spec.Driver
}

// ResolveDevices finds the configuration's --device and --gpus on this host (the GPU
// driver at gpuRoot). What is gone since the create is a 400.
func ResolveDevices(conf *ctrconfig.Config, gpuRoot string) (Devices, error) {
	var d Devices
	for _, dev := range conf.Devices {
		node, rule, err := hostDevice(dev)
		if err != nil {
			return Devices{}, errdefs.Invalid(err.Error())
		}
		d.Nodes, d.Rules = append(d.Nodes, node), append(d.Rules, rule)
	}
	if conf.GPUs != nil {
		nodes, rules, drv, err := gpuDevices(gpuRoot, conf.GPUs)
		if err != nil {
			return Devices{}, errdefs.Invalid("gpus: " + err.Error())
		}
		d.Nodes, d.Rules = append(d.Nodes, nodes...), append(d.Rules, rules...)
		d.Driver = drv
	}
	return d, nil
}

// CheckDevices is ResolveDevices at create, where an error names the field.
func CheckDevices(conf *ctrconfig.Config, gpuRoot string) error {
	for i, d := range conf.Devices {
		if _, _, err := hostDevice(d); err != nil {
			return &ctrconfig.FieldError{Field: fmt.Sprintf("devices[%d]", i), Msg: err.Error()}
		}
	}
	if conf.GPUs != nil {
		if _, _, _, err := gpuDevices(gpuRoot, conf.GPUs); err != nil {
			return &ctrconfig.FieldError{Field: "gpus", Msg: err.Error()}
		}
	}
	return nil
}

// CheckNamespaces refuses, at create, sharing the host's or another container's IPC, PID
// or UTS namespace from the daemon's default user namespace; it calls exists for each
// container whose namespace is joined.
func CheckNamespaces(conf *ctrconfig.Config, daemonUserNS string, exists func(ref string) error) error {
	usernsAuto := UserNS(conf, daemonUserNS) == "auto"
	for _, m := range []struct{ field, v string }{{"ipc", conf.IPC}, {"pid", conf.PID}, {"uts", conf.UTS}} {
		target, joins := ctrconfig.ContainerNS(m.v)
		if usernsAuto && (m.v == ctrconfig.NSHost || joins) {
			return &ctrconfig.FieldError{Field: m.field, Msg: fmt.Sprintf("%q: this daemon runs containers in user namespaces (--userns auto); pass --userns host to share the %s namespace", m.v, strings.ToUpper(m.field))}
		}
		if joins {
			if err := exists(target); err != nil {
				return fmt.Errorf("%s container:%s: %w", m.field, target, err)
			}
		}
	}
	return nil
}

// hostDevice resolves one --device on this host: the node (symlinks followed, as
// /dev/disk/by-id names are) and its cgroup rule.
func hostDevice(d ctrconfig.Device) (spec.Device, string, error) {
	host, err := filepath.EvalSymlinks(d.Host)
	if err != nil {
		return spec.Device{}, "", fmt.Errorf("error gathering device information while adding custom device %q: %w", d.Host, unwrapPath(err))
	}
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil {
		return spec.Device{}, "", fmt.Errorf("error gathering device information while adding custom device %q: %w", d.Host, err)
	}
	typ := ""
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return spec.Device{}, "", fmt.Errorf("error gathering device information while adding custom device %q: not a device node", d.Host)
	}
	rule := fmt.Sprintf("%s %d:%d %s", typ, unix.Major(st.Rdev), unix.Minor(st.Rdev), d.Perms)
	return spec.Device{HostPath: host, Path: d.Container}, rule, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Donor is a container whose IPC or PID namespace another joins (--ipc, --pid
// container:<name>).
type Donor struct {
	Ref      string // as the configuration names it
	ID, Name string
	Dir      string // its directory (a shareable /dev/shm is mounted there)
	IPC      string // its --ipc
	// InitPID is its init's PID on the host; 0 when it is not running.
	InitPID int
}

// Join points s at the namespace of kind (spec.NSIPC or spec.NSPID) of d, which must be
// running, not s's own container, and for IPC shareable (Docker's rule: its /dev/shm is
// then on the host, for the joiner to bind).
func Join(s *spec.Spec, kind string, d Donor) error {
	if d.ID == s.ID {
		return errdefs.Invalid(fmt.Sprintf("%s container:%s: a container cannot join its own namespace", kind, d.Ref))
	}
	if d.InitPID == 0 {
		return errdefs.Conflict(fmt.Sprintf("cannot join %s of a non running container: %s", strings.ToUpper(kind), d.Name))
	}
	if kind == spec.NSIPC {
		switch d.IPC {
		case ctrconfig.NSShareable:
			s.ShmPath = filepath.Join(d.Dir, "shm")
		case ctrconfig.NSHost:
			s.ShmPath = "/dev/shm"
		default:
			return errdefs.Conflict(fmt.Sprintf("container %s has a non-shareable IPC namespace (hint: create it with --ipc shareable)", d.Name))
		}
	}
	if s.Namespaces == nil {
		s.Namespaces = map[string]string{}
	}
	s.Namespaces[kind] = "/proc/" + strconv.Itoa(d.InitPID) + "/ns/" + kind
	return nil
}

// MountShm mounts a shareable container's /dev/shm on the host (a tmpfs in its directory)
// before its init is cloned, so that init and the containers joining it bind the same.
func MountShm(s *spec.Spec) error {
	if s.ShmPath != filepath.Join(s.Dir, "shm") {
		return nil
	}
	if err := os.Mkdir(s.ShmPath, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	var st, parent unix.Stat_t
	if unix.Lstat(s.ShmPath, &st) == nil && unix.Lstat(s.Dir, &parent) == nil && st.Dev != parent.Dev {
		return nil // mounted already (a daemon restart left it)
	}
	size := s.ShmSize
	if size <= 0 {
		size = mount.DefaultShmSize
	}
	if err := unix.Mount("shm", s.ShmPath, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, fmt.Sprintf("mode=1777,size=%d", size)); err != nil {
		return fmt.Errorf("mount /dev/shm of a shareable IPC namespace: %w", err)
	}
	return nil
}

// UnmountShm lets go of a shareable container's /dev/shm (in its directory dir) when its
// run ends; containers still joined keep their own binds of it.
func UnmountShm(dir string) {
	unix.Unmount(filepath.Join(dir, "shm"), unix.MNT_DETACH)
}
