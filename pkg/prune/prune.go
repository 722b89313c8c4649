package prune

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
)

// Kind is what an action removes.
type Kind string

const (
	Blob       Kind = "blob"        // blobs/sha256/<hex> and its .index.json
	OrphanTOC  Kind = "orphan-toc"  // a .index.json whose blob is gone
	Mount      Kind = "mount"       // lazy/<hex> mount, detached, with cache/<hex>
	Cache      Kind = "cache"       // cache/<hex> of a layer neither mounted nor kept
	Extracted  Kind = "extracted"   // extracted/<hex>
	Tmp        Kind = "tmp"         // a tmp/ entry
	BuildCache Kind = "build-cache" // layers/<key> (and its .lock)
	CacheMount Kind = "cache-mount" // cache-mounts/<hex> (and its .lock): RUN --mount=type=cache
)

// cacheMountsDir holds the builder's RUN --mount=type=cache directories.
const cacheMountsDir = "cache-mounts"

// Options are the facts Make needs from the rest of the daemon.
type Options struct {
	Root string
	// Referenced is every blob reachable from index.json.
	Referenced map[digest.Digest]bool
	// Used is every blob (layer) a container record uses, running or stopped.
	Used map[digest.Digest]bool
	// BuildCache also removes layers/ entries and cache-mounts/ directories.
	BuildCache bool
	// OnlyBuildCache plans the build cache alone (builder prune).
	OnlyBuildCache bool
	// Since is when the oldest running operation (pull, load, import, save, build) began;
	// anything changed since may be its work in progress and is kept. Zero: none running.
	Since time.Time
	// Busy, if set, reports paths a running operation holds (open files, mounts).
	Busy func(path string) bool
	// HeldLayer, if set, reports build cache keys a running build holds; otherwise the
	// layers/<key>.lock flock decides (see HoldLayer).
	HeldLayer func(key string) bool
}

// Action is one removal.
type Action struct {
	Kind   Kind
	Digest digest.Digest // blobs, mounts, caches, extracted layers
	Key    string        // build cache key
	Paths  []string      // removed in this order
	Stale  bool          // mount: its server is gone (ENOTCONN)
	Live   bool          // mount: mounted (stale or served), not just a leftover directory
	Bytes  int64         // disk bytes this action alone frees
}

// Plan is what a prune will remove.
type Plan struct {
	Actions []Action
	// Bytes and BuildCacheBytes are the disk bytes the plan frees: allocated blocks of inodes
	// whose every link is removed (a file hard-linked from a kept directory frees nothing).
	Bytes, BuildCacheBytes int64
}

// Report is what Apply removed, in the API's terms.
type Report struct {
	BlobsRemoved         int   `json:"blobs_removed"`
	BytesFreed           int64 `json:"bytes_freed"`
	FuseMountsKilled     int   `json:"fuse_mounts_killed"`
	ExtractedRemoved     int   `json:"extracted_removed"`
	TmpRemoved           int   `json:"tmp_removed"`
	BuildCacheRemoved    int   `json:"build_cache_removed"`
	BuildCacheBytesFreed int64 `json:"build_cache_bytes_freed"`
}

// Make scans o.Root and plans the prune. It removes nothing.
func Make(o Options) (*Plan, error) {
	m := &planner{o: o, p: &Plan{}}
	steps := []func() error{m.blobs, m.lazyAndCache, m.extracted, m.tmp, m.buildCache, m.cacheMounts}
	if o.OnlyBuildCache {
		m.o.BuildCache = true
		steps = []func() error{m.buildCache, m.cacheMounts}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	m.p.count()
	return m.p, nil
}

// planner holds one Make's options and the plan it fills, one data root area per method.
type planner struct {
	o Options
	p *Plan
}

func (m *planner) add(a Action) { m.p.Actions = append(m.p.Actions, a) }

// keep reports a digest an image or a container still wants.
func (m *planner) keep(d digest.Digest) bool { return m.o.Referenced[d] || m.o.Used[d] }

// held reports a path a running operation holds, or one changed since the cutoff.
func (m *planner) held(path string) bool {
	if m.o.Busy != nil && m.o.Busy(path) {
		return true
	}
	return !m.o.Since.IsZero() && changedSince(path, m.o.Since)
}

// blobs plans unwanted blobs with their indexes, and indexes whose blob is gone.
func (m *planner) blobs() error {
	blobDir := filepath.Join(m.o.Root, "blobs", "sha256")
	names, err := readDir(blobDir)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}
	for _, n := range names {
		if hex, ok := strings.CutSuffix(n, toc.Suffix); ok {
			if !present[hex] && !m.held(filepath.Join(blobDir, n)) {
				m.add(Action{Kind: OrphanTOC, Paths: []string{filepath.Join(blobDir, n)}})
			}
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		if d.Validate() != nil || m.keep(d) {
			continue // not a blob name (a writer's temp file), or still wanted
		}
		path := filepath.Join(blobDir, n)
		if m.held(path) {
			continue
		}
		paths := []string{path}
		if present[n+toc.Suffix] {
			paths = append(paths, path+toc.Suffix)
		}
		m.add(Action{Kind: Blob, Digest: d, Paths: paths})
	}
	return nil
}

// lazyAndCache plans lazy mounts, then caches nobody mounts.
func (m *planner) lazyAndCache() error {
	lazyDir, cacheDir := filepath.Join(m.o.Root, "lazy"), filepath.Join(m.o.Root, "cache")
	names, err := readDir(lazyDir)
	if err != nil {
		return err
	}
	mountedOrKept := map[string]bool{}
	for _, n := range names {
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		if d.Validate() != nil {
			continue // the server's socket, lock and log
		}
		dir := filepath.Join(lazyDir, n)
		// Not Busy: the mount point itself is in mountinfo. A mount in use is one whose layer
		// a container record uses (Used), whatever opens it.
		stale := isStale(dir)
		if !stale && m.keep(d) {
			mountedOrKept[n] = true
			continue
		}
		m.add(Action{Kind: Mount, Digest: d, Stale: stale, Live: stale || isMount(dir),
			Paths: []string{dir, filepath.Join(cacheDir, n)}})
		mountedOrKept[n] = true
	}
	names, err = readDir(cacheDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		if d.Validate() != nil || mountedOrKept[n] || m.keep(d) || m.held(filepath.Join(cacheDir, n)) {
			continue
		}
		m.add(Action{Kind: Cache, Digest: d, Paths: []string{filepath.Join(cacheDir, n)}})
	}
	return nil
}

// extracted plans unpacked layers nobody wants.
func (m *planner) extracted() error {
	exDir := filepath.Join(m.o.Root, "extracted")
	names, err := readDir(exDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		path := filepath.Join(exDir, n)
		if d.Validate() != nil || m.keep(d) || m.held(path) {
			continue
		}
		m.add(Action{Kind: Extracted, Digest: d, Paths: []string{path}})
	}
	return nil
}

// tmp plans everything in tmp/ that no running operation holds.
func (m *planner) tmp() error {
	tmpDir := filepath.Join(m.o.Root, "tmp")
	names, err := readDir(tmpDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		path := filepath.Join(tmpDir, n)
		if m.held(path) {
			continue
		}
		m.add(Action{Kind: Tmp, Paths: []string{path}})
	}
	return nil
}

// buildCache plans layers/, the build cache, when asked to.
func (m *planner) buildCache() error {
	if !m.o.BuildCache {
		return nil
	}
	layersDir := filepath.Join(m.o.Root, "layers")
	names, err := readDir(layersDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasSuffix(n, lockSuffix) {
			continue
		}
		path := filepath.Join(layersDir, n)
		if (m.o.HeldLayer != nil && m.o.HeldLayer(n)) || layerLocked(layersDir, n) || m.held(path) {
			continue
		}
		paths := []string{path}
		if _, err := os.Lstat(path + lockSuffix); err == nil {
			paths = append(paths, path+lockSuffix)
		}
		m.add(Action{Kind: BuildCache, Key: n, Paths: paths})
	}
	return nil
}

// cacheMounts plans cache-mounts/, the directories RUN --mount=type=cache keeps across
// builds, with the build cache; one a running RUN holds (its .lock) stays.
func (m *planner) cacheMounts() error {
	if !m.o.BuildCache {
		return nil
	}
	dir := filepath.Join(m.o.Root, cacheMountsDir)
	names, err := readDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasSuffix(n, lockSuffix) {
			continue
		}
		path := filepath.Join(dir, n)
		if layerLocked(dir, n) || m.held(path) {
			continue
		}
		paths := []string{path}
		if _, err := os.Lstat(path + lockSuffix); err == nil {
			paths = append(paths, path+lockSuffix)
		}
		m.add(Action{Kind: CacheMount, Key: n, Paths: paths})
	}
	return nil
}

// count fills the bytes each action, the plan and its build cache part free, counting an
// inode only when all its links are removed.
func (p *Plan) count() {
	all, bc := newCounter(), newCounter()
	for i := range p.Actions {
		a := &p.Actions[i]
		own := newCounter()
		for _, path := range a.Paths {
			if a.Kind == Mount && path == a.Paths[0] {
				continue // a FUSE mount: its contents are the blob's, not disk
			}
			own.walk(path)
			all.walk(path)
			if a.Kind == BuildCache || a.Kind == CacheMount {
				bc.walk(path)
			}
		}
		a.Bytes = own.freed()
	}
	p.Bytes, p.BuildCacheBytes = all.freed(), bc.freed()
}

// Apply carries out the plan: each action independently (a failure is logged and the rest
// go on), so one busy directory does not keep the rest. It returns what was removed.
func (p *Plan) Apply(log *slog.Logger) Report {
	var r Report
	removed := newCounter()
	bc := newCounter()
	for _, a := range p.Actions {
		if a.Kind == Mount {
			if err := detach(a.Paths[0]); err != nil {
				log.Warn("prune: detach lazy mount", "dir", a.Paths[0], "err", err)
				continue
			}
		}
		// Count before removing: afterwards nothing is left to stat.
		pre, preBC := newCounter(), newCounter()
		for i, path := range a.Paths {
			if a.Kind == Mount && i == 0 {
				continue
			}
			pre.walk(path)
			if a.Kind == BuildCache || a.Kind == CacheMount {
				preBC.walk(path)
			}
		}
		ok := true
		for _, path := range a.Paths {
			if err := os.RemoveAll(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("prune: remove", "path", path, "err", err)
				ok = false
			}
		}
		if !ok {
			continue
		}
		removed.merge(pre)
		bc.merge(preBC)
		switch a.Kind {
		case Blob:
			r.BlobsRemoved++
		case Mount:
			if a.Live {
				r.FuseMountsKilled++
			}
		case Extracted:
			r.ExtractedRemoved++
		case Tmp:
			r.TmpRemoved++
		case BuildCache, CacheMount:
			r.BuildCacheRemoved++
		}
		log.Debug("pruned", "kind", a.Kind, "path", a.Paths[0])
	}
	r.BytesFreed, r.BuildCacheBytesFreed = removed.freed(), bc.freed()
	return r
}

// Summary lists the plan's actions, one line each, for logs and tests.
func (p *Plan) Summary() []string {
	var out []string
	for _, a := range p.Actions {
		s := string(a.Kind) + " " + a.Paths[0]
		if a.Stale {
			s += " (stale)"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func readDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

// changedSince reports whether path or anything under it changed at or after t (less one
// second: some filesystems keep coarse times).
func changedSince(path string, t time.Time) bool {
	t = t.Add(-time.Second)
	found := errors.New("found")
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && !info.ModTime().Before(t) {
			return found
		}
		return nil
	})
	return err == found
}
