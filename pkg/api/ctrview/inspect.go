// Package ctrview turns what the engine knows of a container into the native API's
// shapes; the server and Docker's API (through pkg/api/dockershape) answer with them.
package ctrview

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/netport"
)

// defaultShmSize is /dev/shm's size when the container sets none.
const defaultShmSize = 64 << 20

// Inspect is Docker's inspect shape of d; it passes err on, so a call site reads
// ctrview.Inspect(eng.InspectContainer(id)).
func Inspect(d *engine.ContainerDetails, err error) (*api.ContainerInspect, error) {
	if err != nil {
		return nil, err
	}
	r, req := &d.Record, &d.Conf
	in := &api.ContainerInspect{
		ID: r.ID, Created: r.Created, Image: r.ImageID, Name: "/" + r.Name, RestartCount: r.RestartCount,
		LogPath: filepath.Join(d.Dir, "container.log"),
	}
	if len(r.Args) > 0 {
		in.Path, in.Args = r.Args[0], r.Args[1:]
	}
	if in.Args == nil {
		in.Args = []string{}
	}
	if req.Network != "host" {
		in.HostnamePath, in.HostsPath, in.ResolvConfPath = filepath.Join(d.Dir, "hostname"), filepath.Join(d.Dir, "hosts"), filepath.Join(d.Dir, "resolv.conf")
	}
	in.State = api.InspectState{
		Status: r.Status, Running: d.Running, Paused: r.Status == engine.StatusPaused,
		Restarting: r.Status == engine.StatusRestarting, OOMKilled: r.OOMKilled, Pid: r.PID,
		ExitCode: r.ExitCode, Error: r.Error, StartedAt: dockerTime(r.StartedAt), FinishedAt: dockerTime(r.FinishedAt),
	}
	if h := d.Health; h != nil {
		in.State.Health = &api.InspectHealth{Status: h.Status, FailingStreak: h.FailingStreak, Log: []api.HealthProbe{}}
		for _, p := range h.Log {
			in.State.Health.Log = append(in.State.Health.Log, api.HealthProbe{Start: p.Start, End: p.End, ExitCode: p.ExitCode, Output: p.Output})
		}
	}
	in.Config = api.InspectConfig{
		Hostname: d.Hostname, User: d.User, Tty: req.Tty, OpenStdin: req.Stdin, Env: d.Env,
		Cmd: req.Command, Image: d.Image, WorkingDir: d.WorkingDir, Labels: d.Labels,
		StopSignal: d.StopSignal, Healthcheck: Healthcheck(d.Healthcheck),
	}
	if in.Config.Cmd == nil && req.Entrypoint == nil {
		in.Config.Cmd = r.Config.Cmd
	}
	in.Config.Entrypoint = r.Config.Entrypoint
	if req.Entrypoint != nil {
		in.Config.Entrypoint = *req.Entrypoint
	}
	if len(r.Config.ExposedPorts)+len(req.Expose) > 0 {
		in.Config.ExposedPorts = map[string]struct{}{}
		for p := range r.Config.ExposedPorts {
			in.Config.ExposedPorts[p] = struct{}{}
		}
		for _, p := range req.Expose {
			in.Config.ExposedPorts[p] = struct{}{}
		}
	}
	in.HostConfig = hostConfig(d)
	for _, m := range r.Mounts {
		in.Mounts = append(in.Mounts, api.InspectMount{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Target, RW: !m.ReadOnly})
		if m.Type == "bind" {
			mode := ""
			if m.ReadOnly {
				mode = ":ro"
			}
			in.HostConfig.Binds = append(in.HostConfig.Binds, m.Source+":"+m.Target+mode)
		}
	}
	if in.Mounts == nil {
		in.Mounts = []api.InspectMount{}
	}
	in.NetworkSettings = networkSettings(d)
	in.GraphDriver.Name = "overlay"
	in.GraphDriver.Data = map[string]string{"UpperDir": filepath.Join(d.Dir, "upper"), "WorkDir": filepath.Join(d.Dir, "work")}
	return in, nil
}

// Healthcheck is a health check in the API's shape (nanoseconds).
func Healthcheck(h *ctrconfig.Healthcheck) *api.Healthcheck {
	if h == nil {
		return nil
	}
	return &api.Healthcheck{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout),
		StartPeriod: int64(h.StartPeriod), Retries: h.Retries, Disable: h.Disable}
}

// hostConfig is the HostConfig section, as Docker names its fields.
func hostConfig(d *engine.ContainerDetails) api.InspectHostConfig {
	req := &d.Conf
	oom := 0
	if req.OOMScoreAdj != nil {
		oom = *req.OOMScoreAdj
	}
	hc := api.InspectHostConfig{
		NetworkMode: req.Network, Privileged: req.Privileged, ReadonlyRootfs: req.ReadOnly,
		AutoRemove: req.AutoRemove, CapAdd: req.CapAdd, CapDrop: req.CapDrop, Memory: req.Memory,
		MemorySwap: req.MemorySwap, NanoCpus: int64(req.CPUs * 1e9), CpuQuota: d.CPUQuota,
		CpuPeriod: req.CPUPeriod, CpuShares: req.CPUShares, CpusetCpus: req.CpusetCpus,
		PidsLimit: req.PidsLimit, BlkioWeight: req.BlkioWeight, ShmSize: req.ShmSize, OomScoreAdj: oom,
		RestartPolicy: api.RestartPolicy{Name: req.Restart.Name, MaximumRetryCount: req.Restart.MaxRetries},
		Sysctls:       req.Sysctls, SecurityOpt: req.SecurityOpt,
		UsernsMode: req.UserNS, Dns: req.DNS, ExtraHosts: req.ExtraHosts,
		IpcMode: req.IPC, PidMode: req.PID, UTSMode: req.UTS, CgroupnsMode: req.CgroupNS,
		GroupAdd: req.GroupAdd, VolumesFrom: req.VolumesFrom, MemoryReservation: req.MemoryReservation,
		Devices: []api.DeviceMapping{},
	}
	if req.Publish != nil {
		hc.PortBindings = make([]api.PortBinding, 0, len(req.Publish))
		for _, p := range req.Publish {
			hc.PortBindings = append(hc.PortBindings, requested(p))
		}
	}
	if hc.IpcMode == "" {
		hc.IpcMode = ctrconfig.NSPrivate
	}
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = ctrconfig.NSPrivate
	}
	for _, l := range req.Links {
		name, alias := ctrconfig.ParseLink(l)
		hc.Links = append(hc.Links, "/"+strings.TrimPrefix(name, "/")+":/"+d.Name+"/"+alias)
	}
	for _, dev := range req.Devices {
		hc.Devices = append(hc.Devices, api.DeviceMapping{PathOnHost: dev.Host, PathInContainer: dev.Container, CgroupPermissions: dev.Perms})
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = defaultShmSize
	}
	return hc
}

// requested is a port as the create request named it: an empty host address for every
// address.
func requested(p netport.Port) api.PortBinding {
	b := api.PortBinding{HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
	if p.HostIP.IsValid() {
		b.HostIP = p.HostIP.String()
	}
	return b
}

// networkSettings is the NetworkSettings section: the primary network's address and the
// published ports while running, every network's endpoint.
func networkSettings(d *engine.ContainerDetails) api.InspectNetwork {
	req := &d.Conf
	ns := api.InspectNetwork{Ports: map[string][]api.HostIP{}, Networks: Endpoints(d.Endpoints)}
	live := func() {
		for _, p := range d.Ports {
			ns.Ports[p.Key()] = append(ns.Ports[p.Key()], api.HostIP{HostIP: p.BindIP().String(), HostPort: strconv.Itoa(int(p.HostPort))})
		}
	}
	if req.Network == "bridge" {
		ns.Bridge = "minibox0"
		if d.Running && d.IP != "" {
			ns.IPAddress, ns.Gateway, ns.MacAddress = d.IP, d.Gateway, d.MAC
		}
		for _, p := range req.Publish {
			ns.Ports[p.Key()] = nil
		}
		if d.Running {
			live()
		}
	}
	if len(d.Record.Endpoints) > 0 && req.Network != "bridge" && d.Running {
		if ep, ok := d.Endpoints[req.Network]; ok {
			ns.IPAddress, ns.Gateway, ns.MacAddress = ep.IPAddress, ep.Gateway, ep.MacAddress
		}
		live()
	}
	return ns
}

func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
