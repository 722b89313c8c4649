package toc

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
)

// MaxEntries bounds a layer's entries: a tar bomb must not exhaust the daemon's memory.
const MaxEntries = 1 << 20

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// Detect names the compression of a blob from its first bytes.
func Detect(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	}
	return None
}

// BuildFile indexes the blob at p, whose digest is dgst (already verified by the store).
func BuildFile(p string, dgst digest.Digest) (*Index, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	x, err := build(f, f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("index layer %s: %w", dgst.Encoded()[:12], err)
	}
	x.Blob, x.BlobSize = dgst, st.Size()
	return x, nil
}

// Build reads a whole layer blob and returns its index (Blob and BlobSize left for the caller).
// A zstd layer read as a stream is indexed as not seekable; BuildFile finds its frames.
func Build(r io.Reader) (*Index, error) { return build(r, nil, 0) }

// build indexes r; ra, when not nil, reads the same blob of size bytes at random, which
// zstd needs to find its frames before decoding them one by one.
func build(r io.Reader, ra io.ReaderAt, size int64) (*Index, error) {
	cr := &countReader{r: bufio.NewReaderSize(r, 1<<16)}
	magic, _ := cr.r.Peek(4)
	x := &Index{Version: Version, Compression: Detect(magic)}
	var tarStream io.Reader
	var ms *memberStream
	switch x.Compression {
	case Gzip:
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return nil, fmt.Errorf("gzip: %v: %w", err, errdefs.ErrInvalid)
		}
		zr.Multistream(false)
		ms = &memberStream{z: zr, src: cr}
		x.Checkpoints = []Checkpoint{{}}
		ms.onMember = func(c, u int64) { x.Checkpoints = append(x.Checkpoints, Checkpoint{C: c, U: u}) }
		tarStream = ms
	case Zstd:
		zr, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
		}
		defer zr.Close()
		if ra == nil {
			// A stream hides its frame boundaries: index it, but serve it by unpacking.
			if err := zr.Reset(cr); err != nil {
				return nil, fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
			}
			tarStream = zr
			x.Checkpoints = []Checkpoint{{}}
			break
		}
		frames, err := zstdFrames(ra, size)
		if err != nil {
			return nil, fmt.Errorf("zstd: %v: %w", err, errdefs.ErrInvalid)
		}
		fs := &frameStream{z: zr, ra: ra, frames: frames}
		fs.onFrame = func(c, u int64) { x.Checkpoints = append(x.Checkpoints, Checkpoint{C: c, U: u}) }
		tarStream = fs
	default:
		tarStream = cr
	}
	tc := &countReader{r: bufio.NewReaderSize(tarStream, 1<<16)}
	if err := x.readTar(tc); err != nil {
		return nil, err
	}
	// Drain: trailing members still count as checkpoints and give the full length.
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return nil, fmt.Errorf("read layer: %v: %w", err, errdefs.ErrInvalid)
	}
	x.TarSize = tc.n
	if len(x.Checkpoints) > 1 && x.Checkpoints[len(x.Checkpoints)-1].U == x.TarSize {
		x.Checkpoints = x.Checkpoints[:len(x.Checkpoints)-1] // the end of the stream is no start
	}
	x.Seekable = x.seekable()
	return x, nil
}

func (x *Index) readTar(tc *countReader) error {
	tr := tar.NewReader(tc)
	opaque := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer tar: %v: %w", err, errdefs.ErrInvalid)
		}
		if len(x.Entries) >= MaxEntries {
			return fmt.Errorf("layer has more than %d entries: %w", MaxEntries, errdefs.ErrInvalid)
		}
		if hasDotDot(h.Name) {
			return fmt.Errorf("layer entry %q escapes the layer: %w", h.Name, errdefs.ErrInvalid)
		}
		name := cleanName(h.Name)
		dir, base := path.Split(name)
		dir = cleanName(dir)
		if base == opaqueMarker {
			opaque[dir] = true
			continue
		}
		e := Entry{
			Name: name, Mode: uint32(h.Mode) & 0o7777, UID: h.Uid, GID: h.Gid,
			ModTime: h.ModTime.UnixNano(), Devmajor: h.Devmajor, Devminor: h.Devminor,
		}
		if strings.HasPrefix(base, whiteoutPrefix) {
			e.Name, e.Type = cleanName(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))), TypeWhiteout
			x.Entries = append(x.Entries, e)
			continue
		}
		for k, v := range h.PAXRecords {
			if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if e.Xattrs == nil {
					e.Xattrs = map[string][]byte{}
				}
				e.Xattrs[name] = []byte(v)
			}
		}
		switch h.Typeflag {
		case tar.TypeReg:
			e.Type, e.Size, e.Offset = TypeReg, h.Size, tc.n
			sum := sha256.New()
			for e.Size > ChunkSize && int64(len(e.Chunks))*ChunkSize < e.Size {
				chunk := sha256.New()
				if _, err := io.CopyN(io.MultiWriter(sum, chunk), tr, min(ChunkSize, e.Size-int64(len(e.Chunks))*ChunkSize)); err != nil {
					return fmt.Errorf("read layer entry %s: %v: %w", name, err, errdefs.ErrInvalid)
				}
				e.Chunks = append(e.Chunks, digest.NewDigest(digest.SHA256, chunk))
			}
			if _, err := io.Copy(sum, tr); err != nil {
				return fmt.Errorf("read layer entry %s: %v: %w", name, err, errdefs.ErrInvalid)
			}
			e.Digest = digest.NewDigest(digest.SHA256, sum)
		case tar.TypeDir:
			e.Type = TypeDir
		case tar.TypeSymlink:
			e.Type, e.Linkname = TypeSymlink, h.Linkname
		case tar.TypeLink:
			if hasDotDot(h.Linkname) {
				return fmt.Errorf("layer hard link %q escapes the layer: %w", h.Linkname, errdefs.ErrInvalid)
			}
			e.Type, e.Linkname = TypeLink, cleanName(h.Linkname)
		case tar.TypeChar:
			e.Type = TypeChar
		case tar.TypeBlock:
			e.Type = TypeBlock
		case tar.TypeFifo:
			e.Type = TypeFifo
		default:
			// GNU sparse files and vendor types: not representable here; unpacking handles
			// or refuses them.
			return fmt.Errorf("layer entry %s has unsupported type %q: %w", name, h.Typeflag, errdefs.ErrInvalid)
		}
		x.Entries = append(x.Entries, e)
	}
	for i := range x.Entries {
		if x.Entries[i].Type == TypeDir && opaque[x.Entries[i].Name] {
			x.Entries[i].Opaque = true
			delete(opaque, x.Entries[i].Name)
		}
	}
	for dir := range opaque { // marker without its directory entry
		x.Entries = append(x.Entries, Entry{Name: dir, Type: TypeDir, Mode: 0o755, Opaque: true})
	}
	return nil
}

func (x *Index) seekable() bool {
	if x.Compression == None {
		return true
	}
	if len(x.Checkpoints) == 0 {
		return false
	}
	for i := range x.Entries {
		e := &x.Entries[i]
		if e.Type != TypeReg || e.Size == 0 {
			continue
		}
		if e.Offset-x.Checkpoint(e.Offset).U > SkipLimit {
			return false
		}
		for k := range e.Chunks {
			if at := e.Offset + int64(k)*ChunkSize; at-x.Checkpoint(at).U > SkipLimit {
				return false
			}
		}
	}
	return true
}

func hasDotDot(name string) bool {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

// countReader counts what was consumed through it; as an io.ByteReader it keeps
// compress/flate from buffering past the end of a gzip member.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// memberStream decompresses gzip members one after another, reporting where each begins.
type memberStream struct {
	z        *gzip.Reader
	src      *countReader
	u        int64
	done     bool
	onMember func(c, u int64)
}

func (m *memberStream) Read(p []byte) (int, error) {
	for {
		if m.done {
			return 0, io.EOF
		}
		n, err := m.z.Read(p)
		m.u += int64(n)
		if err == io.EOF {
			c := m.src.n
			if rerr := m.z.Reset(m.src); rerr != nil {
				m.done = true
				if rerr != io.EOF {
					return n, fmt.Errorf("gzip member at %d: %w", c, rerr)
				}
			} else {
				m.z.Multistream(false)
				m.onMember(c, m.u)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		return n, nil
	}
}

// Compressed records that the blob of an index built from the plain tar is compressed as
// c, decompression starting at checkpoints, and judges again whether it is seekable.
func (x *Index) Compressed(c string, checkpoints []Checkpoint) {
	x.Compression, x.Checkpoints = c, checkpoints
	x.Seekable = x.seekable()
}
