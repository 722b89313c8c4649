package engine

import (
	"errors"
	"fmt"
	"os"
	"path"
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
// --uts, --cgroupns), host devices (--device, --gpus), another container's volumes
// (--volumes-from) and names (--link).

// checkShares checks, at create, what the validator cannot know: that the devices exist
// on this host, that the containers named exist, and that shared namespaces do not meet
// the daemon's default user namespace. It adds --volumes-from's mounts to req.
func (e *Engine) checkShares(req *ctrconfig.Config) error {
	usernsAuto := userns(req, e.Cfg) == "auto"
	for _, m := range []struct{ field, v string }{{"ipc", req.IPC}, {"pid", req.PID}, {"uts", req.UTS}} {
		target, joins := ctrconfig.ContainerNS(m.v)
		if usernsAuto && (m.v == ctrconfig.NSHost || joins) {
			return &ctrconfig.FieldError{Field: m.field, Msg: fmt.Sprintf("%q: this daemon runs containers in user namespaces (--userns auto); pass --userns host to share the %s namespace", m.v, strings.ToUpper(m.field))}
		}
		if joins {
			if _, err := e.lookup(target); err != nil {
				return fmt.Errorf("%s container:%s: %w", m.field, target, err)
			}
		}
	}
	for i, d := range req.Devices {
		if _, _, err := hostDevice(d); err != nil {
			return &ctrconfig.FieldError{Field: fmt.Sprintf("devices[%d]", i), Msg: err.Error()}
		}
	}
	if req.GPUs != nil {
		if _, _, _, err := gpuDevices(e.gpuRoot(), req.GPUs); err != nil {
			return &ctrconfig.FieldError{Field: "gpus", Msg: err.Error()}
		}
	}
	for _, l := range req.Links {
		name, _ := ctrconfig.ParseLink(l)
		if _, err := e.lookup(name); err != nil {
			return fmt.Errorf("could not get container for %s: %w", name, err)
		}
	}
	return e.volumesFrom(req)
}

// volumesFrom adds the volumes and binds of each --volumes-from container at the same
// targets, read-only when asked (or when they were), unless the request mounts there
// itself.
func (e *Engine) volumesFrom(req *ctrconfig.Config) error {
	taken := map[string]bool{}
	for _, m := range req.Mounts {
		taken[path.Clean(m.Target)] = true
	}
	for _, v := range req.Volumes {
		t, _ := splitMode(v)
		taken[path.Clean(t)] = true
	}
	for _, v := range req.NamedVolumes {
		t, _ := splitMode(v)
		taken[path.Clean(t)] = true
	}
	for _, t := range req.Tmpfs {
		t, _, _ = strings.Cut(t, ":")
		taken[path.Clean(t)] = true
	}
	for _, vf := range req.VolumesFrom {
		name, mode, _ := strings.Cut(vf, ":")
		c, err := e.lookup(name)
		if err != nil {
			return fmt.Errorf("volumes-from %s: %w", name, err)
		}
		src := e.snapshot(c)
		for _, m := range src.Mounts {
			if m.Type == "tmpfs" || taken[m.Target] {
				continue
			}
			taken[m.Target] = true
			ro := m.ReadOnly
			if mode != "" {
				ro = mode == "ro"
			}
			mr := ctrconfig.Mount{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: ro, IDMap: m.IDMap}
			if m.Type == "volume" {
				mr.Source = m.Name
			}
			req.Mounts = append(req.Mounts, mr)
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

// gpuRoot is where the host's NVIDIA driver lives: its device nodes under dev/, its
// libraries and tools at their usual paths.
func (e *Engine) gpuRoot() string {
	if e.Cfg.GPUDriverRoot != "" {
		return e.Cfg.GPUDriverRoot
	}
	return "/"
}

// shareSpec fills in what the container shares: host namespaces, devices, groups, the
// soft memory limit. Other containers' namespaces are joined at start (joinNamespaces).
func (e *Engine) shareSpec(r *Record, s *spec.Spec) error {
	req := &r.Conf
	ns := map[string]string{}
	for kind, mode := range map[string]string{spec.NSIPC: req.IPC, spec.NSPID: req.PID, spec.NSUTS: req.UTS, spec.NSCgroup: req.CgroupNS} {
		if mode == ctrconfig.NSHost {
			ns[kind] = spec.NSHost
		}
	}
	if len(ns) > 0 {
		s.Namespaces = ns
	}
	switch req.IPC {
	case ctrconfig.NSNone:
		s.NoShm = true
	case ctrconfig.NSShareable:
		s.ShmPath = filepath.Join(s.Dir, "shm")
	case ctrconfig.NSHost:
		s.ShmPath = "/dev/shm" // Docker's: the host's /dev/shm with its IPC namespace
	}
	s.Process.GroupAdd = req.GroupAdd
	for _, d := range req.Devices {
		dev, rule, err := hostDevice(d)
		if err != nil {
			return errdefs.Invalid(err.Error())
		}
		s.Devices, s.Resources.Devices = append(s.Devices, dev), append(s.Resources.Devices, rule)
	}
	if req.GPUs != nil {
		devs, rules, drv, err := gpuDevices(e.gpuRoot(), req.GPUs)
		if err != nil {
			return errdefs.Invalid("gpus: " + err.Error())
		}
		s.Devices, s.Resources.Devices = append(s.Devices, devs...), append(s.Resources.Devices, rules...)
		s.Driver = drv
	}
	return nil
}

// joinNamespaces points the spec at the namespaces of the containers --ipc and --pid
// container:<name> join; each must be running, and an IPC donor shareable (Docker's rule:
// its /dev/shm is then on the host, for the joiner to bind).
func (e *Engine) joinNamespaces(r *Record, s *spec.Spec) error {
	for _, j := range []struct{ kind, mode string }{{spec.NSIPC, r.Conf.IPC}, {spec.NSPID, r.Conf.PID}} {
		target, ok := ctrconfig.ContainerNS(j.mode)
		if !ok {
			continue
		}
		c, err := e.lookup(target)
		if err != nil {
			return fmt.Errorf("%s container:%s: %w", j.kind, target, err)
		}
		t := e.snapshot(c)
		if t.ID == r.ID {
			return errdefs.Invalid(fmt.Sprintf("%s container:%s: a container cannot join its own namespace", j.kind, target))
		}
		e.cmu.RLock()
		shim := c.shim
		e.cmu.RUnlock()
		if shim == nil {
			return errdefs.Conflict(fmt.Sprintf("cannot join %s of a non running container: %s", strings.ToUpper(j.kind), t.Name))
		}
		if j.kind == spec.NSIPC {
			switch t.Conf.IPC {
			case ctrconfig.NSShareable:
				s.ShmPath = filepath.Join(e.ctrDir(t.ID), "shm")
			case ctrconfig.NSHost:
				s.ShmPath = "/dev/shm"
			default:
				return errdefs.Conflict(fmt.Sprintf("container %s has a non-shareable IPC namespace (hint: create it with --ipc shareable)", t.Name))
			}
		}
		if s.Namespaces == nil {
			s.Namespaces = map[string]string{}
		}
		s.Namespaces[j.kind] = "/proc/" + strconv.Itoa(shim.PID()) + "/ns/" + j.kind
	}
	return nil
}

// mountShm mounts a shareable container's /dev/shm on the host (a tmpfs in its directory)
// before its init is cloned, so that init and the containers joining it bind the same.
func mountShm(s *spec.Spec) error {
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

// unmountShm lets go of a shareable container's /dev/shm when its run ends; containers
// still joined keep their own binds of it.
func unmountShm(dir string) {
	unix.Unmount(filepath.Join(dir, "shm"), unix.MNT_DETACH)
}

// killLeftovers kills what is in the cgroup of a container whose init is not PID 1 of a
// namespace of its own (--pid host or container:<name>), on SIGKILL and after its end:
// the kernel kills a namespace's processes with its PID 1, not with another process.
func (e *Engine) killLeftovers(r *Record) {
	if r.Conf.PID == "" {
		return
	}
	pids, _ := e.cg.Pids(cgroupPath(r.ID))
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL)
	}
}
