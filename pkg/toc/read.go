package toc

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
)

// Open returns a reader of e's bytes from blob, decompressing from the nearest checkpoint.
// The bytes are not verified here: the caller hashes them against e.Digest. Close releases
// the decompressor.
func (x *Index) Open(blob io.ReaderAt, e *Entry) (io.ReadCloser, error) {
	if e.Type != TypeReg {
		return nil, fmt.Errorf("layer entry %s is a %s, not a file: %w", e.Name, e.Type, errdefs.ErrInvalid)
	}
	cp := x.Checkpoint(e.Offset)
	rest := io.NewSectionReader(blob, cp.C, x.BlobSize-cp.C)
	var zr io.Reader
	closer := func() {}
	switch x.Compression {
	case None:
		return io.NopCloser(io.NewSectionReader(blob, e.Offset, e.Size)), nil
	case Gzip:
		g, err := gzip.NewReader(rest)
		if err != nil {
			return nil, fmt.Errorf("layer entry %s: gzip at %d: %w", e.Name, cp.C, err)
		}
		zr = g
	case Zstd:
		z, err := zstd.NewReader(rest, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("layer entry %s: zstd at %d: %w", e.Name, cp.C, err)
		}
		zr, closer = z, z.Close
	default:
		return nil, fmt.Errorf("layer %s: unknown compression %q: %w", x.Blob, x.Compression, errdefs.ErrInvalid)
	}
	if _, err := io.CopyN(io.Discard, zr, e.Offset-cp.U); err != nil {
		closer()
		return nil, fmt.Errorf("layer entry %s: seek: %w", e.Name, err)
	}
	return readCloser{io.LimitReader(zr, e.Size), closer}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }
