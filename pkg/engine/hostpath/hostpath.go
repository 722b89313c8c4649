// Package hostpath resolves the daemon-host paths an API caller names (images
// save/load/import ?path, the build context and file) with the kernel's help.
package hostpath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// A path is opened with O_PATH, then placed by walking the ".." chain of the opened
// directory and comparing device and inode, so neither symlinks, "..", nor a bind mount
// of the data root let a caller name the daemon's own files. What is read or written
// afterwards goes through those fds.

// Policy says where a caller's path may lie: never in the data root, and under one of
// the allowed prefixes (MINIBOX_BUILD_PREFIXES) when there are any.
type Policy struct {
	root     string
	prefixes []string
}

// New is the policy of the data root root; prefixes nil allows any path outside it.
func New(root string, prefixes []string) Policy {
	return Policy{root: root, prefixes: prefixes}
}

// fileID is a file's identity: its device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), st.Ino} }

// Check refuses a host path no lookup should see: empty, NUL bytes, relative. The
// API edge calls it too, so such a request is a 400 before anything is opened.
func Check(param, p string) error {
	switch {
	case p == "":
		return errdefs.Invalid(fmt.Sprintf("%s is required", param))
	case strings.IndexByte(p, 0) >= 0:
		return errdefs.Invalid(fmt.Sprintf("%s contains a NUL byte", param))
	case !filepath.IsAbs(p):
		return errdefs.Invalid(fmt.Sprintf("%s %q must be an absolute path on the daemon's host", param, p))
	}
	return nil
}

// OpenError turns a failed lookup of p into a 404 (missing) or a 400 naming param.
func OpenError(param, p string, err error) error {
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s %s does not exist on the daemon's host: %w", param, p, errdefs.ErrNotFound)
	}
	return errdefs.Invalid(fmt.Sprintf("%s %s: %v", param, p, err))
}

// FDPath is the kernel's name of what fd refers to (for messages and the builder,
// which takes the context as a path).
func FDPath(fd int) (string, error) {
	return os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
}

// KindName names a file type for error messages.
func KindName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symbolic link"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "regular file"
}

// PlaceDir checks the directory dirfd against the data root (never, 403) and
// MINIBOX_BUILD_PREFIXES (must lie under one when set, 403), by walking its ancestry.
func (pol Policy) PlaceDir(param, p string, dirfd int) error {
	var rootSt unix.Stat_t
	if err := unix.Stat(pol.root, &rootSt); err != nil {
		return fmt.Errorf("stat data root: %w", err)
	}
	root := idOf(&rootSt)
	prefixes := map[fileID]bool{}
	for _, pre := range pol.prefixes {
		var st unix.Stat_t
		if unix.Stat(pre, &st) == nil {
			prefixes[idOf(&st)] = true
		}
	}
	underPrefix := false
	cur, err := unix.Openat(dirfd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpenError(param, p, err)
	}
	defer func() { unix.Close(cur) }()
	var st unix.Stat_t
	if err := unix.Fstat(cur, &st); err != nil {
		return err
	}
	for depth := 0; ; depth++ {
		id := idOf(&st)
		if id == root {
			return errdefs.Forbidden(fmt.Sprintf("%s %s lies inside the daemon's data root", param, p))
		}
		if prefixes[id] {
			underPrefix = true
		}
		parent, err := unix.Openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return OpenError(param, p, err)
		}
		var pst unix.Stat_t
		if err := unix.Fstat(parent, &pst); err != nil {
			unix.Close(parent)
			return err
		}
		unix.Close(cur)
		cur = parent
		if idOf(&pst) == id || depth > 4096 {
			break // "/" (or a root the walk cannot leave) is its own parent
		}
		st = pst
	}
	if pol.prefixes != nil && !underPrefix {
		return errdefs.Forbidden(fmt.Sprintf("%s %s is outside MINIBOX_BUILD_PREFIXES (%s)", param, p, strings.Join(pol.prefixes, ", ")))
	}
	return nil
}

// placeFD places an opened file (fd, with stat st): a directory by its own ancestry,
// anything else by that of the directory holding it. The holding directory is found
// from the kernel's name for fd and accepted only if its entry is that very inode.
func (pol Policy) placeFD(param, p string, fd int, st *unix.Stat_t) error {
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return pol.PlaceDir(param, p, fd)
	}
	real, err := FDPath(fd)
	if err != nil {
		return err
	}
	dirfd, err := unix.Open(filepath.Dir(real), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return errdefs.Invalid(fmt.Sprintf("%s %s changed while it was opened", param, p))
	}
	defer unix.Close(dirfd)
	var entry unix.Stat_t
	if err := unix.Fstatat(dirfd, filepath.Base(real), &entry, unix.AT_SYMLINK_NOFOLLOW); err != nil || idOf(&entry) != idOf(st) {
		return errdefs.Invalid(fmt.Sprintf("%s %s changed while it was opened", param, p))
	}
	return pol.PlaceDir(param, p, dirfd)
}

// Open opens a daemon-host file to read (load and import ?path): absolute,
// outside the data root, under MINIBOX_BUILD_PREFIXES when set, and a regular file
// (a device, FIFO or directory is a 400 naming param). A FIFO or device is never
// opened for reading: the type is checked on an O_PATH fd first.
func (pol Policy) Open(param, p string) (*os.File, int64, error) {
	if err := Check(param, p); err != nil {
		return nil, 0, err
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, OpenError(param, p, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, 0, err
	}
	if err := pol.placeFD(param, p, fd, &st); err != nil {
		return nil, 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, 0, errdefs.Invalid(fmt.Sprintf("%s %s is a %s; only a regular file is accepted", param, p, KindName(st.Mode)))
	}
	// Reopening through the fd's magic link reaches the very inode checked above.
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, OpenError(param, p, err)
	}
	return f, st.Size, nil
}

// Target is a file being written on the daemon's host: a temporary file in the
// target's directory (held by fd), renamed over the target only when complete.
type Target struct {
	*os.File
	dirfd int
	tmp   string
	base  string
	done  bool
}

// Create starts writing p (images save ?path): its directory outside the data
// root and under MINIBOX_BUILD_PREFIXES when set; p itself absent or a regular file
// (a symbolic link, directory, device or FIFO there is refused, 400).
func (pol Policy) Create(param, p string) (*Target, error) {
	if err := Check(param, p); err != nil {
		return nil, err
	}
	base := filepath.Base(p)
	if strings.HasSuffix(p, "/") || base == "." || base == ".." || base == "/" {
		return nil, errdefs.Invalid(fmt.Sprintf("%s %s must name a file, not a directory", param, p))
	}
	dirfd, err := unix.Open(filepath.Dir(p), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, OpenError(param, filepath.Dir(p), err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(dirfd)
		}
	}()
	if err := pol.PlaceDir(param, p, dirfd); err != nil {
		return nil, err
	}
	if err := checkTarget(param, p, dirfd, base); err != nil {
		return nil, err
	}
	var f *os.File
	var tmp string
	for i := 0; ; i++ {
		var rnd [8]byte
		if _, err := io.ReadFull(randReader{}, rnd[:]); err != nil {
			return nil, err
		}
		tmp = fmt.Sprintf(".%s.tmp-%x", base, rnd)
		fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && i < 10 {
			continue
		}
		if err != nil {
			return nil, errdefs.Invalid(fmt.Sprintf("%s %s: create a file beside it: %v", param, p, err))
		}
		f = os.NewFile(uintptr(fd), tmp)
		break
	}
	ok = true
	return &Target{File: f, dirfd: dirfd, tmp: tmp, base: base}, nil
}

// checkTarget accepts an absent target or a regular file to replace.
func checkTarget(param, p string, dirfd int, base string) error {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return OpenError(param, p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errdefs.Invalid(fmt.Sprintf("%s %s is a %s; only a new or regular file is replaced", param, p, KindName(st.Mode)))
	}
	return nil
}

// Commit syncs the file and renames it over the target.
func (t *Target) Commit(param, p string) error {
	defer t.Abort()
	if err := t.Sync(); err != nil {
		return err
	}
	if err := checkTarget(param, p, t.dirfd, t.base); err != nil {
		return err
	}
	if err := unix.Renameat(t.dirfd, t.tmp, t.dirfd, t.base); err != nil {
		return errdefs.Invalid(fmt.Sprintf("%s %s: %v", param, p, err))
	}
	t.done = true
	return nil
}

// Abort removes the temporary file unless it was committed; calling it again does nothing.
func (t *Target) Abort() {
	if t.dirfd < 0 {
		return
	}
	t.File.Close()
	if !t.done {
		unix.Unlinkat(t.dirfd, t.tmp, 0)
	}
	unix.Close(t.dirfd)
	t.dirfd = -1
}

type randReader struct{}

func (randReader) Read(b []byte) (int, error) { return unix.Getrandom(b, 0) }

// SizeLimit bounds what an import or load reads (MINIBOX_MAX_IMPORT_SIZE) and stops
// when ctx ends; tripped tells a failure caused by the limit from others.
type SizeLimit struct {
	ctx     context.Context
	r       io.Reader
	left    int64
	limit   int64
	tripped bool
}

func NewSizeLimit(ctx context.Context, r io.Reader, limit int64) *SizeLimit {
	if limit <= 0 {
		limit = 1<<63 - 1
	}
	return &SizeLimit{ctx: ctx, r: r, left: limit, limit: limit}
}

func (l *SizeLimit) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if l.left <= 0 {
		// One byte past the limit tells "exactly the limit" from "more".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.tripped = true
			return 0, l.err()
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *SizeLimit) err() error { return TooLarge(l.limit) }

// TooLarge is the 413 of an archive over MINIBOX_MAX_IMPORT_SIZE.
func TooLarge(limit int64) error {
	return errdefs.New(errdefs.ErrTooLarge, fmt.Sprintf("the archive is larger than MINIBOX_MAX_IMPORT_SIZE (%d bytes)", limit))
}

// Result replaces err by the limit's 413 when the limit caused it (the stores wrap
// read errors in their own kinds).
func (l *SizeLimit) Result(err error) error {
	if err != nil && l.tripped {
		return l.err()
	}
	return err
}
