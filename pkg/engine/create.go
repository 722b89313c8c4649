package engine

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/network"
)

const (
	mib              = 1 << 20
	defaultDBData    = "/var/lib/minibox-data"
	defaultDBShmSize = 256 * mib
	defaultPath      = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// CreateContainer validates req, resolves (or pulls) its image and records a new container
// in state "created". It returns the ID and warnings.
func (e *Engine) CreateContainer(ctx context.Context, req api.CreateRequest) (string, []string, error) {
	return e.createContainer(ctx, req, true)
}

// createContainer is CreateContainer; durable waits for the record to reach the disk. A
// foreground `run --rm` need not: its container lives as long as the client's request,
// and one whose record a crashed daemon never wrote is removed at the next start
// (removeOrphans).
func (e *Engine) createContainer(ctx context.Context, req api.CreateRequest, durable bool) (string, []string, error) {
	var warnings []string
	if err := normalizeRequest(&req, &warnings); err != nil {
		return "", nil, err
	}
	img, err := e.imageForCreate(ctx, &req)
	if err != nil {
		return "", nil, err
	}
	args, err := commandOf(&req, img)
	if err != nil {
		return "", nil, err
	}
	id := newID()
	if req.Name == "" {
		req.Name = e.generateName(id)
	}
	if req.DBMode {
		applyDBMode(&req)
	}
	if err := e.publishExposed(&req, img); err != nil {
		return "", nil, err
	}
	endpoints, err := e.endpointsFor(&req)
	if err != nil {
		return "", nil, err
	}
	if target, ok := strings.CutPrefix(req.Network, "container:"); ok {
		if _, err := e.lookup(target); err != nil {
			return "", nil, fmt.Errorf("network container:%s: %w", target, err)
		}
	}
	rec := &Record{
		ID: id, Name: req.Name, Image: req.Image, ImageName: img.Name, ImageID: img.ID.String(),
		ImageDigest: img.ManifestDigest.String(), Layers: img.Layers, Request: req, Args: args,
		Created: time.Now().UTC(), Status: StatusCreated, Lazy: e.lazyFor(&req),
		Config: img.Config.Config, ImageHealth: e.imageHealthcheck(img), Endpoints: endpoints,
	}
	anon, err := e.prepareMounts(rec)
	if err != nil {
		return "", nil, err
	}
	rec.AnonVolumes = anon
	dir := e.ctrDir(id)
	// upper/ is the overlay root's inode: 0755 like an image root, or non-root users could
	// not traverse "/". The container directory (0700) keeps host users out.
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, "upper"), 0o755}, {filepath.Join(dir, "work"), 0o700}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return "", nil, err
		}
		os.Chmod(d.path, d.mode)
	}
	// Claim the name and record the container in one step: names are unique.
	e.cmu.Lock()
	if other, taken := e.names[req.Name]; taken {
		e.cmu.Unlock()
		os.RemoveAll(dir)
		e.removeVolumes(anon)
		return "", nil, errdefs.Conflict(fmt.Sprintf("container name %q is already in use by container %s; remove or rename it, or choose another name", req.Name, short12(other)))
	}
	e.ctrs[id] = &ctr{rec: rec, ephemeral: !durable}
	e.names[req.Name] = id
	e.gen++
	e.cmu.Unlock()
	if !durable {
		e.saveSoon()
	} else if err := e.saveState(); err != nil {
		return "", nil, err
	}
	// config.json now, so prune sees the layers even before the first start (a foreground
	// run starts at once: its start writes it).
	if durable {
		if s, err := e.buildSpec(rec, nil); err == nil {
			s.Save()
		}
	}
	e.Log.Info("container created", "id", id[:12], "name", req.Name, "image", req.Image)
	return id, warnings, nil
}

func (e *Engine) imageForCreate(ctx context.Context, req *api.CreateRequest) (*image.Image, error) {
	switch req.Pull {
	case "", "missing":
		return e.ImageOrPull(ctx, req.Image, nil, nil)
	case "never":
		return e.Images.Resolve(req.Image)
	case "always":
		return e.PullImage(ctx, req.Image, req.Platform, nil, func(api.PullEvent) error { return nil })
	}
	return nil, errdefs.Invalid(fmt.Sprintf("pull policy %q: expected missing, always or never", req.Pull))
}

func (e *Engine) lazyFor(req *api.CreateRequest) bool {
	if req.Lazy != nil {
		return *req.Lazy
	}
	return e.Cfg.Lazy
}

// normalizeRequest folds the original fields into the new ones and checks what can be
// checked without the image.
func normalizeRequest(req *api.CreateRequest, warnings *[]string) error {
	if strings.TrimSpace(req.Image) == "" {
		return errdefs.Invalid("image is required")
	}
	if req.Name != "" && !nameRe.MatchString(strings.TrimPrefix(req.Name, "/")) {
		return errdefs.Invalid(fmt.Sprintf("invalid container name %q: use 1-128 of [A-Za-z0-9_.-], starting with a letter or digit", req.Name))
	}
	req.Name = strings.TrimPrefix(req.Name, "/")
	if req.Interactive {
		req.Tty, req.Stdin = true, true
	}
	if req.Restart != "" && req.Restart != "no" && req.AutoRemove {
		return errdefs.Invalid("--restart and --rm cannot be used together")
	}
	if _, _, err := parseRestart(req.Restart); err != nil {
		return err
	}
	switch req.Network {
	case "", "default":
		req.Network = "bridge"
	case "bridge", "host", "none":
	default:
		if target, ok := strings.CutPrefix(req.Network, "container:"); ok {
			if target == "" {
				return errdefs.Invalid("network \"container:\": name the container whose network to share")
			}
		} else if network.ValidNetworkName(req.Network) != nil {
			return errdefs.Invalid(fmt.Sprintf("network %q: expected bridge, host, none, container:<name> or a network's name", req.Network))
		}
	}
	if req.MemoryBytes == 0 && req.Memory > 0 {
		req.MemoryBytes = req.Memory * mib
	}
	if req.MemoryBytes < 0 || (req.MemoryBytes > 0 && req.MemoryBytes < 6*mib) {
		return errdefs.Invalid("memory limit must be at least 6 MiB")
	}
	if req.MemorySwap > 0 && req.MemoryBytes > 0 && req.MemorySwap < req.MemoryBytes {
		return errdefs.Invalid("--memory-swap must be at least --memory (it counts memory plus swap), or -1 for unlimited")
	}
	if req.ShmSizeBytes == 0 && req.ShmSize > 0 {
		req.ShmSizeBytes = req.ShmSize * mib
	}
	if req.CpusetCpus == "" {
		req.CpusetCpus = req.Cpuset
	}
	if req.CPUs < 0 || req.CPU < 0 {
		return errdefs.Invalid("CPU limits must be positive")
	}
	if req.IOWeight != 0 && (req.IOWeight < 1 || req.IOWeight > 10000) {
		return errdefs.Invalid("io_weight must be 1-10000")
	}
	if req.BlkioWeight != 0 && (req.BlkioWeight < 10 || req.BlkioWeight > 1000) {
		return errdefs.Invalid("--blkio-weight must be 10-1000")
	}
	for host, ctrPort := range req.Ports {
		hp, err := strconv.Atoi(host)
		if err != nil || hp < 0 || hp > 65535 || ctrPort < 1 || ctrPort > 65535 {
			return errdefs.Invalid(fmt.Sprintf("ports: %q -> %d is not a host port -> container port pair", host, ctrPort))
		}
		req.Publish = append(req.Publish, api.PortBinding{HostPort: hp, ContainerPort: ctrPort, Protocol: "tcp"})
	}
	req.Ports = nil
	for i := range req.Publish {
		p := &req.Publish[i]
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return errdefs.Invalid(fmt.Sprintf("port protocol %q: expected tcp or udp", p.Protocol))
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 {
			return errdefs.Invalid(fmt.Sprintf("port %d:%d is out of range 1-65535", p.HostPort, p.ContainerPort))
		}
	}
	if strings.HasPrefix(req.Network, "container:") && len(req.Publish) > 0 {
		*warnings = append(*warnings, "published ports are discarded when sharing another container's network")
		req.Publish = nil
	}
	if req.Network == "host" && len(req.Publish) > 0 {
		*warnings = append(*warnings, "published ports are discarded when using host network mode")
		req.Publish = nil
	}
	for _, o := range req.SecurityOpt {
		k, v, _ := strings.Cut(o, "=")
		switch {
		case k == "seccomp" && (v == "unconfined" || v == ""):
		case k == "no-new-privileges" && (v == "" || v == "true" || v == "false"):
		case k == "seccomp":
			// a profile file is read by the CLI and sent as seccomp_profile
		case k == "label" || k == "apparmor":
			*warnings = append(*warnings, fmt.Sprintf("security option %q is ignored: minibox has no LSM integration", o))
		default:
			return errdefs.Invalid(fmt.Sprintf("security option %q: expected seccomp=unconfined|<profile>, no-new-privileges[=false]", o))
		}
	}
	switch req.UserNS {
	case "", "host", "auto":
	default:
		return errdefs.Invalid(fmt.Sprintf("userns %q: expected host or auto", req.UserNS))
	}
	for k := range req.Sysctls {
		if !namespacedSysctl(k, req.Network == "host") {
			return errdefs.Invalid(fmt.Sprintf("sysctl %q is not namespaced (allowed: net.* without host network, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)", k))
		}
	}
	for _, u := range req.Ulimits {
		if _, err := parseUlimit(u); err != nil {
			return err
		}
	}
	if req.StopSignal != "" {
		if _, err := ParseSignal(req.StopSignal); err != nil {
			return err
		}
	}
	for _, m := range req.Mounts {
		if !path.IsAbs(m.Target) {
			return errdefs.Invalid(fmt.Sprintf("mount target %q must be an absolute path", m.Target))
		}
	}
	return nil
}

func namespacedSysctl(k string, hostNet bool) bool {
	switch {
	case strings.HasPrefix(k, "net."):
		return !hostNet
	case strings.HasPrefix(k, "kernel.shm"), strings.HasPrefix(k, "kernel.msg"), k == "kernel.sem",
		strings.HasPrefix(k, "fs.mqueue."):
		return true
	}
	return false
}

// commandOf is Entrypoint + (command or Cmd), Docker's rule: a new entrypoint drops the
// image's Cmd.
func commandOf(req *api.CreateRequest, img *image.Image) ([]string, error) {
	entry := img.Config.Config.Entrypoint
	cmd := img.Config.Config.Cmd
	if req.Entrypoint != nil {
		entry = *req.Entrypoint
		cmd = nil
	}
	if len(req.Command) > 0 {
		cmd = req.Command
	}
	args := append(slices.Clone(entry), cmd...)
	if len(args) == 0 {
		if req.DBMode {
			return nil, errdefs.Invalid("no command given and the image has no default command; pass one or --cmd")
		}
		return nil, errdefs.Invalid("no command given and the image has no default command")
	}
	return args, nil
}

// applyDBMode adds exactly db run's relaxations (SPEC §7.5).
func applyDBMode(req *api.CreateRequest) {
	if req.Data == "" {
		req.Data = defaultDBData
	}
	req.Mounts = append(req.Mounts, api.MountRequest{Type: "volume", Source: req.Name + "-data", Target: req.Data})
	if req.ShmSizeBytes == 0 {
		req.ShmSizeBytes = defaultDBShmSize
	}
	if req.OOMScoreAdj == nil {
		v := -900
		req.OOMScoreAdj = &v
	}
	if req.IOWeight == 0 && req.BlkioWeight == 0 {
		req.IOWeight = 800
	}
	for _, c := range []string{"SYS_NICE", "IPC_LOCK", "SYS_RESOURCE"} {
		if !slices.Contains(req.CapAdd, c) {
			req.CapAdd = append(req.CapAdd, c)
		}
	}
	req.Ulimits = append(req.Ulimits, "memlock=-1:-1")
}

// publishExposed adds -P's random host ports for the image's ExposedPorts.
func (e *Engine) publishExposed(req *api.CreateRequest, img *image.Image) error {
	if !req.PublishAll || (req.Network != "bridge" && !isUserNetMode(req.Network)) {
		return nil
	}
	keys := make([]string, 0, len(img.Config.Config.ExposedPorts))
	for p := range img.Config.Config.ExposedPorts {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for _, p := range keys {
		port, proto, _ := strings.Cut(p, "/")
		n, err := strconv.Atoi(port)
		if err != nil {
			continue
		}
		if proto == "" {
			proto = "tcp"
		}
		req.Publish = append(req.Publish, api.PortBinding{ContainerPort: n, Protocol: proto})
	}
	return nil
}

// publishPorts turns the request's bindings into the network's.
func publishPorts(req *api.CreateRequest) ([]network.Port, error) {
	var out []network.Port
	for _, p := range req.Publish {
		s := strconv.Itoa(p.ContainerPort) + "/" + p.Protocol
		switch {
		case p.HostIP != "":
			hp := ""
			if p.HostPort > 0 {
				hp = strconv.Itoa(p.HostPort)
			}
			s = p.HostIP + ":" + hp + ":" + s
		case p.HostPort > 0:
			s = strconv.Itoa(p.HostPort) + ":" + s
		}
		ports, err := network.ParsePublish(s)
		if err != nil {
			return nil, err
		}
		out = append(out, ports...)
	}
	return out, nil
}

var (
	adjectives = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quick", "sharp", "tender", "vivid", "witty", "zen"}
	surnames   = []string{"turing", "hopper", "lovelace", "ritchie", "thompson", "torvalds", "knuth", "dijkstra", "liskov", "hamilton", "curie", "noether", "shannon", "babbage", "wozniak", "pike"}
)

func (e *Engine) generateName(id string) string {
	for i := 0; i < 64; i++ {
		b := id[i%60:]
		n1, _ := strconv.ParseUint(b[:2], 16, 8)
		n2, _ := strconv.ParseUint(b[2:4], 16, 8)
		name := adjectives[int(n1)%len(adjectives)] + "_" + surnames[int(n2)%len(surnames)]
		if i > 0 {
			name += "_" + strconv.Itoa(i)
		}
		e.cmu.RLock()
		_, taken := e.names[name]
		e.cmu.RUnlock()
		if !taken {
			return name
		}
	}
	return "minibox_" + id[:12]
}
