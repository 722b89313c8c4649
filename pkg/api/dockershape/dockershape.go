// Package dockershape converts minibox's native wire types (pkg/api) to Docker's
// (github.com/moby/moby/api), so that the Docker-compatible API and the CLI print the
// same shapes and a Docker user's scripts and templates carry over. It does no I/O.
package dockershape

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/storage"

	"github.com/minibox/minibox/pkg/api"
)

// Legacy is an inspect answer as clients before API 1.44 read it: the default
// network's address also at the top of NetworkSettings
// (docker inspect -f '{{.NetworkSettings.IPAddress}}').
type Legacy struct {
	*container.InspectResponse
	NetworkSettings LegacyNetworkSettings
}

// LegacyNetworkSettings is NetworkSettings with the top-level fields of API < 1.44.
type LegacyNetworkSettings struct {
	*container.NetworkSettings
	Bridge      string
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
}

// InspectLegacy is Inspect with the top-level network fields kept.
func InspectLegacy(in *api.ContainerInspect) Legacy {
	out := Inspect(in)
	ns := in.NetworkSettings
	return Legacy{InspectResponse: out, NetworkSettings: LegacyNetworkSettings{
		NetworkSettings: out.NetworkSettings, Bridge: ns.Bridge, IPAddress: ns.IPAddress,
		Gateway: ns.Gateway, MacAddress: ns.MacAddress, IPPrefixLen: prefixLen(ns.IPAddress)}}
}

func prefixLen(ip string) int {
	if ip == "" {
		return 0
	}
	return 24
}

// Inspect is a container's inspect answer in Docker's shape.
func Inspect(in *api.ContainerInspect) *container.InspectResponse {
	out := &container.InspectResponse{
		ID: in.ID, Created: in.Created.UTC().Format(time.RFC3339Nano), Path: in.Path, Args: in.Args,
		Image: in.Image, ResolvConfPath: in.ResolvConfPath, HostnamePath: in.HostnamePath, HostsPath: in.HostsPath,
		LogPath: in.LogPath, Name: in.Name, RestartCount: in.RestartCount, Driver: "overlay2", Platform: "linux",
		ExecIDs: nil, Mounts: []container.MountPoint{},
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: in.GraphDriver.Data},
	}
	out.State = state(&in.State)
	out.Config = config(&in.Config)
	out.HostConfig = hostConfig(&in.HostConfig)
	for _, m := range in.Mounts {
		out.Mounts = append(out.Mounts, container.MountPoint{Type: mount.Type(m.Type), Name: m.Name, Source: m.Source,
			Destination: m.Destination, RW: m.RW, Driver: VolumeDriver(m.Type)})
	}
	out.NetworkSettings = networkSettings(&in.NetworkSettings, in.HostConfig.NetworkMode)
	return out
}

func state(st *api.InspectState) *container.State {
	out := &container.State{Status: container.ContainerState(st.Status), Running: st.Running, Paused: st.Paused,
		Restarting: st.Restarting, OOMKilled: st.OOMKilled, Dead: st.Dead, Pid: st.Pid, ExitCode: st.ExitCode,
		Error: st.Error, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt}
	if h := st.Health; h != nil {
		out.Health = &container.Health{Status: container.HealthStatus(h.Status), FailingStreak: h.FailingStreak,
			Log: []*container.HealthcheckResult{}}
		for _, p := range h.Log {
			out.Health.Log = append(out.Health.Log, &container.HealthcheckResult{Start: p.Start, End: p.End, ExitCode: p.ExitCode, Output: p.Output})
		}
	}
	return out
}

func config(c *api.InspectConfig) *container.Config {
	out := &container.Config{Hostname: c.Hostname, User: c.User, Tty: c.Tty, OpenStdin: c.OpenStdin,
		StdinOnce: c.OpenStdin, AttachStdin: c.OpenStdin, AttachStdout: true, AttachStderr: true, Env: c.Env, Cmd: c.Cmd,
		Image: c.Image, WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, Labels: c.Labels, StopSignal: c.StopSignal}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = network.PortSet{}
		for p := range c.ExposedPorts {
			if pp, err := network.ParsePort(p); err == nil {
				out.ExposedPorts[pp] = struct{}{}
			}
		}
	}
	if h := c.Healthcheck; h != nil {
		test := h.Test
		if h.Disable && len(test) == 0 {
			test = []string{"NONE"}
		}
		out.Healthcheck = &container.HealthConfig{Test: test, Interval: time.Duration(h.Interval),
			Timeout: time.Duration(h.Timeout), StartPeriod: time.Duration(h.StartPeriod), Retries: h.Retries}
	}
	return out
}

func hostConfig(h *api.InspectHostConfig) *container.HostConfig {
	out := &container.HostConfig{
		NetworkMode: container.NetworkMode(NetworkMode(h.NetworkMode)), Privileged: h.Privileged,
		ReadonlyRootfs: h.ReadonlyRootfs, AutoRemove: h.AutoRemove, CapAdd: h.CapAdd, CapDrop: h.CapDrop,
		OomScoreAdj: h.OomScoreAdj, ShmSize: h.ShmSize, Sysctls: h.Sysctls, SecurityOpt: h.SecurityOpt,
		UsernsMode: container.UsernsMode(h.UsernsMode), ExtraHosts: h.ExtraHosts, Binds: h.Binds,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(restartName(h.RestartPolicy.Name)), MaximumRetryCount: h.RestartPolicy.MaximumRetryCount},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{}},
		PortBindings:  network.PortMap{},
		IpcMode:       container.IpcMode(h.IpcMode), PidMode: container.PidMode(h.PidMode),
		UTSMode: container.UTSMode(h.UTSMode), CgroupnsMode: container.CgroupnsMode(h.CgroupnsMode),
		GroupAdd: h.GroupAdd, VolumesFrom: h.VolumesFrom, Links: h.Links,
	}
	out.Resources = container.Resources{Memory: h.Memory, MemorySwap: h.MemorySwap, NanoCPUs: h.NanoCpus,
		CPUQuota: h.CpuQuota, CPUPeriod: h.CpuPeriod, CPUShares: h.CpuShares, CpusetCpus: h.CpusetCpus,
		BlkioWeight: uint16(h.BlkioWeight), MemoryReservation: h.MemoryReservation}
	for _, d := range h.Devices {
		out.Devices = append(out.Devices, container.DeviceMapping{PathOnHost: d.PathOnHost,
			PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions})
	}
	if h.PidsLimit > 0 {
		v := h.PidsLimit
		out.PidsLimit = &v
	}
	for _, d := range h.Dns {
		if a, err := netip.ParseAddr(d); err == nil {
			out.DNS = append(out.DNS, a)
		}
	}
	for _, p := range h.PortBindings {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, ok := network.PortFrom(uint16(p.ContainerPort), network.IPProtocol(proto))
		if !ok {
			continue
		}
		b := network.PortBinding{}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(p.HostPort)
		}
		if a, err := netip.ParseAddr(p.HostIP); err == nil {
			b.HostIP = a
		}
		out.PortBindings[port] = append(out.PortBindings[port], b)
	}
	return out
}

func networkSettings(ns *api.InspectNetwork, mode string) *container.NetworkSettings {
	out := &container.NetworkSettings{Ports: network.PortMap{}, Networks: map[string]*network.EndpointSettings{}}
	for key, bs := range ns.Ports {
		p, err := network.ParsePort(key)
		if err != nil {
			continue
		}
		var list []network.PortBinding
		for _, b := range bs {
			pb := network.PortBinding{HostPort: b.HostPort}
			pb.HostIP, _ = netip.ParseAddr(b.HostIP)
			list = append(list, pb)
		}
		out.Ports[p] = list
	}
	if mode == "bridge" || mode == "" {
		ep := &network.EndpointSettings{NetworkID: "bridge"}
		ep.IPAddress, _ = netip.ParseAddr(ns.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(ns.Gateway)
		if ep.IPAddress.IsValid() {
			ep.IPPrefixLen = 24
		}
		ep.MacAddress = MAC(ns.MacAddress)
		out.Networks["bridge"] = ep
	}
	for name, e := range ns.Networks {
		ep := &network.EndpointSettings{NetworkID: e.NetworkID, Aliases: e.Aliases}
		ep.IPAddress, _ = netip.ParseAddr(e.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(e.Gateway)
		ep.MacAddress = MAC(e.MacAddress)
		ep.IPPrefixLen = e.IPPrefixLen
		out.Networks[name] = ep
	}
	return out
}

// Summary is one row of the container list (docker ps's JSON, GET /containers/json)
// in Docker's shape; status is the STATUS text ("Up 5 minutes (healthy)").
func Summary(l *api.ContainerSummary, status string) container.Summary {
	s := container.Summary{
		ID: l.ID, Names: []string{"/" + l.Name}, Image: l.Image, ImageID: l.ImageDigest,
		Command: strings.Join(l.Command, " "), Created: l.CreatedAt.Unix(), Labels: l.Labels,
		State: container.ContainerState(l.Status), Status: status, Ports: []container.PortSummary{},
		Mounts: []container.MountPoint{},
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.HostConfig.NetworkMode = "bridge"
	up := l.Status == "running" || l.Status == "paused" || l.Status == "restarting"
	for _, p := range l.Publish {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		ps := container.PortSummary{PrivatePort: uint16(p.ContainerPort), PublicPort: uint16(p.HostPort), Type: proto}
		ps.IP, _ = netip.ParseAddr(p.HostIP)
		if !ps.IP.IsValid() && ps.PublicPort != 0 {
			ps.IP = netip.IPv4Unspecified()
		}
		if !up { // a stopped container holds no host port
			ps.PublicPort, ps.IP = 0, netip.Addr{}
		}
		s.Ports = append(s.Ports, ps)
	}
	ep := &network.EndpointSettings{}
	if ip, err := netip.ParseAddr(l.IP); err == nil {
		ep.IPAddress, ep.IPPrefixLen = ip, 24
	}
	s.NetworkSettings = &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{"bridge": ep}}
	if l.Health != "" && l.Health != "none" {
		s.Health = &container.HealthSummary{Status: container.HealthStatus(l.Health)}
	}
	return s
}

// VolumeDriver is a mount's Driver: "local" for volumes, none for the rest.
func VolumeDriver(typ string) string {
	if typ == "volume" {
		return "local"
	}
	return ""
}

// NetworkMode is minibox's network as Docker names it: its bridge is Docker's "bridge".
func NetworkMode(n string) string {
	if n == "" {
		return "bridge"
	}
	return n
}

func restartName(n string) string {
	if n == "" {
		return "no"
	}
	return n
}

// MAC parses a MAC address; nil if it is none.
func MAC(s string) network.HardwareAddr {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return nil
	}
	return network.HardwareAddr(hw)
}
