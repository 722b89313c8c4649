package ctrview

import (
	"strconv"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/netport"
)

// Summary is one entry of GET /containers.
func Summary(s *ctrlist.Summary) api.ContainerSummary {
	out := api.ContainerSummary{
		ID: s.ID, Name: s.Name, Image: s.Image, ImageDigest: s.ImageDigest, Command: s.Command,
		PID: s.PID, Status: s.Status, Health: s.Health, CreatedAt: s.CreatedAt, StartedAt: s.StartedAt,
		FinishedAt: s.FinishedAt, ExitCode: s.ExitCode, OOMKilled: s.OOMKilled, Ports: map[string]int{},
		Publish: make([]api.PortBinding, 0, len(s.Ports)), Project: s.Project, Service: s.Service, IP: s.IP,
		Labels: s.Labels, RestartCount: s.RestartCount,
	}
	if out.Command == nil {
		out.Command = []string{}
	}
	if !s.Running() {
		for _, p := range s.Ports {
			out.Publish = append(out.Publish, requested(p))
		}
		return out
	}
	for _, p := range s.Ports {
		out.Publish = append(out.Publish, Bound(p))
		if p.Proto == "tcp" { // the original's map: host port -> container port
			out.Ports[strconv.Itoa(int(p.HostPort))] = int(p.ContainerPort)
		}
	}
	return out
}

// Bound is a port a running container holds: 0.0.0.0 for every address.
func Bound(p netport.Port) api.PortBinding {
	return api.PortBinding{HostIP: p.BindIP().String(), HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
}

// Endpoints are a container's networks as inspect shows them.
func Endpoints(in map[string]engine.Endpoint) map[string]api.InspectEndpoint {
	out := make(map[string]api.InspectEndpoint, len(in))
	for name, e := range in {
		out[name] = api.InspectEndpoint{NetworkID: e.NetworkID, IPAddress: e.IPAddress, IPPrefixLen: e.IPPrefixLen,
			Gateway: e.Gateway, MacAddress: e.MacAddress, Aliases: e.Aliases, Interface: e.Interface}
	}
	return out
}

// Stats is one container's figures as GET /containers/stats answers them.
func Stats(s *ctrio.Stats) api.Stats {
	return api.Stats{ID: s.ID, Name: s.Name, MemoryUsage: s.MemoryUsage, MemoryLimit: s.MemoryLimit,
		MemoryPercent: s.MemoryPercent, CPUUsageUsec: s.CPUUsageUsec, CPUPercent: s.CPUPercent,
		OnlineCPUs: s.OnlineCPUs, Pids: s.Pids, PidsLimit: s.PidsLimit, NetInput: s.NetInput,
		NetOutput: s.NetOutput, BlockInput: s.BlockInput, BlockOutput: s.BlockOutput, Read: s.Read}
}
