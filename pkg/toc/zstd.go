package toc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// frame is one zstd frame's place in the blob.
type frame struct{ start, end int64 }

// zstdFrames walks a zstd blob's frame and block headers (RFC 8878 §3.1) without decoding
// anything and returns its data frames; skippable frames (zstd:chunked keeps its manifest
// in one) are passed over. Frames decode independently, so each start is a checkpoint.
func zstdFrames(ra io.ReaderAt, size int64) ([]frame, error) {
	var frames []frame
	var b [14]byte
	for pos := int64(0); pos < size; {
		if _, err := ra.ReadAt(b[:4], pos); err != nil {
			return nil, fmt.Errorf("frame at %d: %w", pos, err)
		}
		magic := binary.LittleEndian.Uint32(b[:4])
		if magic&0xFFFFFFF0 == 0x184D2A50 {
			if _, err := ra.ReadAt(b[:8], pos); err != nil {
				return nil, fmt.Errorf("skippable frame at %d: %w", pos, err)
			}
			pos += 8 + int64(binary.LittleEndian.Uint32(b[4:8]))
			continue
		}
		if magic != 0xFD2FB528 {
			return nil, fmt.Errorf("no zstd frame at %d (magic %#x)", pos, magic)
		}
		start := pos
		if _, err := ra.ReadAt(b[:1], pos+4); err != nil {
			return nil, err
		}
		fhd := b[0]
		single := fhd>>5&1 == 1
		hdr := int64(1)
		if !single {
			hdr++ // window descriptor
		}
		hdr += [4]int64{0, 1, 2, 4}[fhd&3] // dictionary id
		switch fhd >> 6 {                  // frame content size
		case 0:
			if single {
				hdr++
			}
		case 1:
			hdr += 2
		case 2:
			hdr += 4
		case 3:
			hdr += 8
		}
		pos += 4 + hdr
		for last := false; !last; {
			if _, err := ra.ReadAt(b[:3], pos); err != nil {
				return nil, fmt.Errorf("block at %d: %w", pos, err)
			}
			bh := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			last = bh&1 == 1
			n := int64(bh >> 3)
			switch bh >> 1 & 3 {
			case 1: // RLE: one byte repeated n times
				n = 1
			case 3:
				return nil, fmt.Errorf("reserved block type at %d", pos)
			}
			pos += 3 + n
		}
		if fhd>>2&1 == 1 {
			pos += 4 // content checksum
		}
		if pos > size {
			return nil, fmt.Errorf("frame at %d runs past the end (%d > %d)", start, pos, size)
		}
		frames = append(frames, frame{start, pos})
	}
	return frames, nil
}

// frameStream decodes frames one after another, reporting where each begins.
type frameStream struct {
	z       *zstd.Decoder
	ra      io.ReaderAt
	frames  []frame
	next    int
	u       int64
	open    bool
	onFrame func(c, u int64)
}

func (f *frameStream) Read(p []byte) (int, error) {
	for {
		if !f.open {
			if f.next == len(f.frames) {
				return 0, io.EOF
			}
			fr := f.frames[f.next]
			f.next++
			if err := f.z.Reset(io.NewSectionReader(f.ra, fr.start, fr.end-fr.start)); err != nil {
				return 0, err
			}
			f.onFrame(fr.start, f.u)
			f.open = true
		}
		n, err := f.z.Read(p)
		f.u += int64(n)
		if errors.Is(err, io.EOF) {
			f.open = false
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}
