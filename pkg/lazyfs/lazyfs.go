package lazyfs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
)

// opaqueXattr marks an opaque directory for overlayfs.
const opaqueXattr = "trusted.overlay.opaque"

// Layer is one served layer: its index, its blob and its file cache.
type Layer struct {
	idx   *toc.Index
	blob  *os.File
	cache string
	log   *slog.Logger

	mu       sync.Mutex
	inflight map[string]*fetch
}

type fetch struct {
	done chan struct{}
	err  error
}

// Open prepares serving the blob at blobPath described by idx, caching file bytes in
// cacheDir (created if missing). The blob stays open, so a prune that unlinks it later
// cannot break a live mount.
func Open(idx *toc.Index, blobPath, cacheDir string, log *slog.Logger) (*Layer, error) {
	if !idx.Seekable {
		return nil, fmt.Errorf("layer %s cannot be served lazily (%s, not seekable)", idx.Blob, idx.Compression)
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.Open(blobPath)
	if err != nil {
		return nil, err
	}
	return &Layer{idx: idx, blob: f, cache: cacheDir, log: log, inflight: map[string]*fetch{}}, nil
}

// Close releases the blob.
func (l *Layer) Close() error { return l.blob.Close() }

// Root returns the root node of the layer's tree, for fs.Mount or tests.
func (l *Layer) Root() fs.InodeEmbedder {
	root := &node{l: l, e: &toc.Entry{Name: ".", Type: toc.TypeDir, Mode: 0o755}}
	if e, ok := l.idx.Lookup("."); ok {
		root.e = e
	}
	return root
}

// Options are the mount options: read-only, checked by the kernel against the index's modes
// (default_permissions), reachable by any user (containers run as anyone), long caches
// because nothing ever changes.
func Options(fsName string) *fs.Options {
	long := time.Hour
	return &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:         true,
			FsName:             fsName,
			Name:               "minibox",
			DirectMount:        true,
			DirectMountFlags:   syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV,
			Options:            []string{"default_permissions"},
			MaxReadAhead:       1 << 17,
			DisableReadDirPlus: false,
		},
		EntryTimeout:    &long,
		AttrTimeout:     &long,
		NegativeTimeout: &long,
		NullPermissions: true,
	}
}

// Mount serves l at dir until the returned server is unmounted.
func Mount(dir string, l *Layer) (*fuse.Server, error) {
	srv, err := fs.Mount(dir, l.Root(), Options("minibox-lazyfs:"+l.idx.Blob.Encoded()[:12]))
	if err != nil {
		return nil, &os.PathError{Op: "mount fuse", Path: dir, Err: err}
	}
	return srv, nil
}

// node is any entry of the layer; its behaviour follows its entry's type.
type node struct {
	fs.Inode
	l     *Layer
	e     *toc.Entry
	links uint32 // names this inode has in the layer (hard links)
}

var (
	_ fs.NodeOnAdder     = (*node)(nil)
	_ fs.NodeGetattrer   = (*node)(nil)
	_ fs.NodeGetxattrer  = (*node)(nil)
	_ fs.NodeListxattrer = (*node)(nil)
	_ fs.NodeReadlinker  = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeReader      = (*node)(nil)
	_ fs.NodeStatfser    = (*node)(nil)
)

// OnAdd builds the whole tree when the root is attached: listings are then answered from
// memory without touching the blob.
func (n *node) OnAdd(ctx context.Context) {
	if n.e.Name != "." {
		return
	}
	entries := n.l.idx.Entries
	byName := map[string]*fs.Inode{".": &n.Inode}
	var dirOf func(name string) *fs.Inode
	dirOf = func(name string) *fs.Inode {
		if in, ok := byName[name]; ok && in.IsDir() {
			return in
		}
		parent, base := path.Split(name)
		p := dirOf(cleanDir(parent))
		in := p.NewPersistentInode(ctx, &node{l: n.l, e: &toc.Entry{Name: name, Type: toc.TypeDir, Mode: 0o755}},
			fs.StableAttr{Mode: fuse.S_IFDIR})
		p.AddChild(base, in, true)
		byName[name] = in
		return in
	}
	for i := range entries {
		e := &entries[i]
		if e.Name == "." {
			continue
		}
		parent, base := path.Split(e.Name)
		p := dirOf(cleanDir(parent))
		if e.Type == toc.TypeDir {
			if in, ok := byName[e.Name]; ok && in.IsDir() {
				in.Operations().(*node).e = e // a later entry for the same directory wins
				continue
			}
		}
		var in *fs.Inode
		if e.Type == toc.TypeLink {
			in = byName[e.Linkname]
			if in == nil || in.IsDir() {
				n.l.log.Warn("hard link target missing in layer", "layer", n.l.idx.Blob.Encoded()[:12], "name", e.Name, "target", e.Linkname)
				continue
			}
		} else {
			in = p.NewPersistentInode(ctx, &node{l: n.l, e: e}, fs.StableAttr{Mode: typeBits(e)})
		}
		p.AddChild(base, in, true)
		in.Operations().(*node).links++
		byName[e.Name] = in
	}
}

func cleanDir(d string) string {
	d = strings.TrimSuffix(d, "/")
	if d == "" {
		return "."
	}
	return d
}

func typeBits(e *toc.Entry) uint32 {
	switch e.Type {
	case toc.TypeDir:
		return syscall.S_IFDIR
	case toc.TypeSymlink:
		return syscall.S_IFLNK
	case toc.TypeChar, toc.TypeWhiteout:
		return syscall.S_IFCHR
	case toc.TypeBlock:
		return syscall.S_IFBLK
	case toc.TypeFifo:
		return syscall.S_IFIFO
	}
	return syscall.S_IFREG
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e := n.e
	out.Mode = typeBits(e) | e.Mode
	out.Uid, out.Gid = uint32(e.UID), uint32(e.GID)
	out.Nlink = max(n.links, 1)
	if e.Type == toc.TypeDir {
		out.Nlink = 2
	}
	switch e.Type {
	case toc.TypeWhiteout:
		out.Mode = syscall.S_IFCHR // overlay's whiteout: a 0/0 device, no permissions
	case toc.TypeSymlink:
		out.Mode = syscall.S_IFLNK | 0o777 // Linux symlinks have no mode of their own
	}
	switch e.Type {
	case toc.TypeReg:
		out.Size = uint64(e.Size)
	case toc.TypeSymlink:
		out.Size = uint64(len(e.Linkname))
	case toc.TypeChar, toc.TypeBlock:
		out.Rdev = uint32(unixMkdev(e.Devmajor, e.Devminor))
	}
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = 4096
	t := time.Unix(0, e.ModTime)
	out.SetTimes(&t, &t, &t)
	return 0
}

// unixMkdev is the kernel's new_encode_dev, the format FUSE carries rdev in.
func unixMkdev(major, minor int64) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12
}

func (n *node) xattrs() map[string][]byte {
	if !n.e.Opaque {
		return n.e.Xattrs
	}
	m := map[string][]byte{opaqueXattr: []byte("y")}
	for k, v := range n.e.Xattrs {
		m[k] = v
	}
	return m
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := n.xattrs()[attr]
	if !ok {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var b []byte
	for k := range n.xattrs() {
		b = append(append(b, k...), 0)
	}
	if len(dest) < len(b) {
		return uint32(len(b)), syscall.ERANGE
	}
	return uint32(copy(dest, b)), 0
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if n.e.Type != toc.TypeSymlink {
		return nil, syscall.EINVAL
	}
	return []byte(n.e.Linkname), 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize, out.Frsize, out.NameLen = 4096, 4096, 255
	out.Blocks = uint64(n.l.idx.TarSize / 4096)
	out.Files = uint64(len(n.l.idx.Entries))
	return 0
}

// handle is an open file: the verified copy in the cache.
type handle struct{ f *os.File }

var _ fs.FileReleaser = (*handle)(nil)

func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.f.Close()
	return 0
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if n.e.Type != toc.TypeReg {
		return nil, 0, syscall.EINVAL
	}
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, syscall.EROFS
	}
	if len(n.e.Chunks) > 0 {
		// A large file: each read fetches and verifies only the chunks it touches.
		return &chunkHandle{l: n.l, e: n.e}, fuse.FOPEN_KEEP_CACHE, 0
	}
	p, err := n.l.cached(n.e)
	if err != nil {
		n.l.log.Error("lazy layer read", "layer", n.l.idx.Blob.Encoded()[:12], "path", n.e.Name, "err", err)
		return nil, 0, syscall.EIO
	}
	f, err := os.Open(p)
	if err != nil {
		n.l.log.Error("lazy layer cache", "layer", n.l.idx.Blob.Encoded()[:12], "path", n.e.Name, "err", err)
		return nil, 0, syscall.EIO
	}
	return &handle{f: f}, fuse.FOPEN_KEEP_CACHE, 0
}

func (n *node) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if ch, ok := fh.(*chunkHandle); ok {
		return ch.read(dest, off)
	}
	h, ok := fh.(*handle)
	if !ok {
		return nil, syscall.EBADF
	}
	k, err := h.f.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		return nil, syscall.EIO
	}
	return fuse.ReadResultData(dest[:k]), 0
}

// chunkHandle is an open large file, read chunk by chunk.
type chunkHandle struct {
	l *Layer
	e *toc.Entry
}

func (h *chunkHandle) read(dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	end := min(off+int64(len(dest)), h.e.Size)
	got := 0
	for at := off; at < end; {
		k := int(at / toc.ChunkSize)
		start, size := h.e.Chunk(k)
		p, err := h.l.cachedRange(h.e, fmt.Sprintf("%s.%d", h.e.Digest.Encoded(), k), h.e.Chunks[k], start, size)
		if err != nil {
			h.l.log.Error("lazy layer read", "layer", h.l.idx.Blob.Encoded()[:12], "path", h.e.Name, "chunk", k, "err", err)
			return nil, syscall.EIO
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, syscall.EIO
		}
		want := min(end, start+size) - at
		k2, err := f.ReadAt(dest[got:got+int(want)], at-start)
		f.Close()
		if err != nil && err != io.EOF {
			return nil, syscall.EIO
		}
		got += k2
		at += int64(k2)
		if int64(k2) < want {
			break
		}
	}
	return fuse.ReadResultData(dest[:got]), 0
}

// cached returns the cache file holding e's verified bytes. The cache is keyed by content
// digest, so hard links and identical files share one copy.
func (l *Layer) cached(e *toc.Entry) (string, error) {
	return l.cachedRange(e, e.Digest.Encoded(), e.Digest, 0, e.Size)
}

// cachedRange returns the cache file key holding n verified bytes of e from off, fetching
// them once however many readers ask at the same time.
func (l *Layer) cachedRange(e *toc.Entry, key string, want digest.Digest, off, n int64) (string, error) {
	if want.Validate() != nil {
		return "", fmt.Errorf("no digest for %s in the layer index", e.Name)
	}
	p := filepath.Join(l.cache, key)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	l.mu.Lock()
	if f, ok := l.inflight[key]; ok {
		l.mu.Unlock()
		<-f.done
		return p, f.err
	}
	f := &fetch{done: make(chan struct{})}
	l.inflight[key] = f
	l.mu.Unlock()

	f.err = l.fetch(e, p, want, off, n)
	close(f.done)
	l.mu.Lock()
	delete(l.inflight, key)
	l.mu.Unlock()
	return p, f.err
}

func (l *Layer) fetch(e *toc.Entry, dst string, want digest.Digest, off, n int64) (err error) {
	r, err := l.idx.OpenRange(l.blob, e, off, n)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(l.cache, ".fetch-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum := sha256.New()
	k, err := io.Copy(io.MultiWriter(tmp, sum), r)
	if err != nil {
		return fmt.Errorf("decompress %s: %w", e.Name, err)
	}
	got := digest.NewDigest(digest.SHA256, sum)
	if k != n || got != want {
		return fmt.Errorf("%s is corrupt: %d bytes at %d with digest %s, index says %d bytes with %s", e.Name, k, off, got, n, want)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
