package toc

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Open returns a reader of e's bytes from blob, decompressing from the nearest checkpoint.
// The bytes are not verified here: the caller hashes them against e.Digest.
func (x *Index) Open(blob io.ReaderAt, e *Entry) (io.Reader, error) {
	if e.Type != TypeReg {
		return nil, fmt.Errorf("layer entry %s is a %s, not a file: %w", e.Name, e.Type, errdefs.ErrInvalid)
	}
	switch x.Compression {
	case None:
		return io.NewSectionReader(blob, e.Offset, e.Size), nil
	case Gzip:
		cp := x.Checkpoint(e.Offset)
		zr, err := gzip.NewReader(io.NewSectionReader(blob, cp.C, x.BlobSize-cp.C))
		if err != nil {
			return nil, fmt.Errorf("layer entry %s: gzip at %d: %w", e.Name, cp.C, err)
		}
		if _, err := io.CopyN(io.Discard, zr, e.Offset-cp.U); err != nil {
			return nil, fmt.Errorf("layer entry %s: seek: %w", e.Name, err)
		}
		return io.LimitReader(zr, e.Size), nil
	}
	return nil, fmt.Errorf("layer %s: %s layers are unpacked, not read in place: %w", x.Blob, x.Compression, errdefs.ErrInvalid)
}
