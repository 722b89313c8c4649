package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/minibox/minibox/pkg/compose/loader"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
)

// Labels Docker Compose puts on what it makes; minibox keeps them so tools that read them
// (and `compose ls`) find the same things.
const (
	LabelProject    = "com.docker.compose.project"
	LabelService    = "com.docker.compose.service"
	LabelNumber     = "com.docker.compose.container-number"
	LabelHash       = "com.docker.compose.config-hash"
	LabelOneoff     = "com.docker.compose.oneoff"
	LabelWorkingDir = "com.docker.compose.project.working_dir"
	LabelFiles      = "com.docker.compose.project.config_files"
	LabelNetwork    = "com.docker.compose.network"
	LabelVolume     = "com.docker.compose.volume"
	// The original minibox's labels, for what reads them.
	labelOrigProject = "minibox.compose.project"
	labelOrigService = "minibox.compose.service"
)

// ContainerName is Compose's <project>-<service>-<n>, or the service's container_name.
func ContainerName(p *types.Project, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", p.Name, s.Name, n)
}

// ImageName is the service's image, or the name Compose gives a built one.
func ImageName(p *types.Project, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + s.Name
}

// Connect is a network a container joins after its create (the first one is in the
// request): the API's create takes aliases and an address for one network only.
type Connect struct {
	Network string
	Aliases []string
	IP      string
}

// Plan is one container of a service, as the daemon will be asked to make it.
type Plan struct {
	Request  *api.CreateRequest
	Connects []Connect
	Hash     string
}

// PlanContainer maps service s's n-th container onto a create request. containerOf names
// the container of another service (network_mode: service:x). imageID joins the hash so a
// rebuilt or re-pulled image recreates the container.
func PlanContainer(p *types.Project, s types.ServiceConfig, n int, imageID string, containerOf func(service string) string) (*Plan, error) {
	name := ContainerName(p, s, n)
	req := baseRequest(p, s, name)
	resources(req, s)
	environment(req, s)
	shares(req, p, s, containerOf)
	if err := publish(req, s, n); err != nil {
		return nil, err
	}
	if err := mounts(req, p, s); err != nil {
		return nil, err
	}
	pl := &Plan{Request: req}
	if err := networks(pl, p, s, name, containerOf); err != nil {
		return nil, err
	}
	// What a secret or config from the environment or inline holds joins the hash: its
	// file's path stays the same when it changes.
	files, err := projectFiles(p, s)
	if err != nil {
		return nil, err
	}
	// The hash is the service's, the same for each of its containers: without the host
	// port of a range this one takes.
	forHash := req
	if n != 1 {
		first := *req
		first.Publish = nil
		if err := publish(&first, s, 1); err != nil {
			return nil, err
		}
		forHash = &first
	}
	hash, err := configHash(forHash, pl.Connects, imageID, files)
	if err != nil {
		return nil, err
	}
	pl.Hash = hash
	req.Labels[LabelProject] = p.Name
	req.Labels[LabelService] = s.Name
	req.Labels[labelOrigProject], req.Labels[labelOrigService] = p.Name, s.Name
	req.Labels[LabelNumber] = strconv.Itoa(n)
	req.Labels[LabelHash] = hash
	req.Labels[LabelOneoff] = "False"
	req.Labels[LabelWorkingDir] = p.WorkingDir
	req.Labels[LabelFiles] = strings.Join(p.ComposeFiles, ",")
	return pl, nil
}

// baseRequest is the service's keys that map one to one onto the request.
func baseRequest(p *types.Project, s types.ServiceConfig, name string) *api.CreateRequest {
	req := &api.CreateRequest{
		Image:        ImageName(p, s),
		Name:         name,
		Detached:     true,
		Hostname:     s.Hostname,
		WorkingDir:   s.WorkingDir,
		User:         s.User,
		ReadOnly:     s.ReadOnly,
		Privileged:   s.Privileged,
		CapAdd:       s.CapAdd,
		CapDrop:      s.CapDrop,
		DNS:          s.DNS,
		DNSSearch:    s.DNSSearch,
		DNSOption:    s.DNSOpts,
		Restart:      s.Restart,
		StopSignal:   s.StopSignal,
		Tmpfs:        s.Tmpfs,
		Tty:          s.Tty,
		Stdin:        s.StdinOpen,
		SecurityOpt:  s.SecurityOpt,
		Platform:     s.Platform,
		PidsLimit:    s.PidsLimit,
		CPUs:         float64(s.CPUS),
		CPUShares:    s.CPUShares,
		CPUQuota:     s.CPUQuota,
		CPUPeriod:    s.CPUPeriod,
		CpusetCpus:   s.CPUSet,
		MemoryBytes:  int64(s.MemLimit),
		MemorySwap:   int64(s.MemSwapLimit),
		ShmSizeBytes: int64(s.ShmSize),
		Project:      p.Name,
		Service:      s.Name,
	}
	if s.Command != nil {
		req.Command = slices.Clone([]string(s.Command))
	}
	if s.Entrypoint != nil {
		ep := slices.Clone([]string(s.Entrypoint))
		req.Entrypoint = &ep
	}
	if db, data := loader.DBMode(s); db {
		// The data volume is the service's (originalData mounted it at data): the engine
		// adds db run's relaxations and no volume of its own.
		req.DBMode, req.Data = true, data
	}
	if s.OomScoreAdj != 0 {
		v := int(s.OomScoreAdj)
		req.OOMScoreAdj = &v
	}
	if s.HealthCheck != nil {
		req.Healthcheck = healthcheck(s.HealthCheck)
	}
	if s.StopGracePeriod != nil {
		t := int(time.Duration(*s.StopGracePeriod).Round(time.Second) / time.Second)
		req.StopTimeout = &t
	}
	return req
}

// resources applies deploy's limits and restart policy over the service-level keys.
func resources(req *api.CreateRequest, s types.ServiceConfig) {
	if s.Deploy == nil {
		return
	}
	if l := s.Deploy.Resources.Limits; l != nil {
		if l.NanoCPUs > 0 {
			req.CPUs = float64(l.NanoCPUs)
		}
		if l.MemoryBytes > 0 {
			req.MemoryBytes = int64(l.MemoryBytes)
		}
		if l.Pids > 0 {
			req.PidsLimit = l.Pids
		}
	}
	if req.Restart == "" && s.Deploy.RestartPolicy != nil {
		switch c := s.Deploy.RestartPolicy.Condition; c {
		case "any":
			req.Restart = "always"
		case "on-failure":
			req.Restart = c
		case "none":
			req.Restart = "no"
		}
	}
}

// environment is the variables, labels, sysctls, ulimits, extra hosts and exposed ports.
func environment(req *api.CreateRequest, s types.ServiceConfig) {
	for k, v := range s.Environment {
		if v != nil {
			req.Env = append(req.Env, k+"="+*v)
		}
	}
	slices.Sort(req.Env)
	req.Labels = map[string]string{}
	for k, v := range s.Labels {
		req.Labels[k] = v
	}
	for k, v := range s.Sysctls {
		if req.Sysctls == nil {
			req.Sysctls = map[string]string{}
		}
		req.Sysctls[k] = v
	}
	for _, k := range sortedKeys(s.Ulimits) {
		u := s.Ulimits[k]
		if u.Single != 0 {
			req.Ulimits = append(req.Ulimits, fmt.Sprintf("%s=%d", k, u.Single))
		} else {
			req.Ulimits = append(req.Ulimits, fmt.Sprintf("%s=%d:%d", k, u.Soft, u.Hard))
		}
	}
	for _, host := range sortedKeys(s.ExtraHosts) {
		for _, ip := range s.ExtraHosts[host] {
			req.ExtraHosts = append(req.ExtraHosts, host+":"+ip)
		}
	}
	req.Expose = append(req.Expose, s.Expose...)
}

// publish is the service's ports for its n-th container.
func publish(req *api.CreateRequest, s types.ServiceConfig, n int) error {
	for _, pc := range s.Ports {
		b, err := portBindings(pc, n)
		if err != nil {
			return fmt.Errorf("services.%s.ports: %w", s.Name, err)
		}
		req.Publish = append(req.Publish, b...)
	}
	return nil
}

// mounts is volumes, then secrets (at /run/secrets/<name> unless given a target), then
// configs (at /<name> unless given one), each a read-only bind of its file.
func mounts(req *api.CreateRequest, p *types.Project, s types.ServiceConfig) error {
	for _, v := range s.Volumes {
		m, err := mount(p, v)
		if err != nil {
			return fmt.Errorf("services.%s.volumes: %w", s.Name, err)
		}
		req.Mounts = append(req.Mounts, m)
	}
	for _, f := range fileRefs(p, s) {
		src, err := f.source(p)
		if err != nil {
			return err
		}
		req.Mounts = append(req.Mounts, api.MountRequest{Type: "bind", Source: src, Target: f.target, ReadOnly: true})
	}
	return nil
}

// networks sets the request's network (network_mode, or the first of the service's
// networks with its aliases and address) and the others the container joins after.
func networks(pl *Plan, p *types.Project, s types.ServiceConfig, name string, containerOf func(string) string) error {
	req := pl.Request
	switch mode := s.NetworkMode; {
	case mode == "host" || mode == "none" || mode == "bridge":
		req.Network = mode
		return nil
	case strings.HasPrefix(mode, "service:"):
		req.Network = "container:" + containerOf(strings.TrimPrefix(mode, "service:"))
		return nil
	case strings.HasPrefix(mode, "container:"):
		req.Network = mode
		return nil
	case mode != "" && mode != "default":
		return fmt.Errorf("services.%s.network_mode: %q is not supported (host, none, service:<name>, container:<name>)", s.Name, mode)
	}
	for i, key := range s.NetworksByPriority() {
		nw, ok := p.Networks[key]
		if !ok {
			return fmt.Errorf("services.%s.networks: unknown network %q", s.Name, key)
		}
		c := Connect{Network: nw.Name, Aliases: []string{s.Name}}
		if name != s.Name {
			c.Aliases = append(c.Aliases, name)
		}
		for _, a := range linkAliases(p, s, key) {
			if !slices.Contains(c.Aliases, a) {
				c.Aliases = append(c.Aliases, a)
			}
		}
		if cfg := s.Networks[key]; cfg != nil {
			for _, a := range cfg.Aliases {
				if !slices.Contains(c.Aliases, a) {
					c.Aliases = append(c.Aliases, a)
				}
			}
			c.IP = cfg.Ipv4Address
		}
		if i == 0 {
			req.Network, req.NetworkAlias, req.IPAddress = c.Network, c.Aliases, c.IP
			continue
		}
		pl.Connects = append(pl.Connects, c)
	}
	return nil
}

// configHash is what decides whether `up` keeps a container: the request without the
// container's own name and number (scaling does not recreate the others), its networks,
// and the image it runs.
func configHash(req *api.CreateRequest, connects []Connect, imageID string, files map[string][]byte) (string, error) {
	r := *req
	notName := func(as []string) []string {
		return slices.DeleteFunc(slices.Clone(as), func(a string) bool { return a == req.Name })
	}
	r.Name = ""
	r.NetworkAlias = notName(r.NetworkAlias)
	cs := make([]Connect, len(connects))
	for i, c := range connects {
		cs[i] = c
		cs[i].Aliases = notName(c.Aliases)
	}
	sums := map[string]string{}
	for path, b := range files {
		sum := sha256.Sum256(b)
		sums[path] = hex.EncodeToString(sum[:])
	}
	b, err := json.Marshal(struct {
		R        api.CreateRequest
		Connects []Connect
		Image    string
		Files    map[string]string `json:",omitempty"`
	}{r, cs, imageID, sums})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// portBindings is one port of the service for its n-th container: a host port range
// (published "8000-8009" for one container port) gives each container the next port of it.
func portBindings(pc types.ServicePortConfig, n int) ([]api.PortBinding, error) {
	proto := pc.Protocol
	if proto == "" {
		proto = "tcp"
	}
	b := api.PortBinding{HostIP: pc.HostIP, ContainerPort: int(pc.Target), Protocol: proto}
	if pc.Published == "" {
		return []api.PortBinding{b}, nil
	}
	lo, hi, _ := hostPorts(pc)
	if lo == 0 {
		return nil, fmt.Errorf("published %q: not a port or a range of ports", pc.Published)
	}
	if lo+n-1 > hi {
		return nil, fmt.Errorf("published %q: no host port left for container #%d", pc.Published, n)
	}
	b.HostPort = lo + n - 1
	return []api.PortBinding{b}, nil
}

// hostPorts is the first and last host port published ("8000" or "8000-8009"); 0 when
// none is, or it does not parse.
func hostPorts(pc types.ServicePortConfig) (lo, hi int, ok bool) {
	l, h, isRange := strings.Cut(pc.Published, "-")
	lo, err := strconv.Atoi(l)
	if err != nil || lo <= 0 {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(h); err != nil || hi < lo {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

func healthcheck(h *types.HealthCheckConfig) *api.Healthcheck {
	out := &api.Healthcheck{Test: slices.Clone([]string(h.Test)), Disable: h.Disable}
	if len(out.Test) > 0 && out.Test[0] == "NONE" {
		out.Disable = true
	}
	if h.Interval != nil {
		out.Interval = int64(*h.Interval)
	}
	if h.Timeout != nil {
		out.Timeout = int64(*h.Timeout)
	}
	if h.StartPeriod != nil {
		out.StartPeriod = int64(*h.StartPeriod)
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

// mount maps one entry of volumes: binds (compose-go made their sources absolute), named
// volumes (the project's name for them), anonymous volumes and tmpfs. SELinux relabelling
// (:z/:Z) has no meaning here and is dropped.
func mount(p *types.Project, v types.ServiceVolumeConfig) (api.MountRequest, error) {
	m := api.MountRequest{Type: v.Type, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
	switch v.Type {
	case types.VolumeTypeBind:
	case types.VolumeTypeVolume:
		if v.Source != "" {
			def, ok := p.Volumes[v.Source]
			if !ok {
				return m, fmt.Errorf("unknown volume %q: declare it under the top-level volumes", v.Source)
			}
			m.Source = def.Name
		}
	case types.VolumeTypeTmpfs:
		if v.Tmpfs != nil {
			m.TmpfsSize = int64(v.Tmpfs.Size)
			m.TmpfsMode = uint32(v.Tmpfs.Mode)
		}
	default:
		return m, fmt.Errorf("%s: type %q is not supported (bind, volume, tmpfs)", v.Target, v.Type)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
