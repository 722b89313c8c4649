package engine

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/network"
)

// ContainerFilter selects containers for GET /containers; empty fields match all.
type ContainerFilter struct {
	Project, Status, Name string
	Labels                []string // "k" or "k=v"
}

func (f ContainerFilter) empty() bool {
	return f.Project == "" && f.Status == "" && f.Name == "" && len(f.Labels) == 0
}

func (f ContainerFilter) match(r *Record) bool {
	if f.Project != "" && r.Conf.Project != f.Project && r.Conf.Labels["minibox.compose.project"] != f.Project {
		return false
	}
	if f.Status != "" && r.Status != f.Status {
		return false
	}
	if f.Name != "" && !strings.Contains(r.Name, strings.TrimPrefix(f.Name, "/")) {
		return false
	}
	for _, l := range f.Labels {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := labels(r)[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

func labels(r *Record) map[string]string {
	out := map[string]string{}
	for k, v := range r.Config.Labels {
		out[k] = v
	}
	for k, v := range r.Conf.Labels {
		out[k] = v
	}
	if r.Conf.Project != "" {
		out["minibox.compose.project"] = r.Conf.Project
	}
	if r.Conf.Service != "" {
		out["minibox.compose.service"] = r.Conf.Service
	}
	return out
}

// ListContainersJSON answers GET /containers: {"<id>": summary} of every container. The
// unfiltered answer is cached until something changes.
func (e *Engine) ListContainersJSON(f ContainerFilter) ([]byte, error) {
	e.cmu.RLock()
	if f.empty() && e.listJSON != nil && e.listGen == e.gen {
		b := e.listJSON
		e.cmu.RUnlock()
		return b, nil
	}
	gen := e.gen
	out := make(map[string]api.ContainerSummary, len(e.ctrs))
	for id, c := range e.ctrs {
		if f.match(c.rec) {
			out[id] = summaryOf(c.rec, c.health)
		}
	}
	e.cmu.RUnlock()
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if f.empty() {
		e.cmu.Lock()
		if e.gen == gen {
			e.listJSON, e.listGen = b, gen
		}
		e.cmu.Unlock()
	}
	return b, nil
}

func summaryOf(r *Record, h *healthState) api.ContainerSummary {
	health, _, _ := h.snapshot()
	if r.Status != StatusRunning && r.Status != StatusPaused {
		if h == nil || health == HealthStarting {
			health = HealthNone
		}
	}
	s := api.ContainerSummary{
		ID: r.ID, Name: r.Name, Image: displayImage(r), ImageDigest: r.ImageDigest, Command: r.Args,
		PID: r.PID, Status: r.Status, Health: health, CreatedAt: r.Created, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ExitCode: r.ExitCode, OOMKilled: r.OOMKilled, Ports: map[string]int{},
		Publish: []api.PortBinding{}, Project: r.Conf.Project, Service: r.Conf.Service, IP: r.IP,
		Labels: labels(r), RestartCount: r.RestartCount,
	}
	if s.Command == nil {
		s.Command = []string{}
	}
	if r.Status == StatusRunning || r.Status == StatusPaused {
		for _, p := range r.Ports {
			s.Publish = append(s.Publish, bindingOf(p))
			if p.Proto == "tcp" {
				s.Ports[strconv.Itoa(int(p.HostPort))] = int(p.ContainerPort)
			}
		}
	} else {
		for _, p := range r.Conf.Publish {
			s.Publish = append(s.Publish, requestedBinding(p))
		}
	}
	return s
}

func bindingOf(p network.Port) api.PortBinding {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return api.PortBinding{HostIP: ip, HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
}

// requestedBinding is a port as the create request named it: an empty host address for
// every address.
func requestedBinding(p network.Port) api.PortBinding {
	b := api.PortBinding{HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
	if p.HostIP.IsValid() {
		b.HostIP = p.HostIP.String()
	}
	return b
}

// requestedBindings are the ports as the create request named them.
func requestedBindings(ps []network.Port) []api.PortBinding {
	if ps == nil {
		return nil
	}
	out := make([]api.PortBinding, 0, len(ps))
	for _, p := range ps {
		out = append(out, requestedBinding(p))
	}
	return out
}

// wireHealthcheck is a health check in the API's shape (nanoseconds).
func wireHealthcheck(h *ctrconfig.Healthcheck) *api.Healthcheck {
	if h == nil {
		return nil
	}
	return &api.Healthcheck{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout),
		StartPeriod: int64(h.StartPeriod), Retries: h.Retries, Disable: h.Disable}
}

func displayImage(r *Record) string {
	if r.Image != "" {
		return r.Image
	}
	return r.ImageName
}

// InspectContainer is Docker's inspect shape.
func (e *Engine) InspectContainer(ref string) (*api.ContainerInspect, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	e.cmu.RLock()
	r := *c.rec
	h := c.health
	e.cmu.RUnlock()
	dir := e.ctrDir(r.ID)
	req := &r.Conf
	in := &api.ContainerInspect{
		ID: r.ID, Created: r.Created, Image: r.ImageID, Name: "/" + r.Name, RestartCount: r.RestartCount,
		LogPath: filepath.Join(dir, "container.log"),
	}
	if len(r.Args) > 0 {
		in.Path, in.Args = r.Args[0], r.Args[1:]
	}
	if in.Args == nil {
		in.Args = []string{}
	}
	if req.Network != "host" {
		in.HostnamePath, in.HostsPath, in.ResolvConfPath = filepath.Join(dir, "hostname"), filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	}
	in.State = api.InspectState{
		Status: r.Status, Running: r.Status == StatusRunning || r.Status == StatusPaused,
		Paused: r.Status == StatusPaused, Restarting: r.Status == StatusRestarting,
		OOMKilled: r.OOMKilled, Pid: r.PID, ExitCode: r.ExitCode, Error: r.Error,
		StartedAt: dockerTime(r.StartedAt), FinishedAt: dockerTime(r.FinishedAt),
	}
	in.State.Health = inspectHealth(&r, h, in.State.Running)
	s, _ := e.buildSpec(&r, nil)
	env, user, cwd := []string{}, req.User, req.WorkingDir
	if s != nil {
		env, user, cwd = s.Process.Env, s.Process.User, s.Process.Cwd
	}
	in.Config = api.InspectConfig{
		Hostname: hostnameOf(&r), User: user, Tty: req.Tty, OpenStdin: req.Stdin, Env: env,
		Cmd: req.Command, Image: displayImage(&r), WorkingDir: cwd, Labels: labels(&r),
		StopSignal: stopSignalOf(&r, &r.Config), Healthcheck: wireHealthcheck(healthcheckOf(&r)),
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
	in.HostConfig = inspectHostConfig(&r)
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
	in.NetworkSettings = e.inspectNetwork(&r, in.State.Running)
	in.GraphDriver.Name = "overlay"
	in.GraphDriver.Data = map[string]string{"UpperDir": filepath.Join(dir, "upper"), "WorkDir": filepath.Join(dir, "work")}
	return in, nil
}

// inspectHealth is the health section: nil without a healthcheck; a stopped container
// that never finished starting shows none.
func inspectHealth(r *Record, h *healthState, running bool) *api.InspectHealth {
	if healthcheckOf(r) == nil {
		return nil
	}
	status, failing, log := h.snapshot()
	if !running && status == HealthStarting {
		status = HealthNone
	}
	if log == nil {
		log = []api.HealthProbe{}
	}
	return &api.InspectHealth{Status: status, FailingStreak: failing, Log: log}
}

// inspectHostConfig is the HostConfig section, as Docker names its fields.
func inspectHostConfig(r *Record) api.InspectHostConfig {
	req := &r.Conf
	policy, max := req.Restart.Name, req.Restart.MaxRetries
	oom := 0
	if req.OOMScoreAdj != nil {
		oom = *req.OOMScoreAdj
	}
	res := resourcesOf(&req.Resources)
	hc := api.InspectHostConfig{
		NetworkMode: req.Network, Privileged: req.Privileged, ReadonlyRootfs: req.ReadOnly,
		AutoRemove: req.AutoRemove, CapAdd: req.CapAdd, CapDrop: req.CapDrop, Memory: req.Memory,
		MemorySwap: req.MemorySwap, NanoCpus: int64(req.CPUs * 1e9), CpuQuota: res.CPUQuota,
		CpuPeriod: req.CPUPeriod, CpuShares: req.CPUShares, CpusetCpus: req.CpusetCpus,
		PidsLimit: req.PidsLimit, BlkioWeight: req.BlkioWeight, ShmSize: req.ShmSize, OomScoreAdj: oom,
		RestartPolicy: api.RestartPolicy{Name: policy, MaximumRetryCount: max},
		PortBindings:  requestedBindings(req.Publish), Sysctls: req.Sysctls, SecurityOpt: req.SecurityOpt,
		UsernsMode: req.UserNS, Dns: req.DNS, ExtraHosts: req.ExtraHosts,
		IpcMode: req.IPC, PidMode: req.PID, UTSMode: req.UTS, CgroupnsMode: req.CgroupNS,
		GroupAdd: req.GroupAdd, VolumesFrom: req.VolumesFrom, MemoryReservation: req.MemoryReservation,
		Devices: []api.DeviceMapping{},
	}
	if hc.IpcMode == "" {
		hc.IpcMode = "private"
	}
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = "private"
	}
	for _, l := range req.Links {
		name, alias := ctrconfig.ParseLink(l)
		hc.Links = append(hc.Links, "/"+strings.TrimPrefix(name, "/")+":/"+r.Name+"/"+alias)
	}
	for _, dev := range req.Devices {
		hc.Devices = append(hc.Devices, api.DeviceMapping{PathOnHost: dev.Host, PathInContainer: dev.Container, CgroupPermissions: dev.Perms})
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = 64 * mib
	}
	return hc
}

// inspectNetwork is the NetworkSettings section: the primary network's address and the
// published ports while running, every network's endpoint.
func (e *Engine) inspectNetwork(r *Record, running bool) api.InspectNetwork {
	req := &r.Conf
	ns := api.InspectNetwork{Ports: map[string][]api.HostIP{}}
	if req.Network == "bridge" {
		ns.Bridge = "minibox0"
		if running && r.IP != "" {
			ns.IPAddress = r.IP
			ns.Gateway = network.Gateway(e.Cfg.BridgeSubnet).String()
			if a, err := parseAddr(r.IP); err == nil {
				ns.MacAddress = macString(network.MAC(a))
			}
		}
		for _, p := range r.Conf.Publish {
			ns.Ports[p.Key()] = nil
		}
		if running {
			for _, p := range r.Ports {
				key := strconv.Itoa(int(p.ContainerPort)) + "/" + p.Proto
				b := bindingOf(p)
				ns.Ports[key] = append(ns.Ports[key], api.HostIP{HostIP: b.HostIP, HostPort: strconv.Itoa(b.HostPort)})
			}
		}
	}
	ns.Networks = e.inspectEndpoints(r, running)
	if len(r.Endpoints) > 0 && req.Network != "bridge" && running {
		if ep, ok := ns.Networks[req.Network]; ok {
			ns.IPAddress, ns.Gateway, ns.MacAddress = ep.IPAddress, ep.Gateway, ep.MacAddress
		}
		for _, p := range r.Ports {
			key := strconv.Itoa(int(p.ContainerPort)) + "/" + p.Proto
			b := bindingOf(p)
			ns.Ports[key] = append(ns.Ports[key], api.HostIP{HostIP: b.HostIP, HostPort: strconv.Itoa(b.HostPort)})
		}
	}
	return ns
}

func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
