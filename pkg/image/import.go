package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Import turns a rootfs tarball (plain, gzip or zstd) into a one-layer image named name.
// A compressed tarball is stored as is; a plain one is gzipped as seekable members (see
// memberSize) with its table of contents, so --lazy can serve it. The tar is read through
// once: as it arrives it is checked, unpacked into extracted/ (the first run only mounts)
// and compressed, in parallel.
func (s *Store) Import(ctx context.Context, r io.Reader, name string) (*Image, error) {
	if _, err := oci.ParseNormalized(name); err != nil {
		return nil, err
	}
	defer s.Begin()()
	in, err := s.ingestLayerTar(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	defer in.release()
	now := time.Now().UTC()
	p := oci.HostPlatform()
	cfg := ocispec.Image{
		Created:  &now,
		Platform: p,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{in.diffID}},
		History:  []ocispec.History{{Created: &now, CreatedBy: "minibox import", Comment: "imported from tarball"}},
	}
	img, err := s.Commit(ctx, name, cfg, []ocispec.Descriptor{in.desc})
	if err != nil {
		return nil, err
	}
	s.land(in)
	s.LayerLanded(in.desc)
	return img, nil
}

// ingested is a layer blob just stored, with what was made from it on the way.
type ingested struct {
	desc    ocispec.Descriptor
	diffID  digest.Digest
	index   *toc.Index // nil: none made (a compressed tarball is indexed from its blob)
	staging string     // the unpacked layer; "" when unpacking failed (the first run retries)
	release func()
}

// land puts what was made beside the blob in place: its index, and its unpacked tree as
// extracted/<hex> unless one is there already.
func (s *Store) land(in *ingested) {
	if in.index != nil {
		in.index.Blob, in.index.BlobSize = in.desc.Digest, in.desc.Size
		if err := toc.Write(toc.Path(s.content.Path(in.desc.Digest)), in.index); err != nil {
			s.log.Warn("write layer index", "layer", in.desc.Digest.Encoded()[:12], "err", err)
		}
	}
	if in.staging == "" {
		return
	}
	dir := s.ExtractedDir(in.desc.Digest)
	if _, err := os.Stat(dir); err == nil {
		return
	}
	if err := os.Rename(in.staging, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		s.log.Warn("keep the unpacked layer", "layer", in.desc.Digest.Encoded()[:12], "err", err)
	}
}

// stage makes a staging directory for an unpacked layer, kept from prune until release.
func (s *Store) stage(what string) (string, func(), error) {
	staging, err := os.MkdirTemp(s.content.TempDir(), what+"-")
	if err != nil {
		return "", nil, err
	}
	s.opMu.Lock()
	s.staging[staging] = true
	s.opMu.Unlock()
	// MkdirTemp makes 0700; a layer without a "./" entry keeps its root at 0755 like
	// every other tool, or non-root users in containers could not traverse "/".
	if err := os.Chmod(staging, 0o755); err != nil {
		os.RemoveAll(staging)
		return "", nil, err
	}
	return staging, func() {
		os.RemoveAll(staging) // a no-op once renamed
		s.opMu.Lock()
		delete(s.staging, staging)
		s.opMu.Unlock()
	}, nil
}

// layerStream reads a layer as it arrives: a compressed one is decompressed while its
// bytes go to the blob writer w as they are; a plain tar is compressed into w (in gzip
// members) by the returned compressor, fed by the caller.
func layerStream(magic []byte, br *bufio.Reader, w io.Writer) (plain io.Reader, finish func() error, mediaType string, comp *memberCompressor, err error) {
	switch detect(magic) {
	case oci.Gzip:
		zr, err := gzip.NewReader(io.TeeReader(br, w))
		if err != nil {
			return nil, nil, "", nil, fmt.Errorf("gzip: %v: %w", err, errdefs.ErrInvalid)
		}
		return zr, zr.Close, ocispec.MediaTypeImageLayerGzip, nil, nil
	case oci.Zstd:
		zr, err := zstd.NewReader(io.TeeReader(br, w))
		if err != nil {
			return nil, nil, "", nil, fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
		}
		return zr, func() error { zr.Close(); return nil }, oci.LayerZstd, nil, nil
	}
	return br, func() error { return nil }, ocispec.MediaTypeImageLayerGzip, newMemberCompressor(w), nil
}

// checkTar reads r as a tar, refusing what is not one and a tar bomb.
func (s *Store) checkTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for n := 1; ; n++ {
		_, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a tar archive: %v: %w", err, errdefs.ErrInvalid)
		}
		if n > s.maxEntries() {
			return fmt.Errorf("tarball has more than %d entries, refusing it as a tar bomb: %w", s.maxEntries(), errdefs.ErrInvalid)
		}
	}
}

// ingestLayerTar stores a layer tar as a blob and returns its descriptor and diff_id,
// with the layer unpacked (and, for a plain tar, indexed) on the way.
func (s *Store) ingestLayerTar(ctx context.Context, r io.Reader) (*ingested, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	w, err := s.content.Writer(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	staging, release, err := s.stage("import")
	if err != nil {
		return nil, err
	}
	in := &ingested{staging: staging, release: release}
	ok := false
	defer func() {
		if !ok {
			release()
		}
	}()
	plain, finish, mediaType, comp, err := layerStream(magic, br, w)
	if err != nil {
		return nil, err
	}
	check := consume(s.checkTar)
	// Unpacking and indexing are the first run's and --lazy's: what they refuse is
	// refused there, as when a layer is unpacked on first use.
	unpack := consume(func(r io.Reader) error {
		return Extract(ctx, r, staging, ExtractOptions{MaxEntries: s.maxEntries()})
	})
	var index *consumer
	if comp != nil {
		index = consume(func(r io.Reader) (err error) {
			in.index, err = toc.Build(r)
			return err
		})
	}
	consumers := []*consumer{check, unpack, index}
	finishAll := func() {
		for _, c := range consumers {
			if c != nil {
				c.finish()
			}
		}
		if comp != nil {
			comp.close()
		}
	}
	diff := digest.SHA256.Digester()
	for {
		buf := make([]byte, memberSize)
		n, rerr := io.ReadFull(plain, buf)
		if n > 0 {
			buf = buf[:n]
			diff.Hash().Write(buf)
			if comp != nil {
				comp.add(buf)
			}
			for _, c := range consumers {
				if c != nil {
					c.send(buf)
				}
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			finishAll()
			return nil, rerr
		}
		select {
		case <-check.done:
			if check.err != nil { // refused: no need to read on
				finishAll()
				return nil, check.err
			}
		default:
		}
	}
	if err := check.finish(); err != nil {
		finishAll()
		return nil, err
	}
	if err := unpack.finish(); err != nil {
		s.log.Debug("imported layer not unpacked; its first run will say why", "err", err)
		in.staging = ""
	}
	if index != nil {
		if err := index.finish(); err != nil {
			s.log.Warn("layer not indexed; it will be unpacked instead of served lazily", "err", err)
			in.index = nil
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if comp != nil {
		cps, err := comp.close()
		if err != nil {
			return nil, err
		}
		if in.index != nil {
			in.index.Compressed(toc.Gzip, cps)
		}
	} else if _, err := io.Copy(w, br); err != nil { // anything after the compressed stream
		return nil, err
	}
	d, err := w.Commit("", -1)
	if err != nil {
		return nil, err
	}
	d.MediaType = mediaType
	in.desc, in.diffID = d, diff.Digest()
	ok = true
	return in, nil
}
