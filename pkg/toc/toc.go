package toc

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
)

// Version is the format written; Read refuses others, so an old index is rebuilt.
const Version = 1

// Suffix names a blob's index: blobs/sha256/<hex> + Suffix.
const Suffix = ".index.json"

// ChunkSize splits large files: each chunk has its own digest, so a reader can fetch and
// verify the part it needs. It matches the builder's gzip member per 4 MiB of a file.
const ChunkSize = 4 << 20

// SkipLimit is the most uncompressed bytes a reader may have to decompress and discard
// before a file's data; past it, serving the layer lazily costs more than unpacking it.
const SkipLimit = 4 << 20

// Compression of a blob, detected from its magic bytes.
const (
	None = "none"
	Gzip = "gzip"
	Zstd = "zstd"
)

// Entry types. Whiteouts are kept apart from the files they hide so a reader presents them
// in its own form (overlay: a 0/0 char device; opaque: an xattr on the directory).
const (
	TypeReg      = "reg"
	TypeDir      = "dir"
	TypeSymlink  = "symlink"
	TypeLink     = "link" // hard link to Linkname
	TypeChar     = "char"
	TypeBlock    = "block"
	TypeFifo     = "fifo"
	TypeWhiteout = "whiteout" // .wh.<name>: Name is the hidden path
)

// Index is a layer's table of contents.
type Index struct {
	Version     int           `json:"version"`
	Blob        digest.Digest `json:"blob"`
	BlobSize    int64         `json:"blob_size"`
	Compression string        `json:"compression"`
	// Seekable says every file can be read with at most SkipLimit bytes discarded.
	Seekable bool `json:"seekable"`
	// Checkpoints are ascending places where decompression may start (gzip members, zstd frames).
	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`
	// TarSize is the uncompressed length.
	TarSize int64   `json:"tar_size"`
	Entries []Entry `json:"entries"`
}

// Checkpoint pairs a compressed offset with the uncompressed offset it decodes from.
type Checkpoint struct {
	C int64 `json:"c"`
	U int64 `json:"u"`
}

// Entry is one tar entry, last one wins for a repeated name (as when unpacking).
type Entry struct {
	Name     string            `json:"name"` // clean, relative; "." is the root
	Type     string            `json:"type"`
	Mode     uint32            `json:"mode"` // permission, setuid, setgid, sticky bits
	UID      int               `json:"uid"`
	GID      int               `json:"gid"`
	Size     int64             `json:"size,omitempty"`
	ModTime  int64             `json:"mtime"` // Unix nanoseconds
	Linkname string            `json:"linkname,omitempty"`
	Devmajor int64             `json:"devmajor,omitempty"`
	Devminor int64             `json:"devminor,omitempty"`
	Xattrs   map[string][]byte `json:"xattrs,omitempty"`
	Opaque   bool              `json:"opaque,omitempty"` // directory had .wh..wh..opq
	Digest   digest.Digest     `json:"digest,omitempty"` // sha256 of a regular file's bytes
	// Chunks are the sha256 of each ChunkSize piece of a file larger than ChunkSize.
	Chunks []digest.Digest `json:"chunks,omitempty"`
	Offset int64           `json:"offset,omitempty"` // uncompressed offset of the bytes
}

// Path is the index file of the blob at blobPath.
func Path(blobPath string) string { return blobPath + Suffix }

// Read loads an index; a missing file is errdefs.ErrNotFound.
func Read(p string) (*Index, error) {
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("layer index %s: %w", p, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var x Index
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("layer index %s: %v: %w", p, err, errdefs.ErrInvalid)
	}
	if x.Version != Version {
		return nil, fmt.Errorf("layer index %s: version %d, want %d: %w", p, x.Version, Version, errdefs.ErrNotFound)
	}
	return &x, nil
}

// Write stores x at p atomically.
func Write(p string, x *Index) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, b, 0o644)
}

// Checkpoint returns the last checkpoint at or before uncompressed offset u.
func (x *Index) Checkpoint(u int64) Checkpoint {
	i := sort.Search(len(x.Checkpoints), func(i int) bool { return x.Checkpoints[i].U > u })
	if i == 0 {
		return Checkpoint{}
	}
	return x.Checkpoints[i-1]
}

// Lookup finds the entry named name ("." for the root), following no links.
func (x *Index) Lookup(name string) (*Entry, bool) {
	name = cleanName(name)
	for i := len(x.Entries) - 1; i >= 0; i-- {
		if x.Entries[i].Name == name {
			return &x.Entries[i], true
		}
	}
	return nil, false
}

// cleanName turns a tar name into the index form: relative, cleaned, "." for the root.
// Build refuses names with ".." before calling it, so nothing is clamped silently.
func cleanName(n string) string {
	n = path.Clean("/" + strings.TrimPrefix(n, "./"))
	if n == "/" {
		return "."
	}
	return n[1:]
}
