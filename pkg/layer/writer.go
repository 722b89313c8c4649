package layer

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
)

// DefaultEpoch is the mtime of every entry when no SOURCE_DATE_EPOCH is given
// (1980-01-01, the oldest time a zip-based tool can represent, as reproducible-builds.org suggests).
var DefaultEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ChunkSize is how many bytes of one file go into one gzip member.
const ChunkSize = 4 << 20

// MediaType is the OCI media type of the layers Write produces.
const MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"

// Options tune Write.
type Options struct {
	Epoch time.Time // mtime of every entry; zero = DefaultEpoch
	Level int       // gzip level; 0 = gzip.DefaultCompression
	// Skip, if set, leaves out the entries whose path (relative, "etc/hosts") it names,
	// with what is below them.
	Skip func(path string) bool
}

// Member is one gzip member of the blob: where it starts in the compressed stream and which
// entry (and which byte of its content) it starts with.
type Member struct {
	Name   string `json:"name"`   // tar entry name
	Offset int64  `json:"offset"` // compressed offset of the member
	Data   int64  `json:"data"`   // offset into the entry's content where the member starts
}

// Result describes a written layer.
type Result struct {
	Digest  digest.Digest `json:"digest"`  // of the compressed blob
	Size    int64         `json:"size"`    // of the compressed blob
	DiffID  digest.Digest `json:"diff_id"` // of the uncompressed tar
	Entries int           `json:"entries"`
	Members []Member      `json:"-"`
}

// Entry is one tar entry as Write plans it; Plan is pure and tested without root.
type Entry struct {
	Header tar.Header
	Path   string // on disk, for regular files' content; "" otherwise
}

// Write writes dir as a layer to w.
func Write(w io.Writer, dir string, opts Options) (*Result, error) {
	entries, err := Plan(dir, opts)
	if err != nil {
		return nil, err
	}
	return writeEntries(w, entries, opts)
}

// WriteFile writes dir as a layer to path (created 0644) and returns its description.
func WriteFile(path, dir string, opts Options) (*Result, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	res, err := Write(f, dir, opts)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return res, nil
}

// Plan walks dir and returns the entries of its layer in order: parents before children,
// names sorted bytewise, whiteouts translated, hard links to the first name.
func Plan(dir string, opts Options) ([]Entry, error) {
	epoch := opts.Epoch
	if epoch.IsZero() {
		epoch = DefaultEpoch
	}
	epoch = epoch.UTC().Truncate(time.Second)
	var out []Entry
	links := map[inode]string{}
	var walk func(rel string) error
	walk = func(rel string) error {
		names, err := readNames(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		for _, name := range names {
			p := filepath.Join(dir, rel, name)
			child := name
			if rel != "" {
				child = rel + "/" + name
			}
			if opts.Skip != nil && opts.Skip(child) {
				continue
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			st := statOf(fi)
			if fi.Mode()&fs.ModeCharDevice != 0 && st.rdev == 0 {
				// overlayfs records a deleted lower file as a 0/0 character device.
				out = append(out, Entry{Header: whiteout(parentOf(child), ".wh."+name, epoch)})
				continue
			}
			h, err := header(p, child, fi, st, epoch)
			if err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				if st.nlink > 1 {
					if first, ok := links[st.ino]; ok {
						h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
						out = append(out, Entry{Header: *h})
						continue
					}
					links[st.ino] = child
				}
				out = append(out, Entry{Header: *h, Path: p})
				continue
			}
			out = append(out, Entry{Header: *h})
			if fi.IsDir() {
				if opaque(p) {
					// An opaque directory hides everything below it in lower layers.
					out = append(out, Entry{Header: whiteout(child, ".wh..wh..opq", epoch)})
				}
				if err := walk(child); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, fmt.Errorf("layer from %s: %w", dir, err)
	}
	return out, nil
}

func parentOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

func whiteout(dir, name string, epoch time.Time) tar.Header {
	if dir != "" {
		name = dir + "/" + name
	}
	return tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
}

func header(p, name string, fi fs.FileInfo, st stat, epoch time.Time) (*tar.Header, error) {
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return nil, err
		}
	}
	h, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, err
	}
	h.Name = name
	if fi.IsDir() {
		h.Name += "/"
	}
	h.Uid, h.Gid = int(st.uid), int(st.gid)
	h.Uname, h.Gname = "", ""
	h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
	h.Format = tar.FormatPAX
	h.Devmajor, h.Devminor = 0, 0
	if fi.Mode()&(fs.ModeDevice|fs.ModeCharDevice) != 0 {
		h.Devmajor, h.Devminor = int64(major(st.rdev)), int64(minor(st.rdev))
	}
	xs, err := xattrs(p)
	if err != nil {
		return nil, err
	}
	if len(xs) > 0 {
		h.PAXRecords = map[string]string{}
		for k, v := range xs {
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
	}
	return h, nil
}

// memberWriter is the gzip stream under the tar writer; cut ends one member and starts the next.
type memberWriter struct {
	out    *countWriter
	gz     *gzip.Writer
	diff   hash.Hash
	wrote  bool // bytes in the current member
	level  int
	member []Member
}

func (m *memberWriter) Write(p []byte) (int, error) {
	m.wrote = m.wrote || len(p) > 0
	m.diff.Write(p)
	return m.gz.Write(p)
}

func (m *memberWriter) cut(next string, data int64) error {
	if m.wrote {
		if err := m.gz.Close(); err != nil {
			return err
		}
		m.gz.Reset(m.out)
		m.wrote = false
	}
	m.member = append(m.member, Member{Name: next, Offset: m.out.n, Data: data})
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
	h hash.Hash
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

func writeEntries(w io.Writer, entries []Entry, opts Options) (*Result, error) {
	level := opts.Level
	if level == 0 {
		level = gzip.DefaultCompression
	}
	cw := &countWriter{w: w, h: sha256.New()}
	gz, err := gzip.NewWriterLevel(cw, level)
	if err != nil {
		return nil, err
	}
	// The zero header: no name, mtime 0, OS unknown, so equal inputs give equal bytes.
	mw := &memberWriter{out: cw, gz: gz, diff: sha256.New(), level: level}
	tw := tar.NewWriter(mw)
	buf := make([]byte, 256<<10)
	for i := range entries {
		e := &entries[i]
		if err := mw.cut(e.Header.Name, 0); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&e.Header); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.Header.Name, err)
		}
		if e.Path != "" && e.Header.Size > 0 {
			if err := copyChunked(tw, mw, e, buf); err != nil {
				return nil, fmt.Errorf("layer entry %s: %w", e.Header.Name, err)
			}
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	}
	if err := mw.cut("", 0); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return &Result{
		Digest:  digest.NewDigestFromBytes(digest.SHA256, cw.h.Sum(nil)),
		Size:    cw.n,
		DiffID:  digest.NewDigestFromBytes(digest.SHA256, mw.diff.Sum(nil)),
		Entries: len(entries),
		Members: mw.member,
	}, nil
}

// copyChunked copies a file's content, starting a new gzip member every ChunkSize bytes.
// The size is the header's: a file that changed size under us is an error, not a torn entry.
func copyChunked(tw *tar.Writer, mw *memberWriter, e *Entry, buf []byte) error {
	f, err := os.Open(e.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var done int64
	for done < e.Header.Size {
		if done > 0 {
			if err := mw.cut(e.Header.Name, done); err != nil {
				return err
			}
		}
		n := min(int64(ChunkSize), e.Header.Size-done)
		c, err := io.CopyBuffer(tw, io.LimitReader(f, n), buf)
		done += c
		if err != nil {
			return err
		}
		if c < n {
			return errors.New("file shrank while writing the layer")
		}
	}
	return nil
}

// Verify reads a layer blob and returns its uncompressed digest; tests use it to check the
// stream is one valid gzip and tar.
func Verify(r io.Reader) (digest.Digest, []string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, h))
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, err
		}
		names = append(names, hdr.Name)
	}
	io.Copy(io.Discard, zr)
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), names, nil
}
