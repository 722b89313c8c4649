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

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/netport"
)

const (
	mib              = 1 << 20
	defaultDBData    = "/var/lib/minibox-data"
	defaultDBShmSize = 256 * mib
)

// CreateContainer resolves (or pulls) the image of req, a configuration the edge's
// validator produced, and records a new container in state "created". It returns the ID
// and warnings.
func (e *Engine) CreateContainer(ctx context.Context, req ctrconfig.Config) (string, []string, error) {
	return e.createContainer(ctx, req, true)
}

// createContainer is CreateContainer; durable waits for the record to reach the disk. A
// foreground `run --rm` need not: its container lives as long as the client's request,
// and one whose record a crashed daemon never wrote is removed at the next start
// (removeOrphans).
func (e *Engine) createContainer(ctx context.Context, req ctrconfig.Config, durable bool) (string, []string, error) {
	req = req.Clone()
	var warnings []string
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
	ctrio.ApplyLogDefaults(&req, e.Cfg.ContainerLog)
	if err := e.checkShares(&req); err != nil {
		return "", nil, err
	}
	// Limits this host cannot honour are skipped at start: say so now.
	warnings = append(warnings, e.host.Cgroup.Warnings(runspec.Resources(&req.Resources))...)
	if req.Lazy != nil && *req.Lazy {
		warnings = append(warnings, e.imageService.LazyWarnings(img)...)
	}
	if err := e.publishExposed(&req, img); err != nil {
		return "", nil, err
	}
	endpoints, err := e.nets.EndpointsFor(&req)
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
		ImageDigest: img.ManifestDigest.String(), Layers: img.Layers, Schema: ctrconfig.SchemaVersion, Conf: req, Args: args,
		Created: time.Now().UTC(), Status: StatusCreated, Lazy: e.lazyFor(&req),
		Config: img.Config.Config, ImageHealth: e.imageService.ImageHealthcheck(img), Endpoints: endpoints,
	}
	mounts, anon, err := e.vols.Resolve(&rec.Conf, rec.Config.Volumes)
	if err != nil {
		return "", nil, err
	}
	rec.Mounts, rec.AnonVolumes = mounts, anon
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
	if other, err := e.store.Add(rec, &ctr{rec: rec}, durable); other != "" {
		os.RemoveAll(dir)
		e.vols.Discard(anon)
		return "", nil, errdefs.Conflict(fmt.Sprintf("container name %q is already in use by container %s; remove or rename it, or choose another name", req.Name, short12(other)))
	} else if err != nil {
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
	e.containerEvent(rec, "create", nil)
	return id, warnings, nil
}

func (e *Engine) imageForCreate(ctx context.Context, req *ctrconfig.Config) (*image.Image, error) {
	switch req.Pull {
	case "", "missing":
		return e.imageService.ImageOrPull(ctx, req.Image, nil, nil)
	case "never":
		return e.Images.Resolve(req.Image)
	default: // "always": the validator admits no other
		return e.imageService.PullImage(ctx, req.Image, req.Platform, nil, nil)
	}
}

func (e *Engine) lazyFor(req *ctrconfig.Config) bool {
	if req.Lazy != nil {
		return *req.Lazy
	}
	return e.Cfg.Lazy
}

// commandOf is Entrypoint + (command or Cmd), Docker's rule: a new entrypoint drops the
// image's Cmd.
func commandOf(req *ctrconfig.Config, img *image.Image) ([]string, error) {
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

// applyDBMode adds exactly db run's relaxations.
func applyDBMode(req *ctrconfig.Config) {
	if req.Data == "" {
		req.Data = defaultDBData
	}
	// A mount the caller put at the data path already (compose's data volume) is the one.
	if !slices.ContainsFunc(req.Mounts, func(m ctrconfig.Mount) bool { return path.Clean(m.Target) == path.Clean(req.Data) }) {
		req.Mounts = append(req.Mounts, ctrconfig.Mount{Type: "volume", Source: req.Name + "-data", Target: req.Data})
	}
	if req.ShmSize == 0 {
		req.ShmSize = defaultDBShmSize
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
	req.Ulimits = append(req.Ulimits, ctrconfig.Ulimit{Type: "RLIMIT_MEMLOCK", Soft: ctrconfig.RLimitInfinity, Hard: ctrconfig.RLimitInfinity})
}

// publishExposed adds -P's random host ports for the image's ExposedPorts and --expose.
func (e *Engine) publishExposed(req *ctrconfig.Config, img *image.Image) error {
	if !req.PublishAll || (req.Network != "bridge" && !netsvc.IsUserNetwork(req.Network)) {
		return nil
	}
	keys := make([]string, 0, len(img.Config.Config.ExposedPorts)+len(req.Expose))
	for p := range img.Config.Config.ExposedPorts {
		keys = append(keys, p)
	}
	keys = append(keys, req.Expose...) // normalised already: "port/proto"
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, p := range keys {
		port, proto, _ := strings.Cut(p, "/")
		n, err := strconv.Atoi(port)
		if err != nil {
			continue
		}
		if proto == "" {
			proto = "tcp"
		}
		if n < 1 || n > 65535 || proto != "tcp" && proto != "udp" {
			continue // an image's port the network cannot publish
		}
		req.Publish = append(req.Publish, netport.Port{ContainerPort: uint16(n), Proto: proto})
	}
	return nil
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
		if _, taken := e.store.NameOwner(name); !taken {
			return name
		}
	}
	return "minibox_" + id[:12]
}
