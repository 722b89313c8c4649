package dockerconv

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
)

// CreateRequest converts Docker's create body into the engine's request. Options
// minibox does not have become warnings (as dockerd warns about limits a host lacks);
// values it cannot take are a 400 naming the field.
func CreateRequest(name string, in *container.CreateRequest) (api.CreateRequest, []string, error) {
	var warn []string
	if in.Config == nil {
		in.Config = &container.Config{}
	}
	cfg, hc := in.Config, in.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if cfg.Image == "" {
		return api.CreateRequest{}, nil, errdefs.Invalid("Config.Image: an image is required")
	}
	req := api.CreateRequest{
		Image: cfg.Image, Name: strings.TrimPrefix(name, "/"), Command: cfg.Cmd, Tty: cfg.Tty,
		Stdin: cfg.OpenStdin, Hostname: cfg.Hostname, Labels: cfg.Labels, Env: cfg.Env,
		WorkingDir: cfg.WorkingDir, User: cfg.User, StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout,
		// Docker's create never pulls: a missing image is a 404, and the client pulls.
		Pull: "never", AutoRemove: hc.AutoRemove, Privileged: hc.Privileged, ReadOnly: hc.ReadonlyRootfs,
		CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, SecurityOpt: hc.SecurityOpt, Sysctls: hc.Sysctls,
		UserNS: string(hc.UsernsMode), ShmSizeBytes: hc.ShmSize, DNSSearch: hc.DNSSearch, DNSOption: hc.DNSOptions,
		ExtraHosts: hc.ExtraHosts, PublishAll: hc.PublishAllPorts, MemoryBytes: hc.Memory, MemorySwap: hc.MemorySwap,
		CPUQuota: hc.CPUQuota, CPUPeriod: hc.CPUPeriod, CPUShares: hc.CPUShares, CpusetCpus: hc.CpusetCpus,
		BlkioWeight: int(hc.BlkioWeight),
	}
	if cfg.Entrypoint != nil {
		ep := []string(cfg.Entrypoint)
		if len(ep) == 1 && ep[0] == "" { // --entrypoint "": none
			ep = []string{}
		}
		req.Entrypoint = &ep
	}
	if req.Hostname != "" && cfg.Domainname != "" {
		req.Hostname += "." + cfg.Domainname
	}
	if hc.NanoCPUs > 0 {
		req.CPUs = float64(hc.NanoCPUs) / 1e9
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		req.PidsLimit = *hc.PidsLimit
	}
	if hc.OomScoreAdj != 0 {
		v := hc.OomScoreAdj
		req.OOMScoreAdj = &v
	}
	for _, d := range hc.DNS {
		req.DNS = append(req.DNS, d.String())
	}
	for _, u := range hc.Ulimits {
		if u != nil {
			req.Ulimits = append(req.Ulimits, fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard))
		}
	}
	for p := range cfg.ExposedPorts {
		req.Expose = append(req.Expose, p.String())
	}
	sort.Strings(req.Expose)
	if h := cfg.Healthcheck; h != nil {
		req.Healthcheck = &api.Healthcheck{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout),
			StartPeriod: int64(h.StartPeriod), Retries: h.Retries}
		if len(h.Test) == 1 && h.Test[0] == "NONE" {
			req.Healthcheck = &api.Healthcheck{Disable: true}
		}
	}
	switch p := hc.RestartPolicy; p.Name {
	case "", "no":
	case "on-failure":
		req.Restart = "on-failure"
		if p.MaximumRetryCount > 0 {
			req.Restart += ":" + strconv.Itoa(p.MaximumRetryCount)
		}
	default:
		req.Restart = string(p.Name)
	}
	if err := networkOf(&req, hc, in.NetworkingConfig); err != nil {
		return req, nil, err
	}
	var err error
	if req.Publish, err = publishOf(hc.PortBindings); err != nil {
		return req, nil, err
	}
	if err := mountsOf(&req, cfg, hc); err != nil {
		return req, nil, err
	}
	warn = append(warn, ignored(hc)...)
	return req, warn, nil
}

// networkOf maps NetworkMode and the endpoints: "default" is minibox's bridge; a
// user-defined network is the first, the others join it.
func networkOf(req *api.CreateRequest, hc *container.HostConfig, nc *network.NetworkingConfig) error {
	mode := string(hc.NetworkMode)
	switch mode {
	case "", "default":
		mode = "bridge"
	}
	req.Network = mode
	if nc == nil {
		return nil
	}
	names := make([]string, 0, len(nc.EndpointsConfig))
	for n := range nc.EndpointsConfig {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ep := nc.EndpointsConfig[n]
		if n != mode {
			if mode == "bridge" && n != "bridge" {
				// Only a user-defined network in NetworkingConfig: it is the primary one.
				req.Network, mode = n, n
			} else if n != "bridge" {
				req.Networks = append(req.Networks, n)
			}
		}
		if ep == nil {
			continue
		}
		if n == mode {
			req.NetworkAlias = append(req.NetworkAlias, ep.Aliases...)
			if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
				req.IPAddress = ep.IPAMConfig.IPv4Address.String()
			}
		}
	}
	return nil
}

// publishOf turns PortBindings into -p bindings; an empty HostPort is a random one.
func publishOf(pm network.PortMap) ([]api.PortBinding, error) {
	var out []api.PortBinding
	keys := make([]network.Port, 0, len(pm))
	for p := range pm {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, p := range keys {
		bs := pm[p]
		if len(bs) == 0 {
			bs = []network.PortBinding{{}}
		}
		for _, b := range bs {
			pb := api.PortBinding{ContainerPort: int(p.Num()), Protocol: string(p.Proto())}
			if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
				pb.HostIP = b.HostIP.String()
			}
			if b.HostPort != "" {
				n, err := strconv.Atoi(b.HostPort)
				if err != nil || n < 0 || n > 65535 {
					return nil, errdefs.Invalid(fmt.Sprintf("HostConfig.PortBindings[%s].HostPort: %q is not a port (ranges are not supported)", p, b.HostPort))
				}
				pb.HostPort = n
			}
			out = append(out, pb)
		}
	}
	return out, nil
}

// mountsOf maps Binds ("src:dst[:opts]"), Mounts, Tmpfs and the image-style anonymous
// Volumes.
func mountsOf(req *api.CreateRequest, cfg *container.Config, hc *container.HostConfig) error {
	for i, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return errdefs.Invalid(fmt.Sprintf("HostConfig.Binds[%d]: %q: expected source:destination[:options]", i, b))
		}
		m := api.MountRequest{Type: "volume", Source: parts[0], Target: parts[1]}
		if filepath.IsAbs(parts[0]) {
			m.Type = "bind"
		}
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro":
					m.ReadOnly = true
				case "rw", "z", "Z", "nocopy", "rprivate", "private", "":
				default:
					return errdefs.Invalid(fmt.Sprintf("HostConfig.Binds[%d]: option %q is not supported (ro, rw, z, Z, nocopy)", i, o))
				}
			}
		}
		req.Mounts = append(req.Mounts, m)
	}
	for i, m := range hc.Mounts {
		mr := api.MountRequest{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		switch m.Type {
		case mount.TypeBind, mount.TypeVolume:
		case mount.TypeTmpfs:
			if o := m.TmpfsOptions; o != nil {
				mr.TmpfsSize, mr.TmpfsMode = o.SizeBytes, uint32(o.Mode.Perm())
			}
		default:
			return errdefs.Invalid(fmt.Sprintf("HostConfig.Mounts[%d].Type: %q is not supported (bind, volume, tmpfs)", i, m.Type))
		}
		req.Mounts = append(req.Mounts, mr)
	}
	tmpfs := make([]string, 0, len(hc.Tmpfs))
	for path, opts := range hc.Tmpfs {
		if opts != "" {
			path += ":" + opts
		}
		tmpfs = append(tmpfs, path)
	}
	sort.Strings(tmpfs)
	req.Tmpfs = append(req.Tmpfs, tmpfs...)
	targets := map[string]bool{}
	for _, m := range req.Mounts {
		targets[filepath.Clean(m.Target)] = true
	}
	anon := make([]string, 0, len(cfg.Volumes))
	for path := range cfg.Volumes {
		if !targets[filepath.Clean(path)] {
			anon = append(anon, path)
		}
	}
	sort.Strings(anon)
	for _, path := range anon {
		req.Mounts = append(req.Mounts, api.MountRequest{Type: "volume", Target: path})
	}
	return nil
}

// ignored lists the options given that minibox does not apply.
func ignored(hc *container.HostConfig) []string {
	var w []string
	add := func(set bool, field string) {
		if set {
			w = append(w, "HostConfig."+field+" is not supported by minibox and was ignored")
		}
	}
	add(len(hc.VolumesFrom) > 0, "VolumesFrom")
	add(len(hc.Links) > 0, "Links")
	add(len(hc.Devices) > 0, "Devices")
	add(len(hc.DeviceRequests) > 0, "DeviceRequests")
	add(len(hc.DeviceCgroupRules) > 0, "DeviceCgroupRules")
	add(hc.CgroupParent != "", "CgroupParent")
	add(hc.IpcMode != "" && hc.IpcMode != "private" && hc.IpcMode != "shareable", "IpcMode")
	add(hc.PidMode != "", "PidMode")
	add(hc.UTSMode != "", "UTSMode")
	add(hc.CgroupnsMode == "host", "CgroupnsMode")
	add(hc.Runtime != "" && hc.Runtime != "minibox" && hc.Runtime != "runc", "Runtime")
	add(hc.LogConfig.Type != "" && hc.LogConfig.Type != "json-file" && hc.LogConfig.Type != "local", "LogConfig.Type")
	add(hc.MemoryReservation != 0, "MemoryReservation")
	add(hc.MemorySwappiness != nil && *hc.MemorySwappiness >= 0, "MemorySwappiness")
	add(hc.OomKillDisable != nil && *hc.OomKillDisable, "OomKillDisable")
	add(len(hc.GroupAdd) > 0, "GroupAdd")
	add(hc.CpusetMems != "", "CpusetMems")
	add(len(hc.BlkioWeightDevice)+len(hc.BlkioDeviceReadBps)+len(hc.BlkioDeviceWriteBps)+len(hc.BlkioDeviceReadIOps)+len(hc.BlkioDeviceWriteIOps) > 0, "BlkioDevice*")
	add(len(hc.StorageOpt) > 0, "StorageOpt")
	add(len(hc.MaskedPaths) > 0, "MaskedPaths")
	add(len(hc.ReadonlyPaths) > 0, "ReadonlyPaths")
	return w
}
