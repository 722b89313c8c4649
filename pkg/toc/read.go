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
	return x.OpenRange(blob, e, 0, e.Size)
}

// Chunk returns the offset and length of e's chunk k (see Entry.Chunks).
func (e *Entry) Chunk(k int) (off, n int64) {
	off = int64(k) * ChunkSize
	return off, min(ChunkSize, e.Size-off)
}

// OpenRange is Open for n bytes of e from offset off.
func (x *Index) OpenRange(blob io.ReaderAt, e *Entry, off, n int64) (io.ReadCloser, error) {
	if e.Type != TypeReg {
		return nil, fmt.Errorf("layer entry %s is a %s, not a file: %w", e.Name, e.Type, errdefs.ErrInvalid)
	}
	if off < 0 || n < 0 || off+n > e.Size {
		return nil, fmt.Errorf("layer entry %s: range %d+%d outside its %d bytes: %w", e.Name, off, n, e.Size, errdefs.ErrInvalid)
	}
	at := e.Offset + off
	cp := x.Checkpoint(at)
	rest := io.NewSectionReader(blob, cp.C, x.BlobSize-cp.C)
	var zr io.Reader
	closer := func() {}
	switch x.Compression {
	case None:
		return io.NopCloser(io.NewSectionReader(blob, at, n)), nil
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
	if _, err := io.CopyN(io.Discard, zr, at-cp.U); err != nil {
		closer()
		return nil, fmt.Errorf("layer entry %s: seek: %w", e.Name, err)
	}
	return readCloser{io.LimitReader(zr, n), closer}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }
