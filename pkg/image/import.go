package image

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Import turns a rootfs tarball (plain, gzip or zstd) into a one-layer image named name.
// A compressed tarball is stored as is; a plain one is gzipped. The tar is read through
// once, to compute the layer's diff_id and to check it is a tar at all.
func (s *Store) Import(ctx context.Context, r io.Reader, name string) (*Image, error) {
	if _, err := oci.ParseNormalized(name); err != nil {
		return nil, err
	}
	defer s.Begin()()
	layer, diffID, err := s.ingestLayerTar(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	now := time.Now().UTC()
	p := oci.HostPlatform()
	cfg := ocispec.Image{
		Created:  &now,
		Platform: p,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History:  []ocispec.History{{Created: &now, CreatedBy: "minibox import", Comment: "imported from tarball"}},
	}
	img, err := s.Commit(ctx, name, cfg, []ocispec.Descriptor{layer})
	if err != nil {
		return nil, err
	}
	s.LayerLanded(layer)
	return img, nil
}

// ingestLayerTar stores a layer tar as a blob and returns its descriptor and diff_id.
func (s *Store) ingestLayerTar(ctx context.Context, r io.Reader) (ocispec.Descriptor, digest.Digest, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	w, err := s.content.Writer(ctx)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	defer w.Close()
	diff := digest.SHA256.Digester()
	mediaType := ocispec.MediaTypeImageLayerGzip
	var plain io.Reader
	var finish func() error
	switch detect(magic) {
	case oci.Gzip:
		zr, err := gzip.NewReader(io.TeeReader(br, w))
		if err != nil {
			return ocispec.Descriptor{}, "", fmt.Errorf("gzip: %v: %w", err, errdefs.ErrInvalid)
		}
		plain, finish = zr, zr.Close
	case oci.Zstd:
		zr, err := zstd.NewReader(io.TeeReader(br, w))
		if err != nil {
			return ocispec.Descriptor{}, "", fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
		}
		mediaType = oci.LayerZstd
		plain, finish = zr, func() error { zr.Close(); return nil }
	default:
		zw := gzip.NewWriter(w)
		plain, finish = io.TeeReader(br, zw), zw.Close
	}
	tee := io.TeeReader(plain, diff.Hash())
	tr := tar.NewReader(tee)
	for n := 1; ; n++ {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return ocispec.Descriptor{}, "", fmt.Errorf("not a tar archive: %v: %w", err, errdefs.ErrInvalid)
		}
		if n > s.maxEntries() {
			return ocispec.Descriptor{}, "", fmt.Errorf("tarball has more than %d entries, refusing it as a tar bomb: %w", s.maxEntries(), errdefs.ErrInvalid)
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // trailing zero blocks count in diff_id
		return ocispec.Descriptor{}, "", err
	}
	if err := finish(); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	if _, err := io.Copy(w, br); err != nil { // anything after the compressed stream
		return ocispec.Descriptor{}, "", err
	}
	d, err := w.Commit("", -1)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	d.MediaType = mediaType
	return d, diff.Digest(), nil
}
