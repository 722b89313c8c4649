package compose

import (
	"path"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/compose/loader"
)

// shares maps what a service shares with the host or other containers onto the request,
// as `run` takes it: devices, GPUs, namespaces, groups, other containers' volumes and
// links, and the soft memory limit. The loader refused the values that cannot be honoured.
func shares(req *api.CreateRequest, p *types.Project, s types.ServiceConfig, containerOf func(string) string) {
	for _, d := range s.Devices {
		target, perms := d.Target, d.Permissions
		if target == "" {
			target = d.Source
		} else if !path.IsAbs(target) {
			// "/dev/fuse:r": the loader let only permissions through here.
			target, perms = d.Source, target
		}
		if perms == "" {
			perms = "rwm"
		}
		v := d.Source
		if target != d.Source {
			v += ":" + target
		}
		if perms != "rwm" {
			v += ":" + perms
		}
		req.Devices = append(req.Devices, v)
	}
	req.GPUs = loader.GPUs(s)
	ref := func(mode string) string {
		if svc, ok := strings.CutPrefix(mode, types.ServicePrefix); ok {
			return "container:" + containerOf(svc)
		}
		return mode
	}
	req.IPC, req.PID, req.UTS, req.CgroupNS = ref(s.Ipc), ref(s.Pid), s.Uts, s.Cgroup
	if req.IPC == "" && ipcJoined(p, s.Name) {
		// Another service joins this one's IPC namespace, which needs its /dev/shm
		// shared.
		req.IPC = "shareable"
	}
	req.GroupAdd = slices.Clone(s.GroupAdd)
	for _, v := range s.VolumesFrom {
		ref, mode := v, ""
		if i := strings.LastIndexByte(v, ':'); i >= 0 && (v[i+1:] == "ro" || v[i+1:] == "rw") {
			ref, mode = v[:i], v[i:]
		}
		if name, ok := strings.CutPrefix(ref, types.ContainerPrefix); ok {
			ref = name
		} else {
			ref = containerOf(ref)
		}
		req.VolumesFrom = append(req.VolumesFrom, ref+mode)
	}
	if s.NetworkMode == "bridge" {
		// On the default bridge links are --link's; on a project network they are
		// aliases of the linked service (linkAliases).
		for _, l := range s.Links {
			svc, alias, _ := strings.Cut(l, ":")
			if alias == "" {
				alias = svc
			}
			// By name: the alias follows the service's container when it is recreated.
			req.Links = append(req.Links, ContainerName(p, p.Services[svc], 1)+":"+alias)
		}
		req.Links = append(req.Links, s.ExternalLinks...)
	}
	req.MemoryReservation = int64(s.MemReservation)
	if s.Deploy != nil && s.Deploy.Resources.Reservations != nil && s.Deploy.Resources.Reservations.MemoryBytes > 0 {
		req.MemoryReservation = int64(s.Deploy.Resources.Reservations.MemoryBytes)
	}
}

// ipcJoined says whether another service has ipc: service:<name>.
func ipcJoined(p *types.Project, name string) bool {
	for _, o := range p.Services {
		if o.Ipc == types.ServicePrefix+name {
			return true
		}
	}
	return false
}

// linkAliases are the names other services link service s by on network key (the
// project's key for it): the aliases of their links to s, on the networks they share.
func linkAliases(p *types.Project, s types.ServiceConfig, key string) []string {
	var out []string
	for _, name := range sortedKeys(p.Services) {
		o := p.Services[name]
		if o.NetworkMode != "" {
			continue
		}
		if _, ok := o.Networks[key]; !ok {
			continue
		}
		for _, l := range o.Links {
			svc, alias, _ := strings.Cut(l, ":")
			if svc == s.Name && alias != "" && !slices.Contains(out, alias) {
				out = append(out, alias)
			}
		}
	}
	return out
}
