package loader

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkShares refuses the values of devices, ipc, pid, uts, cgroup, group_add,
// volumes_from, links, external_links, gpus and reserved devices that minibox cannot
// honour, so that none is dropped silently; at is "services.<name>".
func checkShares(p *types.Project, s types.ServiceConfig, at string) error {
	for _, check := range []func(*types.Project, types.ServiceConfig, string) error{
		checkDevices, checkNamespaces, checkGroupsAndVolumes, checkLinks, checkGPUs,
	} {
		if err := check(p, s, at); err != nil {
			return err
		}
	}
	return nil
}

// checkDevices checks devices: host device paths with their permissions.
func checkDevices(p *types.Project, s types.ServiceConfig, at string) error {
	for i, d := range s.Devices {
		if !path.IsAbs(d.Source) {
			return fmt.Errorf("%s.devices[%d]: %q: expected a host device path (/dev/fuse[:/dev/fuse][:rwm]); CDI device names are not supported", at, i, d.Source)
		}
		// "/dev/fuse:r" is the source and its permissions, as run's --device reads it.
		if d.Target != "" && !path.IsAbs(d.Target) && !devicePerms(d.Target) {
			return fmt.Errorf("%s.devices[%d]: target %q: expected an absolute path in the container", at, i, d.Target)
		}
		if d.Permissions != "" && !devicePerms(d.Permissions) {
			return fmt.Errorf("%s.devices[%d]: permissions %q: expected a combination of r, w and m", at, i, d.Permissions)
		}
	}
	return nil
}

// checkNamespaces checks ipc, pid, uts and cgroup: a mode, or another service or container to join.
func checkNamespaces(p *types.Project, s types.ServiceConfig, at string) error {
	for _, ns := range []struct {
		key, v  string
		allowed []string
		join    bool
	}{
		{"ipc", s.Ipc, []string{"private", "shareable", "host", "none"}, true},
		{"pid", s.Pid, []string{"host"}, true},
		{"uts", s.Uts, []string{"host"}, false},
		{"cgroup", s.Cgroup, []string{"host", "private"}, false},
	} {
		if ns.v == "" || slices.Contains(ns.allowed, ns.v) {
			continue
		}
		want := strings.Join(ns.allowed, ", ")
		if ns.join {
			if err := checkRef(p, s, at+"."+ns.key, ns.v); err != nil {
				return err
			}
			if svc, ok := strings.CutPrefix(ns.v, types.ServicePrefix); ok {
				// Joining an IPC namespace needs its /dev/shm: the service's own is
				// made shareable, unless the file says otherwise.
				if o := p.Services[svc].Ipc; ns.key == "ipc" && (o == "private" || o == "none") {
					return fmt.Errorf("%s.ipc: %q: service %q has ipc: %s; make it shareable", at, ns.v, svc, o)
				}
				continue
			}
			if strings.HasPrefix(ns.v, types.ContainerPrefix) {
				continue
			}
			want += ", service:<name> or container:<name>"
		}
		return fmt.Errorf("%s.%s: %q: expected %s", at, ns.key, ns.v, want)
	}
	if s.Uts == "host" && s.Hostname != "" {
		return fmt.Errorf("%s.uts: host: the host's hostname is shared, so hostname cannot be set too", at)
	}
	return nil
}

// checkGroupsAndVolumes checks group_add and volumes_from.
func checkGroupsAndVolumes(p *types.Project, s types.ServiceConfig, at string) error {
	for i, g := range s.GroupAdd {
		if g == "" || strings.ContainsAny(g, ": \t\n") {
			return fmt.Errorf("%s.group_add[%d]: %q: expected a group name or number", at, i, g)
		}
	}
	for i, v := range s.VolumesFrom {
		ref := v
		if i := strings.LastIndexByte(v, ':'); i >= 0 && (v[i+1:] == "ro" || v[i+1:] == "rw") {
			ref = v[:i]
		}
		if !strings.HasPrefix(ref, types.ContainerPrefix) {
			if strings.Contains(ref, ":") {
				return fmt.Errorf("%s.volumes_from[%d]: %q: expected <service>[:ro|rw] or container:<name>[:ro|rw]", at, i, v)
			}
			ref = types.ServicePrefix + ref
		}
		if err := checkRef(p, s, fmt.Sprintf("%s.volumes_from[%d]", at, i), ref); err != nil {
			return err
		}
	}
	return nil
}

// checkLinks checks links and external_links: where an alias can be given.
func checkLinks(p *types.Project, s types.ServiceConfig, at string) error {
	for i, l := range s.Links {
		svc, alias, _ := strings.Cut(l, ":")
		key := fmt.Sprintf("%s.links[%d]", at, i)
		if _, ok := p.Services[svc]; !ok {
			return fmt.Errorf("%s: unknown service %q", key, svc)
		}
		if err := linkable(s, key, alias); err != nil {
			return err
		}
		if o := p.Services[svc].NetworkMode; s.NetworkMode == "bridge" && o != "bridge" {
			return fmt.Errorf("%s: service %q is not on the default bridge (network_mode: bridge) as %s is", key, svc, s.Name)
		}
	}
	for i, l := range s.ExternalLinks {
		name, alias, _ := strings.Cut(l, ":")
		key := fmt.Sprintf("%s.external_links[%d]", at, i)
		if name == "" {
			return fmt.Errorf("%s: %q: expected <container>[:alias]", key, l)
		}
		if err := linkable(s, key, alias); err != nil {
			return err
		}
		// An alias of a container outside the project can be given on the default
		// bridge only, where --link puts it.
		if s.NetworkMode != "bridge" {
			return fmt.Errorf("%s: %q: a container outside the project can be linked only with network_mode: bridge; put it on a shared external network and use its name or a network alias", key, l)
		}
	}
	return nil
}

// checkGPUs checks gpus and reserved devices: one NVIDIA GPU request.
func checkGPUs(p *types.Project, s types.ServiceConfig, at string) error {
	gpus := 0
	for i, g := range s.Gpus {
		if err := gpuRequest(g, fmt.Sprintf("%s.gpus[%d]", at, i), false); err != nil {
			return err
		}
		gpus++
	}
	if s.Deploy != nil && s.Deploy.Resources.Reservations != nil {
		for i, g := range s.Deploy.Resources.Reservations.Devices {
			if err := gpuRequest(g, fmt.Sprintf("%s.deploy.resources.reservations.devices[%d]", at, i), true); err != nil {
				return err
			}
			gpus++
		}
		if len(s.Deploy.Resources.Reservations.GenericResources) > 0 {
			return fmt.Errorf("%s.deploy.resources.reservations.generic_resources: not supported (Swarm only)", at)
		}
	}
	if gpus > 1 {
		return fmt.Errorf("%s: gpus: one GPU request per service (gpus or deploy.resources.reservations.devices), with count or device_ids", at)
	}
	return nil
}

// checkRef checks a service:<name> or container:<name> reference of key: the service
// exists and is not s, a container is named.
func checkRef(p *types.Project, s types.ServiceConfig, key, v string) error {
	if svc, ok := strings.CutPrefix(v, types.ServicePrefix); ok {
		if svc == s.Name {
			return fmt.Errorf("%s: %q: a service cannot refer to itself", key, svc)
		}
		if _, ok := p.Services[svc]; !ok {
			if _, off := p.DisabledServices[svc]; off {
				return fmt.Errorf("%s: service %q is disabled by its profiles", key, svc)
			}
			return fmt.Errorf("%s: unknown service %q", key, svc)
		}
		return nil
	}
	if name, ok := strings.CutPrefix(v, types.ContainerPrefix); ok && (name == "" || strings.ContainsAny(name, ": \t\n")) {
		return fmt.Errorf("%s: %q: expected container:<name>", key, v)
	}
	return nil
}

// linkable: an alias is a host name, and links need a network to be an alias on.
func linkable(s types.ServiceConfig, key, alias string) error {
	if alias != "" && !hostName(alias) {
		return fmt.Errorf("%s: alias %q is not a host name", key, alias)
	}
	switch s.NetworkMode {
	case "", "default", "bridge":
		return nil
	}
	return fmt.Errorf("%s: links need a network of the service's own; network_mode is %s", key, s.NetworkMode)
}

// gpuRequest accepts NVIDIA GPUs by count (all) or index, as --gpus does; a reserved
// device must ask for the gpu capability.
func gpuRequest(g types.DeviceRequest, key string, reserved bool) error {
	if g.Driver != "" && g.Driver != "nvidia" {
		return fmt.Errorf("%s.driver: %q: only nvidia GPUs are supported", key, g.Driver)
	}
	if reserved && !slices.Contains(g.Capabilities, "gpu") {
		return fmt.Errorf("%s.capabilities: %v: only GPUs are supported (capabilities: [gpu])", key, g.Capabilities)
	}
	if len(g.Options) > 0 {
		return fmt.Errorf("%s.options: driver options are not supported", key)
	}
	if len(g.IDs) > 0 && g.Count != 0 {
		return fmt.Errorf("%s: count and device_ids cannot be used together", key)
	}
	if len(g.IDs) == 0 && g.Count == 0 || g.Count < -1 {
		return fmt.Errorf("%s.count: %d: expected all or at least 1", key, g.Count)
	}
	for _, id := range g.IDs {
		if _, err := strconv.ParseUint(id, 10, 32); err != nil {
			return fmt.Errorf("%s.device_ids: %q: expected a GPU index (0, 1, ...)", key, id)
		}
	}
	return nil
}

// GPUs is the --gpus value of a service's GPU request (gpus, or a reserved device with the
// gpu capability), "" when it has none. The loader checked there is at most one.
func GPUs(s types.ServiceConfig) string {
	reqs := slices.Clone(s.Gpus)
	if s.Deploy != nil && s.Deploy.Resources.Reservations != nil {
		reqs = append(reqs, s.Deploy.Resources.Reservations.Devices...)
	}
	for _, g := range reqs {
		switch {
		case len(g.IDs) > 0:
			return "device=" + strings.Join(g.IDs, ",")
		case g.Count > 0:
			return strconv.FormatInt(int64(g.Count), 10)
		default:
			return "all"
		}
	}
	return ""
}

func devicePerms(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	for i, c := range p {
		if !strings.ContainsRune("rwm", c) || strings.ContainsRune(p[:i], c) {
			return false
		}
	}
	return true
}

// hostName is a name the resolver can answer: letters, digits, dashes, underscores and
// dots, not starting with a dash or a dot.
func hostName(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '-' || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
