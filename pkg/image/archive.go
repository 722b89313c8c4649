package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerManifest is one item of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Save writes the images refs name as one tar that is both an OCI image layout
// (oci-layout, index.json, blobs/sha256) and a docker archive (manifest.json over the same
// blobs), so docker load, podman load and skopeo's oci-archive: and docker-archive: read it.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string) error {
	type item struct {
		img   *Image
		names []string
	}
	defer s.Begin()()
	var items []*item
	byManifest := map[digest.Digest]*item{}
	for _, ref := range refs {
		img, err := s.Resolve(ref)
		if err != nil {
			return err
		}
		it := byManifest[img.ManifestDigest]
		if it == nil {
			it = &item{img: img}
			byManifest[img.ManifestDigest] = it
			items = append(items, it)
		}
		// Saving by ID keeps the image's own name, as docker does for a single name.
		name := img.Name
		if r, err := oci.ParseNormalized(ref); err == nil && r.Digest == "" && r.String() == img.Name {
			name = r.String()
		}
		if name != "" && !contains(it.names, name) {
			it.names = append(it.names, name)
		}
	}
	tw := tar.NewWriter(w)
	mtime := time.Unix(0, 0)
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: mtime, Typeflag: tar.TypeDir, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	written := map[digest.Digest]bool{}
	blob := func(d digest.Digest) error {
		if written[d] {
			return nil
		}
		written[d] = true
		f, err := s.content.Open(d)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + d.Encoded(), Mode: 0o644, Size: fi.Size(), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, ctxReader{ctx, f}); err != nil {
			return fmt.Errorf("save blob %s: %w", d.Encoded()[:12], err)
		}
		return nil
	}
	var index ocispec.Index
	index.SchemaVersion, index.MediaType = 2, ocispec.MediaTypeImageIndex
	var manifests []dockerManifest
	for _, it := range items {
		img := it.img
		dm := dockerManifest{Config: "blobs/sha256/" + img.ID.Encoded(), RepoTags: []string{}}
		for _, l := range img.Layers {
			if err := blob(l.Digest); err != nil {
				return err
			}
			dm.Layers = append(dm.Layers, "blobs/sha256/"+l.Digest.Encoded())
		}
		if err := blob(img.ID); err != nil {
			return err
		}
		if err := blob(img.ManifestDigest); err != nil {
			return err
		}
		md := img.ManifestDescriptor()
		if len(it.names) == 0 {
			index.Manifests = append(index.Manifests, md)
		}
		for _, n := range it.names {
			r, _ := oci.ParseNormalized(n)
			e := md
			// Docker's own save: the full name for containerd, the tag for OCI tools.
			e.Annotations = map[string]string{oci.AnnotationImageName: n}
			if r.Tag != "" && r.Digest == "" {
				e.Annotations[oci.AnnotationRefName] = r.Tag
				// docker load takes only name:tag in RepoTags, never a digest.
				dm.RepoTags = append(dm.RepoTags, r.Familiar())
			}
			index.Manifests = append(index.Manifests, e)
		}
		manifests = append(manifests, dm)
	}
	ib, _ := json.Marshal(index)
	mb, _ := json.Marshal(manifests)
	lb, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	for _, f := range []struct {
		name string
		b    []byte
	}{{ocispec.ImageLayoutFile, lb}, {ocispec.ImageIndexFile, ib}, {"manifest.json", mb}} {
		if err := put(f.name, f.b); err != nil {
			return err
		}
	}
	return tw.Close()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// smallFile is the most an archive member may hold to be kept in memory (JSON files);
// bigger members go straight to the blob store.
const smallFile = 4 << 20

// Load reads an archive (plain or compressed): minibox's own, `docker save` (old and
// OCI-style), `podman save`, OCI archives (`skopeo copy ... oci-archive:`), and the
// original minibox's meta.json archives. Every blob is verified by digest; index entries
// are written only once the blobs they name are stored. It returns the images loaded.
func (s *Store) Load(ctx context.Context, r io.Reader) ([]*Image, error) {
	defer s.Begin()()
	zr, closeFn, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	lim := &loadLimit{r: zr, limit: s.MaxLoadSize}
	imgs, err := s.loadArchive(ctx, lim)
	if err != nil && lim.tripped {
		return nil, fmt.Errorf("the archive holds more than %d bytes once decompressed: %w", s.MaxLoadSize, errdefs.ErrTooLarge)
	}
	return imgs, err
}

// loadLimit fails a read once more than limit bytes came through (limit 0: none).
type loadLimit struct {
	r           io.Reader
	limit, read int64
	tripped     bool
}

func (l *loadLimit) Read(p []byte) (int, error) {
	if l.tripped {
		return 0, errdefs.ErrTooLarge
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.limit > 0 && l.read > l.limit {
		l.tripped = true
		return 0, errdefs.ErrTooLarge
	}
	return n, err
}

func (s *Store) loadArchive(ctx context.Context, zr io.Reader) ([]*Image, error) {
	a := &archive{s: s, ctx: ctx, files: map[string][]byte{}, blobs: map[string]digest.Digest{}, links: map[string]string{}, fresh: map[digest.Digest]bool{}}
	tr := tar.NewReader(zr)
	for n := 1; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %v: %w", err, errdefs.ErrInvalid)
		}
		if n > s.maxEntries() {
			return nil, fmt.Errorf("archive has more than %d entries: %w", s.maxEntries(), errdefs.ErrInvalid)
		}
		if err := a.member(hdr, tr); err != nil {
			return nil, err
		}
	}
	imgs, err := a.images()
	if err != nil {
		return nil, err
	}
	return imgs, nil
}

type archive struct {
	s     *Store
	ctx   context.Context
	files map[string][]byte        // small members, by cleaned path
	blobs map[string]digest.Digest // members stored in the blob store, by cleaned path
	links map[string]string        // symlinks and hard links: path -> target path
	fresh map[digest.Digest]bool   // blobs this load added
}

func (a *archive) member(hdr *tar.Header, r io.Reader) error {
	name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		a.links[name] = path.Join(path.Dir(name), hdr.Linkname)
		return nil
	case tar.TypeLink:
		a.links[name] = path.Clean(hdr.Linkname)
		return nil
	case tar.TypeReg:
	default:
		return nil
	}
	if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if d.Validate() != nil {
			return nil
		}
		if !a.s.content.Exists(d) {
			if _, err := a.s.content.IngestDescriptor(a.ctx, r, ocispec.Descriptor{Digest: d, Size: hdr.Size}); err != nil {
				return fmt.Errorf("archive member %s: %w", name, err)
			}
			a.fresh[d] = true
		}
		a.blobs[name] = d
		return nil
	}
	if hdr.Size <= smallFile {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		a.files[name] = b
		return nil
	}
	desc, err := a.s.content.IngestDescriptor(a.ctx, r, ocispec.Descriptor{Size: hdr.Size})
	if err != nil {
		return fmt.Errorf("archive member %s: %w", name, err)
	}
	a.fresh[desc.Digest] = true
	a.blobs[name] = desc.Digest
	return nil
}

// blob stores (if needed) the member at p and returns its descriptor.
func (a *archive) blob(p string) (ocispec.Descriptor, error) {
	p = path.Clean(strings.TrimPrefix(p, "./"))
	for i := 0; i < 8; i++ {
		t, ok := a.links[p]
		if !ok {
			break
		}
		p = t
	}
	if d, ok := a.blobs[p]; ok {
		size, err := a.s.content.Info(d)
		return ocispec.Descriptor{Digest: d, Size: size}, err
	}
	if b, ok := a.files[p]; ok {
		d, err := a.s.putBytes(a.ctx, b)
		if err == nil && !a.fresh[d.Digest] {
			a.fresh[d.Digest] = true
		}
		return d, err
	}
	return ocispec.Descriptor{}, fmt.Errorf("archive lacks %s: %w", p, errdefs.ErrInvalid)
}

func (a *archive) images() ([]*Image, error) {
	var idx *ocispec.Index
	if b, ok := a.files[ocispec.ImageIndexFile]; ok {
		idx = &ocispec.Index{}
		if err := json.Unmarshal(b, idx); err != nil {
			return nil, fmt.Errorf("archive index.json: %v: %w", err, errdefs.ErrInvalid)
		}
	}
	var dms []dockerManifest
	if b, ok := a.files["manifest.json"]; ok {
		if err := json.Unmarshal(b, &dms); err != nil {
			return nil, fmt.Errorf("archive manifest.json: %v: %w", err, errdefs.ErrInvalid)
		}
	}
	named := func() bool {
		for _, d := range idx.Manifests {
			if d.Annotations[oci.AnnotationImageName] != "" {
				return true
			}
		}
		return false
	}
	switch {
	case idx != nil && (len(dms) == 0 || named()):
		return a.fromIndex(idx)
	case len(dms) > 0:
		return a.fromDocker(dms)
	}
	if b, ok := a.files["meta.json"]; ok {
		return a.fromMeta(b)
	}
	return nil, fmt.Errorf("archive has neither index.json, manifest.json nor meta.json: %w", errdefs.ErrInvalid)
}

func (a *archive) fromIndex(idx *ocispec.Index) ([]*Image, error) {
	var out []*Image
	for _, e := range idx.Manifests {
		md, err := a.s.platformManifest(e, oci.HostPlatform())
		if err != nil {
			return nil, err
		}
		name := e.Annotations[oci.AnnotationImageName]
		if name == "" {
			name = e.Annotations[oci.AnnotationRefName]
		}
		if name != "" {
			if n, err := oci.Normalize(name); err == nil {
				name = n
			} else {
				name = ""
			}
		}
		var repo digest.Digest
		if md.Digest != e.Digest {
			repo = e.Digest
		}
		img, err := a.finish(name, md, repo)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

func (a *archive) fromDocker(dms []dockerManifest) ([]*Image, error) {
	var out []*Image
	for _, dm := range dms {
		cd, err := a.blob(dm.Config)
		if err != nil {
			return nil, err
		}
		cd.MediaType = ocispec.MediaTypeImageConfig
		var layers []ocispec.Descriptor
		for _, lp := range dm.Layers {
			ld, err := a.blob(lp)
			if err != nil {
				return nil, err
			}
			ld.MediaType, err = a.s.sniffLayerType(ld.Digest)
			if err != nil {
				return nil, err
			}
			layers = append(layers, ld)
		}
		m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: layers}
		mb, _ := json.Marshal(m)
		md, err := a.s.putBytes(a.ctx, mb)
		if err != nil {
			return nil, err
		}
		md.MediaType = ocispec.MediaTypeImageManifest
		names := dm.RepoTags
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			if n != "" {
				if n, err = oci.Normalize(n); err != nil {
					return nil, err
				}
			}
			img, err := a.finish(n, md, "")
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		}
	}
	return out, nil
}

// fromMeta reads the original minibox's archives: meta.json naming the image and its
// manifest digest, beside blobs/sha256.
func (a *archive) fromMeta(b []byte) ([]*Image, error) {
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("archive meta.json: %v: %w", err, errdefs.ErrInvalid)
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := meta[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	name := str("name", "image", "ref", "reference", "tag")
	md := str("manifest_digest", "manifest", "digest")
	if md == "" {
		return nil, fmt.Errorf("archive meta.json names no manifest digest: %w", errdefs.ErrInvalid)
	}
	d := digest.Digest(md)
	if !strings.Contains(md, ":") {
		d = digest.NewDigestFromEncoded(digest.SHA256, md)
	}
	size, err := a.s.content.Info(d)
	if err != nil {
		return nil, fmt.Errorf("archive meta.json: manifest %s: %w", d, err)
	}
	if name != "" {
		if name, err = oci.Normalize(name); err != nil {
			return nil, err
		}
	}
	img, err := a.finish(name, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: size}, "")
	if err != nil {
		return nil, err
	}
	return []*Image{img}, nil
}

// finish checks every blob md names is stored, names it, and announces new layers.
func (a *archive) finish(name string, md ocispec.Descriptor, repo digest.Digest) (*Image, error) {
	b, err := a.s.content.ReadAll(md.Digest)
	if err != nil {
		return nil, fmt.Errorf("archive lacks manifest %s: %w", md.Digest, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %v: %w", md.Digest, err, errdefs.ErrInvalid)
	}
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if !a.s.content.Exists(d.Digest) {
			return nil, fmt.Errorf("archive lacks blob %s: %w", d.Digest, errdefs.ErrInvalid)
		}
	}
	if md.MediaType == "" {
		md.MediaType = m.MediaType
	}
	if err := a.s.setName(name, md, repo); err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if a.fresh[l.Digest] {
			delete(a.fresh, l.Digest)
			a.s.LayerLanded(l)
		}
	}
	if name == "" {
		return a.s.Resolve(md.Digest.String())
	}
	return a.s.Resolve(name)
}

// platformManifest follows an index (or manifest list) to the manifest for want.
func (s *Store) platformManifest(d ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, error) {
	for depth := 0; depth < 4; depth++ {
		b, err := s.content.ReadAll(d.Digest)
		if err != nil {
			return d, err
		}
		var probe struct {
			MediaType string               `json:"mediaType"`
			Manifests []ocispec.Descriptor `json:"manifests"`
			Config    *ocispec.Descriptor  `json:"config"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return d, fmt.Errorf("blob %s: %v: %w", d.Digest, err, errdefs.ErrInvalid)
		}
		if probe.Config != nil {
			if d.MediaType == "" || oci.IsIndex(d.MediaType) {
				d.MediaType = probe.MediaType
			}
			return d, nil
		}
		next, err := MatchManifest(probe.Manifests, want)
		if err != nil {
			return d, err
		}
		d = next
	}
	return d, fmt.Errorf("index %s nests too deep: %w", d.Digest, errdefs.ErrInvalid)
}

// MatchManifest picks the entry of an index for platform want.
func MatchManifest(ms []ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, error) {
	var avail []string
	for _, m := range ms {
		if oci.MatchPlatform(want, m.Platform) {
			return m, nil
		}
		if m.Platform != nil {
			avail = append(avail, m.Platform.OS+"/"+m.Platform.Architecture)
		}
	}
	// An index with exactly one entry and no platform (skopeo's oci-archive) serves any.
	if len(ms) == 1 && ms[0].Platform == nil {
		return ms[0], nil
	}
	sort.Strings(avail)
	return ocispec.Descriptor{}, fmt.Errorf("no image for platform %s/%s (available: %s): %w",
		want.OS, want.Architecture, strings.Join(avail, ", "), errdefs.ErrNotFound)
}

// sniffLayerType names a layer blob's media type from its magic bytes.
func (s *Store) sniffLayerType(d digest.Digest) (string, error) {
	f, err := s.content.Open(d)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	switch detect(magic[:n]) {
	case oci.Gzip:
		return ocispec.MediaTypeImageLayerGzip, nil
	case oci.Zstd:
		return oci.LayerZstd, nil
	}
	return ocispec.MediaTypeImageLayer, nil
}
