package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/singleflight"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/toc"
)

// lazyArea holds layer indexing, lazy mounts and prune.
type lazyArea struct {
	lazy     *lazyfs.Client
	indexing singleflight.Group
	// startup is closed when start-up work (stale mounts, background indexing) is done.
	startup chan struct{}

	// ContainerLayers, set by the containers area, returns the blobs (layers at least) that
	// container records use, running or stopped. Prune unions it with the lower
	// directories named in containers/*/config.json.
	ContainerLayers func() (map[digest.Digest]bool, error)

	pruneMu sync.Mutex // one prune at a time
}

// openLazy runs after openImages: it hooks indexing into the image store and starts the
// start-up work in the background, so /ping answers at once whatever the store's size.
func (e *Engine) openLazy() error {
	e.lazy = &lazyfs.Client{
		Paths: lazyfs.Paths{Root: e.Root},
		Command: func() *exec.Cmd {
			return reexec.Command("minibox-lazyfs", []string{"--root", e.Root})
		},
	}
	e.startup = make(chan struct{})
	if s := e.Images; s != nil {
		prev := s.OnLayer
		s.OnLayer = func(d ocispec.Descriptor) {
			if prev != nil {
				prev(d)
			}
			// Unpacked now, beside its indexing, unless containers start lazily by default:
			// the first run then only mounts, as Docker's and Podman's do after a pull or
			// load. (An import has unpacked its layer already.) Failures are not the pull's:
			// the first run unpacks again and says why.
			var unpacked chan struct{}
			if !e.Cfg.Lazy {
				unpacked = make(chan struct{})
				go func() {
					defer close(unpacked)
					if _, err := e.Images.Unpack(context.Background(), d); err != nil {
						e.Log.Warn("layer not unpacked", "layer", short(d.Digest), "err", err)
					}
				}()
			}
			// Indexing failures are not the pull's: the layer is then unpacked, not lazy.
			if err := e.indexLayer(d); err != nil {
				e.Log.Warn("layer not indexed; it will be unpacked instead of served lazily", "layer", short(d.Digest), "err", err)
			}
			if unpacked != nil {
				<-unpacked
			}
		}
	}
	go func() {
		defer close(e.startup)
		e.detachStale()
		if e.Cfg.IndexOnStartup {
			e.indexAll(context.Background())
		}
	}()
	return nil
}

func short(d digest.Digest) string { return short12(d.String()) }

// detachStale detaches lazy mounts whose server died (ENOTCONN); the layer is mounted
// again by a new server when next needed.
func (e *Engine) detachStale() {
	ents, _ := os.ReadDir(filepath.Join(e.Root, "lazy"))
	for _, ent := range ents {
		d := digest.NewDigestFromEncoded(digest.SHA256, ent.Name())
		if d.Validate() != nil {
			continue
		}
		dir := e.lazy.Paths.Mount(d)
		if lazyfs.Stale(dir) {
			if err := lazyfs.Detach(dir); err != nil {
				e.Log.Warn("detach stale lazy mount", "dir", dir, "err", err)
			} else {
				e.Log.Info("stale lazy mount detached", "layer", short(d))
			}
		}
	}
}

// indexAll indexes every layer of every image that has no index yet.
func (e *Engine) indexAll(ctx context.Context) {
	if e.Images == nil {
		return
	}
	imgs, err := e.Images.List()
	if err != nil {
		e.Log.Warn("background indexing: list images", "err", err)
		return
	}
	start, n := time.Now(), 0
	for _, img := range imgs {
		for _, l := range img.Layers {
			if ctx.Err() != nil {
				return
			}
			if _, err := os.Stat(toc.Path(e.blobPath(l.Digest))); err == nil {
				continue
			}
			if err := e.indexLayer(l); err != nil {
				e.Log.Warn("background indexing", "layer", short(l.Digest), "err", err)
				continue
			}
			n++
		}
	}
	if n > 0 {
		e.Log.Info("layers indexed", "count", n, "duration", time.Since(start).Round(time.Millisecond))
	}
}

func (e *Engine) blobPath(d digest.Digest) string {
	return filepath.Join(e.Root, "blobs", "sha256", d.Encoded())
}

// indexLayer writes blobs/sha256/<hex>.index.json for a layer blob already in the store,
// once however many callers ask at the same time; an existing index is kept. The builder
// calls it at finalize (when MINIBOX_INDEX_LAYERS is on), the image store's OnLayer hook
// after pull, load and import.
func (e *Engine) indexLayer(desc ocispec.Descriptor) error {
	_, err := e.layerIndex(desc.Digest)
	return err
}

// layerIndex returns a layer's index, building it first if missing (deferred indexing).
func (e *Engine) layerIndex(d digest.Digest) (*toc.Index, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("layer %q: %v: %w", d, err, errdefs.ErrInvalid)
	}
	p := toc.Path(e.blobPath(d))
	if x, err := toc.Read(p); err == nil {
		return x, nil
	}
	v, err, _ := e.indexing.Do(d.String(), func() (any, error) {
		if x, err := toc.Read(p); err == nil {
			return x, nil
		}
		start := time.Now()
		x, err := toc.BuildFile(e.blobPath(d), d)
		if err != nil {
			return nil, err
		}
		if err := toc.Write(p, x); err != nil {
			return nil, err
		}
		e.Log.Debug("layer indexed", "layer", short(d), "entries", len(x.Entries), "seekable", x.Seekable,
			"duration", time.Since(start).Round(time.Millisecond))
		return x, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*toc.Index), nil
}

// LazyLayerDirs returns img's layer directories top first, as overlay's lowerdir wants:
// lazy/<hex> FUSE mounts for layers that can be served in place, extracted/<hex> for the
// rest (zstd, or large single-member gzip layers from elsewhere).
func (e *Engine) LazyLayerDirs(ctx context.Context, img *image.Image) ([]string, error) {
	dirs := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		dir, err := e.lazyLayerDir(ctx, l)
		if err != nil {
			return nil, err
		}
		dirs[len(dirs)-1-i] = dir
	}
	return dirs, nil
}

// lazyWarnings says which of img's layers --lazy cannot serve in place, and why: they are
// unpacked instead (the start would otherwise fall back without a word).
func (e *Engine) lazyWarnings(img *image.Image) []string {
	var ws []string
	for _, l := range img.Layers {
		x, err := e.layerIndex(l.Digest)
		switch {
		case err != nil:
			ws = append(ws, fmt.Sprintf("--lazy: layer %s cannot be served lazily (%v); it is unpacked instead", short(l.Digest), err))
		case !x.Seekable:
			ws = append(ws, fmt.Sprintf("--lazy: layer %s cannot be served lazily (%s, %d MB, with no place to start reading near each file); it is unpacked instead",
				short(l.Digest), x.Compression, x.BlobSize>>20))
		}
	}
	return ws
}

func (e *Engine) lazyLayerDir(ctx context.Context, l ocispec.Descriptor) (string, error) {
	x, err := e.layerIndex(l.Digest)
	if err != nil || !x.Seekable {
		if err != nil {
			e.Log.Warn("layer cannot be indexed; unpacking it", "layer", short(l.Digest), "err", err)
		}
		return e.Images.Unpack(ctx, l)
	}
	return e.lazy.Mount(ctx, l.Digest)
}

// usedByContainers is every layer a container record uses: the containers area's answer
// and the lower directories of every containers/<id>/config.json.
func (e *Engine) usedByContainers() (map[digest.Digest]bool, error) {
	used := map[digest.Digest]bool{}
	if e.ContainerLayers != nil {
		m, err := e.ContainerLayers()
		if err != nil {
			return nil, err
		}
		for d := range m {
			used[d] = true
		}
	}
	ents, err := os.ReadDir(filepath.Join(e.Root, "containers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		s, err := spec.Load(filepath.Join(e.Root, "containers", ent.Name()))
		if err != nil {
			continue // being created or removed: its record (ContainerLayers) speaks for it
		}
		for _, l := range s.Rootfs.Lower {
			if d := layerOfDir(e.Root, l); d != "" {
				used[d] = true
			}
		}
	}
	return used, nil
}

// layerOfDir maps <root>/extracted/<hex> and <root>/lazy/<hex> to their layer digest.
func layerOfDir(root, dir string) digest.Digest {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return ""
	}
	kind, hex, ok := strings.Cut(rel, string(filepath.Separator))
	if !ok || (kind != "extracted" && kind != "lazy") || strings.Contains(hex, "/") {
		return ""
	}
	d := digest.NewDigestFromEncoded(digest.SHA256, hex)
	if d.Validate() != nil {
		return ""
	}
	return d
}

// pruneOptions gathers what prune must keep. A corrupt index.json is an error (500):
// nothing may be removed when what is referenced is unknown.
func (e *Engine) pruneOptions(buildCache bool) (prune.Options, error) {
	if e.Images == nil {
		return prune.Options{}, errors.New("prune: the image store is not open")
	}
	refs, err := e.Images.ReferencedBlobs()
	if err != nil {
		return prune.Options{}, fmt.Errorf("prune: read index.json: %v; nothing removed", err)
	}
	used, err := e.usedByContainers()
	if err != nil {
		return prune.Options{}, fmt.Errorf("prune: container records: %v; nothing removed", err)
	}
	// Running pulls, loads, imports, saves and builds register with the image store
	// (Images.Begin); what they stage or hold open is theirs.
	openHere := prune.Busy(e.Root)
	return prune.Options{
		Root: e.Root, Referenced: refs, Used: used, BuildCache: buildCache,
		Since: e.Images.ActiveSince(),
		Busy:  func(p string) bool { return e.Images.Busy(p) || openHere(p) },
	}, nil
}

// Prune is `system prune`.
func (e *Engine) Prune(ctx context.Context, buildCache bool) (*api.PruneReport, error) {
	e.pruneMu.Lock()
	defer e.pruneMu.Unlock()
	o, err := e.pruneOptions(buildCache)
	if err != nil {
		return nil, err
	}
	plan, err := prune.Make(o)
	if err != nil {
		return nil, err
	}
	r := plan.Apply(e.Log)
	e.releaseBridge(ctx)
	e.Log.Info("system prune", "blobs", r.BlobsRemoved, "fuse_mounts", r.FuseMountsKilled, "extracted", r.ExtractedRemoved,
		"tmp", r.TmpRemoved, "build_cache", r.BuildCacheRemoved, "bytes", r.BytesFreed)
	out := api.PruneReport(r)
	return &out, nil
}

// DiskUsage is `system df`: sizes per kind, and what a prune with --build-cache would free.
func (e *Engine) DiskUsage(ctx context.Context, verbose bool) (*api.DiskUsage, error) {
	o, err := e.pruneOptions(true)
	if err != nil {
		return nil, err
	}
	plan, err := prune.Make(o) // a dry run: only what it would free
	if err != nil {
		return nil, err
	}
	gone := map[string]int64{}
	for _, a := range plan.Actions {
		gone[a.Paths[0]] = a.Bytes
	}
	du := &api.DiskUsage{}
	var items []api.UsageItem
	var all []string // every path counted, for a Total that counts shared inodes once
	add := func(u *api.Usage, kind, name, path, detail string) {
		all = append(all, path)
		size := prune.DiskBytes(path)
		b, reclaim := gone[path]
		u.Count++
		u.SizeBytes += size
		if reclaim {
			u.ReclaimableBytes += b
		}
		items = append(items, api.UsageItem{Kind: kind, Name: name, SizeBytes: size, Reclaimable: reclaim, Detail: detail})
	}

	imgs, err := e.Images.List()
	if err != nil {
		return nil, err
	}
	seen := map[digest.Digest]bool{}
	for _, img := range imgs {
		blobs := append([]ocispec.Descriptor{{Digest: img.ManifestDigest}, img.Manifest.Config}, img.Layers...)
		var size int64
		for _, b := range blobs {
			if seen[b.Digest] || b.Digest == "" {
				continue
			}
			seen[b.Digest] = true
			all = append(all, e.blobPath(b.Digest), toc.Path(e.blobPath(b.Digest)))
			size += prune.DiskBytes(e.blobPath(b.Digest), toc.Path(e.blobPath(b.Digest)))
		}
		du.Images.Count++
		du.Images.SizeBytes += size
		name := img.Name
		if name == "" {
			name = img.ID.String()
		}
		items = append(items, api.UsageItem{Kind: "image", Name: name, SizeBytes: size, Detail: fmt.Sprintf("%d layers", len(img.Layers))})
	}
	list := func(rel string) []string {
		ents, _ := os.ReadDir(filepath.Join(e.Root, rel))
		var names []string
		for _, ent := range ents {
			if !strings.HasPrefix(ent.Name(), ".") && !strings.HasSuffix(ent.Name(), ".lock") {
				names = append(names, ent.Name())
			}
		}
		sort.Strings(names)
		return names
	}
	for _, n := range list("containers") {
		add(&du.Containers, "container", n[:min(12, len(n))], filepath.Join(e.Root, "containers", n), "")
	}
	for _, n := range list("volumes") {
		add(&du.Volumes, "volume", n, filepath.Join(e.Root, "volumes", n), "")
	}
	for _, n := range list("layers") {
		add(&du.BuildCache, "build_cache", n, filepath.Join(e.Root, "layers", n), "")
	}
	for _, n := range list(build.CacheMountsDir) {
		add(&du.BuildCache, "build_cache", n, filepath.Join(e.Root, build.CacheMountsDir, n), "cache mount")
	}
	for _, n := range list("extracted") {
		add(&du.Extracted, "extracted", n[:min(12, len(n))], filepath.Join(e.Root, "extracted", n), "")
	}
	mounted := map[string]bool{}
	for _, n := range list("lazy") {
		mounted[n] = lazyfs.Mounted(filepath.Join(e.Root, "lazy", n))
	}
	for _, n := range list("cache") {
		detail := "not mounted"
		if mounted[n] {
			detail = "mounted"
		}
		p := filepath.Join(e.Root, "cache", n)
		// A mounted layer's cache goes with its mount's action.
		if b, ok := gone[filepath.Join(e.Root, "lazy", n)]; ok {
			gone[p] = b
		}
		add(&du.LazyCache, "lazy", n[:min(12, len(n))], p, detail)
	}
	for _, a := range plan.Actions {
		if a.Kind == prune.Blob {
			add(&du.Orphans, "orphan", short(a.Digest), a.Paths[0], "")
		}
	}
	for _, n := range list("tmp") {
		add(&du.Tmp, "tmp", n, filepath.Join(e.Root, "tmp", n), "")
	}
	for _, u := range []api.Usage{du.Images, du.Containers, du.Volumes, du.BuildCache, du.Extracted, du.LazyCache, du.Orphans, du.Tmp} {
		du.Total.Count += u.Count
	}
	du.Total.SizeBytes = prune.DiskBytes(all...)
	du.Total.ReclaimableBytes = plan.Bytes
	if verbose {
		du.Items = items
	}
	return du, nil
}
