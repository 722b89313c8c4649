package ctrreq

import (
	"net/netip"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/netport"
)

// toConfig parses a normalized request: every value in it has passed its check, so the
// parsers below cannot fail here.
func toConfig(r *api.CreateRequest) ctrconfig.Config {
	c := ctrconfig.Config{
		Image: r.Image, Name: r.Name, Command: r.Command, Entrypoint: r.Entrypoint,
		Detached: r.Detached, Tty: r.Tty, Stdin: r.Stdin, AutoRemove: r.AutoRemove,
		Hostname: r.Hostname, Labels: r.Labels, Env: r.Env, WorkingDir: r.WorkingDir, User: r.User,
		Volumes: r.Volumes, NamedVolumes: r.NamedVolumes, Tmpfs: r.Tmpfs, ReadOnly: r.ReadOnly,
		PublishAll: r.PublishAll, Expose: r.Expose, Network: r.Network, Networks: r.Networks,
		NetworkAlias: r.NetworkAlias, IPAddress: r.IPAddress, DNS: r.DNS, DNSSearch: r.DNSSearch,
		DNSOption: r.DNSOption, ExtraHosts: r.ExtraHosts,
		Resources: resourcesOf(r),
		CapAdd:    r.CapAdd, CapDrop: r.CapDrop, Privileged: r.Privileged, SecurityOpt: r.SecurityOpt,
		SeccompProfile: r.SeccompProfile, UserNS: r.UserNS, Sysctls: r.Sysctls,
		StopSignal: r.StopSignal, StopTimeout: r.StopTimeout, LogDriver: r.LogDriver, LogOpts: r.LogOpts,
		IPC: r.IPC, PID: r.PID, UTS: r.UTS, CgroupNS: r.CgroupNS,
		GroupAdd: r.GroupAdd, VolumesFrom: r.VolumesFrom, Links: r.Links,
		Lazy: r.Lazy, Pull: r.Pull, Platform: r.Platform, DBMode: r.DBMode, Data: r.Data,
		Project: r.Project, Service: r.Service,
	}
	for _, m := range r.Mounts {
		c.Mounts = append(c.Mounts, ctrconfig.Mount{Type: m.Type, Source: m.Source, Target: m.Target,
			ReadOnly: m.ReadOnly, IDMap: m.IDMap, TmpfsSize: m.TmpfsSize, TmpfsMode: m.TmpfsMode})
	}
	for _, p := range r.Publish {
		c.Publish = append(c.Publish, PortOf(p))
	}
	for _, u := range r.Ulimits {
		l, _ := ctrconfig.ParseUlimit(u)
		c.Ulimits = append(c.Ulimits, l)
	}
	for _, d := range r.Devices {
		dev, _ := ctrconfig.ParseDevice(d)
		c.Devices = append(c.Devices, dev)
	}
	if r.GPUs != "" {
		g, _ := ctrconfig.ParseGPUs(r.GPUs)
		c.GPUs = &g
	}
	c.Restart.Name, c.Restart.MaxRetries, _ = ctrconfig.ParseRestart(r.Restart)
	if h := r.Healthcheck; h != nil {
		c.Healthcheck = &ctrconfig.Healthcheck{
			Test: h.Test, Interval: time.Duration(h.Interval), Timeout: time.Duration(h.Timeout),
			StartPeriod: time.Duration(h.StartPeriod), Retries: h.Retries, Disable: h.Disable,
		}
	}
	return c
}

// PortOf is a checked binding as the network publishes it: an unspecified host address
// (0.0.0.0) is every address, the zero Addr.
func PortOf(p api.PortBinding) netport.Port {
	out := netport.Port{HostPort: uint16(p.HostPort), ContainerPort: uint16(p.ContainerPort), Proto: p.Protocol}
	if a, err := netip.ParseAddr(p.HostIP); err == nil && !a.IsUnspecified() {
		out.HostIP = a
	}
	return out
}
