package image

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ExtractedDir is where layer dgst is (or will be) unpacked.
func (s *Store) ExtractedDir(dgst digest.Digest) string {
	return filepath.Join(s.root, "extracted", dgst.Encoded())
}

// Unpack unpacks layer into extracted/<hex> (once: concurrent callers for one layer share
// one extraction) and returns that directory. The layer is staged in tmp/ and renamed when
// complete; a layer with an entry that would land outside it is refused (ErrInvalid).
func (s *Store) Unpack(ctx context.Context, layer ocispec.Descriptor) (string, error) {
	dir := s.ExtractedDir(layer.Digest)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	_, err, _ := s.unpack.Do(layer.Digest.String(), func() (any, error) {
		if _, err := os.Stat(dir); err == nil {
			return nil, nil
		}
		staging, err := os.MkdirTemp(s.content.TempDir(), "extract-"+layer.Digest.Encoded()[:12]+"-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(staging) // a no-op once renamed
		s.opMu.Lock()
		s.staging[staging] = true
		s.opMu.Unlock()
		defer func() { s.opMu.Lock(); delete(s.staging, staging); s.opMu.Unlock() }()
		// MkdirTemp makes 0700; a layer without a "./" entry keeps its root at 0755 like
		// every other tool, or non-root users in containers could not traverse "/".
		if err := os.Chmod(staging, 0o755); err != nil {
			return nil, err
		}
		if err := s.extractBlob(ctx, layer, staging); err != nil {
			return nil, fmt.Errorf("unpack layer %s: %w", layer.Digest.Encoded()[:12], err)
		}
		if err := os.Rename(staging, dir); err != nil && !errors.Is(err, fs.ErrExist) {
			if _, serr := os.Stat(dir); serr != nil {
				return nil, err
			}
		}
		s.log.Debug("layer unpacked", "layer", layer.Digest.Encoded()[:12])
		return nil, nil
	})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// LayerDirs unpacks every layer of img and returns their directories top first, the
// order overlayfs wants for lowerdir.
func (s *Store) LayerDirs(ctx context.Context, img *Image) ([]string, error) {
	dirs := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		d, err := s.Unpack(ctx, l)
		if err != nil {
			return nil, err
		}
		dirs[len(dirs)-1-i] = d
	}
	return dirs, nil
}

// extractBlob reads layer's blob, verifying its digest as it goes, and extracts it into dir.
func (s *Store) extractBlob(ctx context.Context, layer ocispec.Descriptor, dir string) error {
	f, err := s.content.Open(layer.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	v := layer.Digest.Verifier()
	r, closeFn, err := Decompress(io.TeeReader(f, v))
	if err != nil {
		return err
	}
	defer closeFn()
	if err := Extract(ctx, r, dir, ExtractOptions{MaxEntries: s.maxEntries()}); err != nil {
		return err
	}
	// Drain what the tar reader left (padding) so the whole blob is verified.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, f); err != nil {
		return err
	}
	if !v.Verified() {
		return fmt.Errorf("blob %s is corrupt (digest mismatch): %w", layer.Digest, errdefs.ErrInvalid)
	}
	return nil
}

func (s *Store) maxEntries() int {
	if s.MaxLayerEntries > 0 {
		return s.MaxLayerEntries
	}
	return DefaultMaxLayerEntries
}

// Decompress sniffs gzip and zstd magic and returns the uncompressed stream; anything
// else is passed through as a plain tar.
func Decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch detect(magic) {
	case oci.Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %v: %w", err, errdefs.ErrInvalid)
		}
		return zr, func() { zr.Close() }, nil
	case oci.Zstd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

func detect(magic []byte) oci.Compression {
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return oci.Gzip
	case len(magic) >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return oci.Zstd
	}
	return oci.Uncompressed
}
