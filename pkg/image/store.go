package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/content"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/singleflight"
)

// DefaultMaxLayerEntries bounds the entries of one layer (or archive): a tar bomb of many
// tiny entries exhausts inodes long before bytes.
const DefaultMaxLayerEntries = 2_000_000

// Store is the image side of a data root.
type Store struct {
	root    string
	log     *slog.Logger
	content *content.Store

	// OnLayer, if set, is called after each new layer blob lands (pull, load, import),
	// so the lazy-layer code can index it.
	OnLayer func(ocispec.Descriptor)
	// MaxLayerEntries refuses layers with more entries (0: DefaultMaxLayerEntries).
	MaxLayerEntries int
	// MaxLoadSize bounds the bytes Load reads after decompression (0: no bound), so a
	// small compressed archive cannot fill the disk.
	MaxLoadSize int64

	mu     sync.Mutex // serialises index.json read-modify-write
	unpack singleflight.Group

	opMu    sync.Mutex
	ops     map[int]time.Time // running pull/load/import/save/commit operations
	opSeq   int
	staging map[string]bool // extract staging dirs in tmp/
}

// Begin marks an operation (pull, load, import, save, build) as running until done is
// called: prune keeps whatever changed since the oldest running one began.
func (s *Store) Begin() (done func()) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.opSeq++
	id := s.opSeq
	s.ops[id] = time.Now()
	return func() {
		s.opMu.Lock()
		defer s.opMu.Unlock()
		delete(s.ops, id)
	}
}

// ActiveSince is when the oldest running operation began; zero when none runs
// (prune.Options.Since).
func (s *Store) ActiveSince() time.Time {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	var t time.Time
	for _, st := range s.ops {
		if t.IsZero() || st.Before(t) {
			t = st
		}
	}
	return t
}

// Busy reports whether path is staging work in progress (a blob being written or a
// layer being unpacked): prune.Options.Busy.
func (s *Store) Busy(path string) bool {
	if s.content.Busy(path) {
		return true
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	return s.staging[path]
}

// Image is one named (or, after a load of an untagged image, unnamed) image.
type Image struct {
	Name           string // normalised reference; "" for an unnamed image
	ID             digest.Digest
	ManifestDigest digest.Digest
	Manifest       ocispec.Manifest
	Config         ocispec.Image
	Layers         []ocispec.Descriptor
	Size           int64 // manifest, config and compressed layers
	// RepoDigest is the digest the registry knows this image by (an index's when the
	// image was pulled through one), "" when it never came from a registry.
	RepoDigest digest.Digest
	// Built is when a build made this image (nil otherwise). It lives in index.json, not
	// in the config, so a build's digest stays reproducible while `images` shows its age.
	Built *time.Time

	manifestSize int64
}

// ManifestDescriptor is the index entry's view of the image's manifest.
func (img *Image) ManifestDescriptor() ocispec.Descriptor {
	mt := img.Manifest.MediaType
	if mt == "" {
		mt = ocispec.MediaTypeImageManifest
	}
	return ocispec.Descriptor{MediaType: mt, Digest: img.ManifestDigest, Size: img.manifestSize}
}

// Annotation keeping the digest the image was pulled by (an index's when multi-platform).
const annotationRepoDigest = "io.minibox.image.repo-digest"

// Annotation keeping when a build made the image (RFC 3339).
const annotationBuilt = "io.minibox.image.built"

// Open opens (creating if needed) the image store in data root root.
func Open(root string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := content.Open(root)
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "extracted"), 0o755); err != nil {
		return nil, err
	}
	s := &Store{root: root, log: log, content: c, ops: map[int]time.Time{}, staging: map[string]bool{}}
	// Nothing is written here: a missing index.json reads as empty, and oci-layout is
	// written with the first index entry. An empty data root costs the daemon's start no
	// fsync (time to first /ping).
	return s, nil
}

// ensureLayoutFile writes oci-layout before the first index entry, so the data root is an
// OCI layout whenever it holds an image.
func (s *Store) ensureLayoutFile() error {
	layout := filepath.Join(s.root, ocispec.ImageLayoutFile)
	if _, err := os.Stat(layout); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	return atomicfile.WriteFile(layout, b, 0o644)
}

// Root is the data root.
func (s *Store) Root() string { return s.root }

// Content is the blob store the builder and the registry code write through.
func (s *Store) Content() *content.Store { return s.content }

func (s *Store) indexPath() string { return filepath.Join(s.root, ocispec.ImageIndexFile) }

// readIndex reads index.json; a missing one is empty.
func (s *Store) readIndex() (*ocispec.Index, error) {
	b, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json is corrupt: %v", err)
	}
	return &idx, nil
}

func (s *Store) writeIndex(idx *ocispec.Index) error {
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := s.ensureLayoutFile(); err != nil {
		return err
	}
	return atomicfile.WriteFile(s.indexPath(), b, 0o644)
}

// update runs fn on index.json under the lock and writes it back if fn returns nil.
func (s *Store) update(fn func(idx *ocispec.Index) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := fn(idx); err != nil {
		return err
	}
	return s.writeIndex(idx)
}

func entryName(d ocispec.Descriptor) string {
	if n := d.Annotations[oci.AnnotationImageName]; n != "" {
		return n
	}
	return d.Annotations[oci.AnnotationRefName]
}

// SetName points name (normalised here) at manifest, adding or replacing its entry. The
// manifest blob must already be stored: an entry never names a missing blob.
func (s *Store) SetName(name string, manifest ocispec.Descriptor) error {
	return s.setName(name, manifest, "")
}

// SetNames points every name at manifest in one write of the index: all of them or, on
// error, none (a build's tags). No names is an unnamed entry, as SetName("").
func (s *Store) SetNames(names []string, manifest ocispec.Descriptor) error {
	return s.setNames(names, manifest, "", nil)
}

// SetBuiltNames is SetNames for an image a build made at built, which the entries keep.
func (s *Store) SetBuiltNames(names []string, manifest ocispec.Descriptor, built time.Time) error {
	return s.setNames(names, manifest, "", &built)
}

func (s *Store) setName(name string, manifest ocispec.Descriptor, repoDigest digest.Digest) error {
	return s.setNames([]string{name}, manifest, repoDigest, nil)
}

func (s *Store) setNames(names []string, manifest ocispec.Descriptor, repoDigest digest.Digest, built *time.Time) error {
	if len(names) == 0 {
		names = []string{""}
	}
	set := map[string]bool{}
	var norm []string
	for _, name := range names {
		if name == "" && len(names) > 1 {
			continue // named entries replace the unnamed one
		}
		if name != "" {
			n, err := oci.Normalize(name)
			if err != nil {
				return err
			}
			name = n
		}
		if !set[name] {
			set[name] = true
			norm = append(norm, name)
		}
	}
	if !s.content.Exists(manifest.Digest) {
		return fmt.Errorf("manifest %s: %w", manifest.Digest, errdefs.ErrNotFound)
	}
	if manifest.MediaType == "" {
		manifest.MediaType = ocispec.MediaTypeImageManifest
	}
	var entries []ocispec.Descriptor
	named := false
	for _, name := range norm {
		entry := ocispec.Descriptor{MediaType: manifest.MediaType, Digest: manifest.Digest, Size: manifest.Size, Platform: manifest.Platform}
		entry.Annotations = map[string]string{}
		if name != "" {
			named = true
			entry.Annotations[oci.AnnotationRefName] = name
			entry.Annotations[oci.AnnotationImageName] = name
		}
		if repoDigest != "" {
			entry.Annotations[annotationRepoDigest] = repoDigest.String()
		}
		if built != nil {
			entry.Annotations[annotationBuilt] = built.UTC().Format(time.RFC3339Nano)
		}
		entries = append(entries, entry)
	}
	return s.update(func(idx *ocispec.Index) error {
		out := idx.Manifests[:0]
		for _, d := range idx.Manifests {
			n := entryName(d)
			if (n != "" && set[n]) || (set[""] && n == "" && d.Digest == manifest.Digest) {
				continue
			}
			out = append(out, d)
		}
		// A named entry replaces an unnamed one for the same manifest (a load, then a tag).
		if named {
			keep := out[:0]
			for _, d := range out {
				if entryName(d) == "" && d.Digest == manifest.Digest {
					continue
				}
				keep = append(keep, d)
			}
			out = keep
		}
		idx.Manifests = append(out, entries...)
		return nil
	})
}

// entries returns index.json's entries.
func (s *Store) entries() ([]ocispec.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return idx.Manifests, nil
}

// Resolve finds an image by reference (normalised: "alpine" finds
// docker.io/library/alpine:latest), by name@sha256:<manifest digest>, by sha256:<digest>
// (ID or manifest digest) or by a unique prefix of the ID. Not found: ErrNotFound;
// an ambiguous prefix: ErrConflict.
func (s *Store) Resolve(ref string) (*Image, error) {
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	if r, perr := oci.ParseNormalized(ref); perr == nil {
		for _, d := range ents {
			n := entryName(d)
			if r.Digest == "" && n == r.String() {
				return s.load(d)
			}
			if r.Digest != "" && (d.Digest == r.Digest || d.Annotations[annotationRepoDigest] == r.Digest.String()) {
				if nr, err := oci.ParseNormalized(n); err == nil && nr.Name() == r.Name() {
					return s.load(d)
				}
			}
		}
		if r.Digest != "" {
			// name@digest of a manifest stored under another name (or none) still resolves.
			for _, d := range ents {
				if d.Digest == r.Digest || d.Annotations[annotationRepoDigest] == r.Digest.String() {
					img, err := s.load(d)
					if err != nil {
						return nil, err
					}
					return img, nil
				}
			}
		}
	}
	// An ID, a manifest digest, or a unique ID prefix.
	hex := strings.TrimPrefix(ref, "sha256:")
	if hex != "" && len(hex) <= 64 && strings.Trim(hex, "0123456789abcdef") == "" {
		var found *Image
		for _, d := range ents {
			if len(hex) == 64 && (d.Digest.Encoded() == hex || d.Annotations[annotationRepoDigest] == "sha256:"+hex) {
				return s.load(d)
			}
			img, err := s.load(d)
			if err != nil {
				continue
			}
			if strings.HasPrefix(img.ID.Encoded(), hex) {
				if found != nil && found.ID != img.ID {
					return nil, fmt.Errorf("image ID prefix %q is ambiguous: %w", ref, errdefs.ErrConflict)
				}
				if found == nil {
					found = img
				}
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("image %s: %w", ref, errdefs.ErrNotFound)
}

// load reads the manifest and config an index entry points at.
func (s *Store) load(d ocispec.Descriptor) (*Image, error) {
	img := &Image{Name: entryName(d), ManifestDigest: d.Digest, Size: d.Size, manifestSize: d.Size}
	if rd := d.Annotations[annotationRepoDigest]; rd != "" {
		img.RepoDigest = digest.Digest(rd)
	}
	if t, err := time.Parse(time.RFC3339Nano, d.Annotations[annotationBuilt]); err == nil {
		img.Built = &t
	}
	b, err := s.content.ReadAll(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", img.Name, err)
	}
	if err := json.Unmarshal(b, &img.Manifest); err != nil {
		return nil, fmt.Errorf("image %s: manifest %s: %v", img.Name, d.Digest, err)
	}
	img.ID = img.Manifest.Config.Digest
	cb, err := s.content.ReadAll(img.ID)
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", img.Name, err)
	}
	if err := json.Unmarshal(cb, &img.Config); err != nil {
		return nil, fmt.Errorf("image %s: config %s: %v", img.Name, img.ID, err)
	}
	img.Layers = img.Manifest.Layers
	img.Size += img.Manifest.Config.Size
	for _, l := range img.Layers {
		img.Size += l.Size
	}
	return img, nil
}

// List returns every image entry, sorted by name (unnamed last, by ID).
func (s *Store) List() ([]*Image, error) {
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, d := range ents {
		img, err := s.load(d)
		if err != nil {
			s.log.Warn("skipping broken image entry", "name", entryName(d), "err", err)
			continue
		}
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Name == "") != (b.Name == "") {
			return b.Name == ""
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return out, nil
}

// Tag gives the image src resolves to the name dst (replacing what dst named).
func (s *Store) Tag(src, dst string) (*Image, error) {
	img, err := s.Resolve(src)
	if err != nil {
		return nil, err
	}
	n, err := oci.ParseNormalized(dst)
	if err != nil {
		return nil, err
	}
	if n.Digest != "" {
		return nil, fmt.Errorf("tag %s: a target cannot carry a digest: %w", dst, errdefs.ErrInvalid)
	}
	if err := s.setNames([]string{n.String()}, img.ManifestDescriptor(), img.RepoDigest, img.Built); err != nil {
		return nil, err
	}
	return s.Resolve(n.String())
}

// Remove deletes the entry ref resolves to (a name, or an unnamed image's ID) and returns
// the names removed. Blobs stay until prune. An ID that several names share removes all
// of them only with all set (rmi -f); else it is a conflict.
func (s *Store) Remove(ref string, all bool) ([]string, error) {
	img, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	byName := false
	if r, err := oci.ParseNormalized(ref); err == nil && r.Digest == "" && r.String() == img.Name {
		byName = true
	}
	var removed []string
	err = s.update(func(idx *ocispec.Index) error {
		var out []ocispec.Descriptor
		var names []string
		for _, d := range idx.Manifests {
			n := entryName(d)
			if byName {
				if n == img.Name {
					names = append(names, n)
					continue
				}
			} else if e, err := s.load(d); err == nil && e.ID == img.ID {
				names = append(names, n)
				continue
			}
			out = append(out, d)
		}
		if !byName && len(names) > 1 && !all {
			return fmt.Errorf("image %s is referenced by %d names (%s); remove them by name or force: %w",
				ref, len(names), strings.Join(names, ", "), errdefs.ErrConflict)
		}
		idx.Manifests = out
		removed = names
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, n := range removed {
		if n == "" {
			removed[i] = img.ID.String()
		}
	}
	return removed, nil
}

// ReferencedBlobs is every blob reachable from index.json: manifests, indexes, configs and
// layers. Prune deletes what is neither here nor used by a container.
func (s *Store) ReferencedBlobs() (map[digest.Digest]bool, error) {
	ents, err := s.entries()
	if err != nil {
		return nil, err
	}
	refs := map[digest.Digest]bool{}
	var walk func(d ocispec.Descriptor, depth int) error
	walk = func(d ocispec.Descriptor, depth int) error {
		if refs[d.Digest] || depth > 8 {
			return nil
		}
		refs[d.Digest] = true
		if !oci.IsManifest(d.MediaType) && !oci.IsIndex(d.MediaType) {
			return nil
		}
		b, err := s.content.ReadAll(d.Digest)
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var m struct {
			Config    *ocispec.Descriptor  `json:"config"`
			Layers    []ocispec.Descriptor `json:"layers"`
			Manifests []ocispec.Descriptor `json:"manifests"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("blob %s: %v", d.Digest, err)
		}
		if m.Config != nil {
			refs[m.Config.Digest] = true
		}
		for _, l := range m.Layers {
			refs[l.Digest] = true
		}
		for _, c := range m.Manifests {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range ents {
		if err := walk(d, 0); err != nil {
			return nil, err
		}
		if rd := d.Annotations[annotationRepoDigest]; rd != "" {
			if dg := digest.Digest(rd); dg.Validate() == nil && s.content.Exists(dg) {
				refs[dg] = true
			}
		}
	}
	return refs, nil
}

// Commit writes cfg and a manifest over layers (already stored) as blobs and names the
// result name. cfg.RootFS.DiffIDs must list the layers' uncompressed digests.
func (s *Store) Commit(ctx context.Context, name string, cfg ocispec.Image, layers []ocispec.Descriptor) (*Image, error) {
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("commit %s: %d diff_ids for %d layers: %w", name, len(cfg.RootFS.DiffIDs), len(layers), errdefs.ErrInvalid)
	}
	for _, l := range layers {
		if !s.content.Exists(l.Digest) {
			return nil, fmt.Errorf("commit %s: layer %s: %w", name, l.Digest, errdefs.ErrNotFound)
		}
	}
	if cfg.RootFS.Type == "" {
		cfg.RootFS.Type = "layers"
	}
	if cfg.OS == "" {
		p := oci.HostPlatform()
		cfg.OS, cfg.Architecture = p.OS, p.Architecture
	}
	if cfg.Created == nil {
		now := time.Now().UTC()
		cfg.Created = &now
	}
	md, err := s.writeManifest(ctx, cfg, layers)
	if err != nil {
		return nil, err
	}
	if err := s.SetName(name, md); err != nil {
		return nil, err
	}
	if name == "" {
		return s.Resolve(md.Digest.String())
	}
	return s.Resolve(name)
}

// writeManifest stores cfg and an OCI manifest over layers and returns the manifest's
// descriptor.
func (s *Store) writeManifest(ctx context.Context, cfg ocispec.Image, layers []ocispec.Descriptor) (ocispec.Descriptor, error) {
	cb, err := json.Marshal(cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cd, err := s.putBytes(ctx, cb)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("store config: %w", err)
	}
	cd.MediaType = ocispec.MediaTypeImageConfig
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: layers}
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	md, err := s.putBytes(ctx, mb)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("store manifest: %w", err)
	}
	md.MediaType = ocispec.MediaTypeImageManifest
	return md, nil
}

func (s *Store) putBytes(ctx context.Context, b []byte) (ocispec.Descriptor, error) {
	return s.content.IngestDescriptor(ctx, strings.NewReader(string(b)), ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))})
}

// PutManifest stores a manifest (or index) blob given as bytes and names it; pull and
// load use it once every blob it points at is stored. repoDigest, if set, is the digest
// the image is known by upstream (its index's for a multi-platform image).
func (s *Store) PutManifest(ctx context.Context, name string, mediaType string, b []byte, repoDigest digest.Digest) (ocispec.Descriptor, error) {
	d, err := s.putBytes(ctx, b)
	if err != nil {
		return d, err
	}
	d.MediaType = mediaType
	return d, s.setName(name, d, repoDigest)
}

// PutBlob stores small bytes (an index that names the manifest) without naming anything.
func (s *Store) PutBlob(ctx context.Context, b []byte) (ocispec.Descriptor, error) {
	return s.putBytes(ctx, b)
}

// LayerLanded runs the OnLayer hook for a layer that was just stored.
func (s *Store) LayerLanded(d ocispec.Descriptor) {
	if s.OnLayer != nil {
		s.OnLayer(d)
	}
}
