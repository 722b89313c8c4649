package imagesvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/toc"
)

// usedByContainers is every layer a container record uses: the containers core's answer
// and the lower directories of every containers/<id>/config.json.
func (s *Service) usedByContainers() (map[digest.Digest]bool, error) {
	used := map[digest.Digest]bool{}
	if s.ctrs != nil {
		m, err := s.ctrs.ContainerLayers()
		if err != nil {
			return nil, err
		}
		for d := range m {
			used[d] = true
		}
	}
	ents, err := os.ReadDir(filepath.Join(s.cfg.Root, "containers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		sp, err := spec.Load(filepath.Join(s.cfg.Root, "containers", ent.Name()))
		if err != nil {
			continue // being created or removed: its record (ContainerLayers) speaks for it
		}
		for _, l := range sp.Rootfs.Lower {
			if d := layerOfDir(s.cfg.Root, l); d != "" {
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
func (s *Service) pruneOptions(buildCache bool) (prune.Options, error) {
	refs, err := s.store.ReferencedBlobs()
	if err != nil {
		return prune.Options{}, fmt.Errorf("prune: read index.json: %v; nothing removed", err)
	}
	used, err := s.usedByContainers()
	if err != nil {
		return prune.Options{}, fmt.Errorf("prune: container records: %v; nothing removed", err)
	}
	// Running pulls, loads, imports, saves and builds register with the image store
	// (Images.Begin); what they stage or hold open is theirs.
	openHere := prune.Busy(s.cfg.Root)
	return prune.Options{
		Root: s.cfg.Root, Referenced: refs, Used: used, BuildCache: buildCache,
		Since: s.store.ActiveSince(),
		Busy:  func(p string) bool { return s.store.Busy(p) || openHere(p) },
	}, nil
}

// Prune is `system prune`: what no image or container references, and with buildCache
// the build cache too.
func (s *Service) Prune(ctx context.Context, buildCache bool) (*prune.Report, error) {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	o, err := s.pruneOptions(buildCache)
	if err != nil {
		return nil, err
	}
	plan, err := prune.Make(o)
	if err != nil {
		return nil, err
	}
	r := plan.Apply(s.log)
	if s.afterPrune != nil {
		s.afterPrune(ctx)
	}
	s.log.Info("system prune", "blobs", r.BlobsRemoved, "fuse_mounts", r.FuseMountsKilled, "extracted", r.ExtractedRemoved,
		"tmp", r.TmpRemoved, "build_cache", r.BuildCacheRemoved, "bytes", r.BytesFreed)
	return &r, nil
}

// Usage is one kind's share of the data root: how many, their disk bytes, and how many of
// those bytes a prune (with the build cache for the build cache) would free.
type Usage struct {
	Count            int
	SizeBytes        int64
	ReclaimableBytes int64
}

// DiskUsage is `system df`. Sizes are allocated disk bytes; a file hard-linked into two
// kinds counts in both, and once in Total.
type DiskUsage struct {
	Images     Usage // images: their blobs (manifests, configs, layers)
	Containers Usage // containers/<id>: upper layers, logs
	Volumes    Usage // volumes/<name>
	BuildCache Usage
	Extracted  Usage // unpacked layers
	LazyCache  Usage // cache/<hex>; count = mounted lazy layers
	Orphans    Usage // blobs no image or container references
	Tmp        Usage
	Total      Usage
	// Items lists every object when asked verbose (df -v).
	Items []UsageItem
}

// UsageItem is one object of df -v.
type UsageItem struct {
	Kind        string // image, container, volume, build_cache, extracted, lazy, orphan, tmp
	Name        string
	SizeBytes   int64
	Reclaimable bool
	Detail      string
}

// DiskUsage is `system df`: sizes per kind, and what a prune with the build cache would free.
func (s *Service) DiskUsage(ctx context.Context, verbose bool) (*DiskUsage, error) {
	o, err := s.pruneOptions(true)
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
	du := &DiskUsage{}
	var items []UsageItem
	var all []string // every path counted, for a Total that counts shared inodes once
	add := func(u *Usage, kind, name, path, detail string) {
		all = append(all, path)
		size := prune.DiskBytes(path)
		b, reclaim := gone[path]
		u.Count++
		u.SizeBytes += size
		if reclaim {
			u.ReclaimableBytes += b
		}
		items = append(items, UsageItem{Kind: kind, Name: name, SizeBytes: size, Reclaimable: reclaim, Detail: detail})
	}

	imgs, err := s.store.List()
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
			all = append(all, s.blobPath(b.Digest), toc.Path(s.blobPath(b.Digest)))
			size += prune.DiskBytes(s.blobPath(b.Digest), toc.Path(s.blobPath(b.Digest)))
		}
		du.Images.Count++
		du.Images.SizeBytes += size
		name := img.Name
		if name == "" {
			name = img.ID.String()
		}
		items = append(items, UsageItem{Kind: "image", Name: name, SizeBytes: size, Detail: fmt.Sprintf("%d layers", len(img.Layers))})
	}
	list := func(rel string) []string {
		ents, _ := os.ReadDir(filepath.Join(s.cfg.Root, rel))
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
		add(&du.Containers, "container", n[:min(12, len(n))], filepath.Join(s.cfg.Root, "containers", n), "")
	}
	for _, n := range list("volumes") {
		add(&du.Volumes, "volume", n, filepath.Join(s.cfg.Root, "volumes", n), "")
	}
	for _, n := range list("layers") {
		add(&du.BuildCache, "build_cache", n, filepath.Join(s.cfg.Root, "layers", n), "")
	}
	for _, n := range list(build.CacheMountsDir) {
		add(&du.BuildCache, "build_cache", n, filepath.Join(s.cfg.Root, build.CacheMountsDir, n), "cache mount")
	}
	for _, n := range list("extracted") {
		add(&du.Extracted, "extracted", n[:min(12, len(n))], filepath.Join(s.cfg.Root, "extracted", n), "")
	}
	mounted := map[string]bool{}
	for _, n := range list("lazy") {
		mounted[n] = lazyfs.Mounted(filepath.Join(s.cfg.Root, "lazy", n))
	}
	for _, n := range list("cache") {
		detail := "not mounted"
		if mounted[n] {
			detail = "mounted"
		}
		p := filepath.Join(s.cfg.Root, "cache", n)
		// A mounted layer's cache goes with its mount's action.
		if b, ok := gone[filepath.Join(s.cfg.Root, "lazy", n)]; ok {
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
		add(&du.Tmp, "tmp", n, filepath.Join(s.cfg.Root, "tmp", n), "")
	}
	for _, u := range []Usage{du.Images, du.Containers, du.Volumes, du.BuildCache, du.Extracted, du.LazyCache, du.Orphans, du.Tmp} {
		du.Total.Count += u.Count
	}
	du.Total.SizeBytes = prune.DiskBytes(all...)
	du.Total.ReclaimableBytes = plan.Bytes
	if verbose {
		du.Items = items
	}
	return du, nil
}

// PruneImages removes dangling (unnamed) images, or with all every image no container
// uses, then frees their blobs. An image a container uses stays either way.
func (s *Service) PruneImages(ctx context.Context, all bool, f prune.Filter) (*prune.Removed, error) {
	imgs, err := s.store.List()
	if err != nil {
		return nil, err
	}
	res := &prune.Removed{Images: []prune.ImageDeleted{}}
	deleted := map[string]bool{}
	for _, img := range imgs {
		if img.Name != "" && !all {
			continue
		}
		if len(s.imageUsers(img.ID)) > 0 {
			continue
		}
		var created time.Time
		if img.Config.Created != nil {
			created = *img.Config.Created
		}
		if !f.Match(created, img.Config.Config.Labels) {
			continue
		}
		ref := img.ID.String()
		if img.Name != "" {
			ref = img.Name
		}
		names, err := s.RemoveImage(ref, false)
		if err != nil {
			s.log.Warn("image prune", "image", ref, "err", err)
			continue
		}
		for _, n := range names {
			if img.Name != "" { // an unnamed image had no name to untag
				res.Images = append(res.Images, prune.ImageDeleted{Untagged: oci.Familiar(n)})
			}
		}
		if _, err := s.store.Resolve(img.ID.String()); err != nil && !deleted[img.ID.String()] {
			deleted[img.ID.String()] = true
			res.Images = append(res.Images, prune.ImageDeleted{Deleted: img.ID.String()})
		}
	}
	if len(res.Images) > 0 {
		// The blobs only the removed images held go now.
		r, err := s.Prune(ctx, false)
		if err != nil {
			return nil, err
		}
		res.SpaceReclaimed = r.BytesFreed
	}
	s.emit(Event{Action: "prune", Attributes: map[string]string{"reclaimed": fmt.Sprint(res.SpaceReclaimed)}})
	return res, nil
}

// PruneBuildCache is `builder prune`: the build cache alone, the block cache (layers/)
// and RUN --mount=type=cache directories (cache-mounts/), except what running builds hold;
// with until, only those last changed before it.
func (s *Service) PruneBuildCache(ctx context.Context, f prune.Filter) (*prune.Removed, error) {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	o, err := s.pruneOptions(true)
	if err != nil {
		return nil, err
	}
	o.OnlyBuildCache = true // block cache and RUN cache mounts, nothing else
	plan, err := prune.Make(o)
	if err != nil {
		return nil, err
	}
	keep := plan.Actions[:0]
	for _, a := range plan.Actions {
		if a.Kind != prune.BuildCache && a.Kind != prune.CacheMount {
			continue
		}
		if !f.Until.IsZero() {
			if fi, err := os.Lstat(a.Paths[0]); err != nil || !fi.ModTime().Before(f.Until) {
				continue
			}
		}
		keep = append(keep, a)
	}
	plan.Actions = keep
	r := plan.Apply(s.log)
	res := &prune.Removed{SpaceReclaimed: r.BuildCacheBytesFreed}
	for _, a := range keep {
		res.BuildCache = append(res.BuildCache, a.Key)
	}
	return res, nil
}
