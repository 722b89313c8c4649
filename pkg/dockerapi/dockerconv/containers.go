package dockerconv

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/engine"
)

// MatchContainer applies Docker's list filters: id, name, label, status, exited,
// ancestor, network, health, is-task (never).
func MatchContainer(l *engine.Listed, f map[string][]string) bool {
	anyOf := func(key string, ok func(v string) bool) bool {
		vs, set := f[key]
		if !set {
			return true
		}
		for _, v := range vs {
			if ok(v) {
				return true
			}
		}
		return false
	}
	for _, l2 := range f["label"] {
		k, v, hasV := strings.Cut(l2, "=")
		got, ok := l.Labels[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return anyOf("id", func(v string) bool { return strings.HasPrefix(l.ID, v) }) &&
		anyOf("name", func(v string) bool { return strings.Contains(l.Name, strings.TrimPrefix(v, "/")) }) &&
		anyOf("status", func(v string) bool { return l.Status == v }) &&
		anyOf("exited", func(v string) bool { return l.Status == "exited" && strconv.Itoa(l.ExitCode) == v }) &&
		anyOf("ancestor", func(v string) bool {
			return l.Image == v || l.Image == v+":latest" || strings.HasPrefix(l.ImageID, v) || strings.HasPrefix(l.ImageID, "sha256:"+v)
		}) &&
		anyOf("network", func(v string) bool {
			if l.NetworkMode == v {
				return true
			}
			for name, ep := range l.Networks {
				if name == v || ep.NetworkID != "" && strings.HasPrefix(ep.NetworkID, v) {
					return true
				}
			}
			return false
		}) &&
		anyOf("health", func(v string) bool { return l.Health == v || v == "none" && l.Health == "" }) &&
		anyOf("is-task", func(v string) bool { return v == "false" })
}

// Summary is a container as docker ps lists it.
func Summary(l *engine.Listed, now time.Time) container.Summary {
	s := container.Summary{
		ID: l.ID, Names: []string{"/" + l.Name}, Image: l.Image, ImageID: l.ImageID,
		Command: strings.Join(l.Command, " "), Created: l.CreatedAt.Unix(), Labels: l.Labels,
		State: container.ContainerState(l.Status), Status: statusText(l, now), Ports: []container.PortSummary{},
		Mounts: []container.MountPoint{},
	}
	s.HostConfig.NetworkMode = dockershape.NetworkMode(l.NetworkMode)
	if l.Status == "running" || l.Status == "paused" {
		// dockerd lists the ports of a running container only (it drops them at the
		// stop): each published binding, and each exposed port without one as "80/tcp".
		bound := map[string]bool{}
		for _, p := range l.Ports {
			s.Ports = append(s.Ports, container.PortSummary{IP: p.BindIP(), PrivatePort: p.ContainerPort, PublicPort: p.HostPort, Type: p.Proto})
			bound[strconv.Itoa(int(p.ContainerPort))+"/"+p.Proto] = true
		}
		for _, e := range l.Exposed {
			if pp, err := network.ParsePort(e); err == nil && !bound[pp.String()] {
				s.Ports = append(s.Ports, container.PortSummary{PrivatePort: pp.Num(), Type: string(pp.Proto())})
			}
		}
	}
	eps := map[string]*network.EndpointSettings{}
	for name, e := range l.Networks {
		ep := &network.EndpointSettings{NetworkID: e.NetworkID, IPPrefixLen: e.IPPrefixLen, MacAddress: dockershape.MAC(e.MacAddress)}
		ep.IPAddress, _ = netip.ParseAddr(e.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(e.Gateway)
		eps[name] = ep
	}
	if len(eps) == 0 && s.HostConfig.NetworkMode != "" {
		eps[s.HostConfig.NetworkMode] = &network.EndpointSettings{}
	}
	s.NetworkSettings = &container.NetworkSettingsSummary{Networks: eps}
	if l.Health != "" && l.Health != "none" {
		s.Health = &container.HealthSummary{Status: container.HealthStatus(l.Health)}
	}
	for _, m := range l.Mounts {
		s.Mounts = append(s.Mounts, container.MountPoint{Type: mount.Type(m.Type), Name: m.Name, Source: m.Source,
			Destination: m.Target, RW: !m.ReadOnly, Driver: dockershape.VolumeDriver(m.Type)})
	}
	return s
}

// statusText is docker ps's STATUS column.
func statusText(l *engine.Listed, now time.Time) string {
	switch l.Status {
	case "running", "paused":
		s := "Up " + units.HumanDuration(now.Sub(l.StartedAt))
		if l.Health != "" && l.Health != "none" {
			if l.Health == "starting" {
				s += " (health: starting)"
			} else {
				s += " (" + l.Health + ")"
			}
		}
		if l.Status == "paused" {
			s += " (Paused)"
		}
		return s
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", l.ExitCode, units.HumanDuration(now.Sub(l.FinishedAt)))
	case "exited":
		if l.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", l.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", l.ExitCode, units.HumanDuration(now.Sub(l.FinishedAt)))
	case "created":
		return "Created"
	}
	return l.Status
}
