package engine

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/spec"
)

// buildSpec turns a record into the container's config.json for one start; lower is the
// layer directories, top first (nil while only recording the create). pkg/engine/runspec
// holds the rules; this gathers what they take: the mounts, devices and host facts.
func (e *Engine) buildSpec(r *Record, lower []string) (*spec.Spec, error) {
	if lower == nil {
		lower = runspec.Unpacked(e.Root, r.Layers)
	}
	mounts, err := e.vols.SpecMounts(r.Mounts)
	if err != nil {
		return nil, err
	}
	devs, err := runspec.ResolveDevices(&r.Conf, e.gpuRoot())
	if err != nil {
		return nil, err
	}
	c := &runspec.Container{
		ID: r.ID, Name: r.Name, Dir: e.ctrDir(r.ID), Conf: &r.Conf, Image: &r.Config, Args: r.Args,
		Lower: lower, CgroupPath: cgroupPath(r.ID), Log: ctrio.LogConfig(&r.Conf), Mounts: mounts, Devices: devs,
	}
	s, err := runspec.Build(c, e.specHost(&r.Conf))
	if err != nil {
		return nil, err
	}
	if err := runspec.ShareSeccomp(e.Root, s); err != nil {
		return nil, err
	}
	return s, nil
}

// specHost is what runspec needs of this host for conf.
func (e *Engine) specHost(conf *ctrconfig.Config) *runspec.Host {
	h := &runspec.Host{UserNS: e.Cfg.UserNS, SubUIDBase: e.Cfg.SubUIDBase, SubUIDCount: e.Cfg.SubUIDCount, RlimitMax: runspec.HostRlimitMax}
	if conf.UTS == ctrconfig.NSHost {
		h.Hostname, _ = os.Hostname()
	}
	if e.cg != nil {
		h.Workload = e.cg.Workload
	}
	return h
}

func hostnameOf(r *Record) string {
	var host string
	if r.Conf.UTS == ctrconfig.NSHost {
		host, _ = os.Hostname()
	}
	return runspec.Hostname(&r.Conf, r.Name, r.ID, host)
}

// gpuRoot is where the host's NVIDIA driver lives: its device nodes under dev/, its
// libraries and tools at their usual paths.
func (e *Engine) gpuRoot() string {
	if e.Cfg.GPUDriverRoot != "" {
		return e.Cfg.GPUDriverRoot
	}
	return "/"
}

// checkShares checks, at create, what the validator cannot know: that the devices exist
// on this host, that the containers named exist, and that shared namespaces do not meet
// the daemon's default user namespace. It adds --volumes-from's mounts to req.
func (e *Engine) checkShares(req *ctrconfig.Config) error {
	exists := func(ref string) error { _, err := e.lookup(ref); return err }
	if err := runspec.CheckNamespaces(req, e.Cfg.UserNS, exists); err != nil {
		return err
	}
	if err := runspec.CheckDevices(req, e.gpuRoot()); err != nil {
		return err
	}
	for _, l := range req.Links {
		name, _ := ctrconfig.ParseLink(l)
		if err := exists(name); err != nil {
			return fmt.Errorf("could not get container for %s: %w", name, err)
		}
	}
	for _, vf := range req.VolumesFrom {
		name, mode, _ := strings.Cut(vf, ":")
		c, err := e.lookup(name)
		if err != nil {
			return fmt.Errorf("volumes-from %s: %w", name, err)
		}
		volumesvc.Inherit(req, e.snapshot(c).Mounts, mode)
	}
	return nil
}

// joinNamespaces points the spec at the namespaces of the containers --ipc and --pid
// container:<name> join.
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
		d := runspec.Donor{Ref: target, ID: t.ID, Name: t.Name, Dir: e.ctrDir(t.ID), IPC: t.Conf.IPC}
		e.store.RLock()
		if c.shim != nil {
			d.InitPID = c.shim.PID()
		}
		e.store.RUnlock()
		if err := runspec.Join(s, j.kind, d); err != nil {
			return err
		}
	}
	return nil
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

func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

func macString(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}
