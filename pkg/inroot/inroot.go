// Package inroot resolves paths inside a directory fd taken as "/" (a container's root
// filesystem) with the kernel's help, and reads trees through fds only. A path is never
// turned into a host path string and opened again: a container swapping a directory for a
// symlink between two such steps would otherwise steer the daemon anywhere on the host.
package inroot

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Resolve is how every lookup resolves: as if root were "/" (".." and absolute symlinks
// stay inside), and never through a /proc magic link, which would jump to whatever an fd
// of some process points at.
const Resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// OpenRoot opens dir (a host path the daemon controls: a mount point or /proc/<pid>/root)
// as the root fd.
func OpenRoot(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// Openat2 is openat2(2) with how.Resolve, retried on EAGAIN: the kernel asks for a retry
// when a rename raced a ".." lookup, which a container can make happen on purpose.
func Openat2(dirfd int, p string, flags int, resolve uint64) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags) | unix.O_CLOEXEC, Resolve: resolve}
	for range 1024 {
		fd, err := unix.Openat2(dirfd, p, how)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
	return -1, unix.EAGAIN
}

// Open opens p inside root. With follow false a symlink as the last component is opened
// itself (flags should then hold O_PATH).
func Open(root int, p string, flags int, follow bool) (int, error) {
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := Openat2(root, relName(p), flags, Resolve)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

// relName makes p relative to the root ("." for the root itself).
func relName(p string) string {
	c := path.Clean("/" + p)
	if c == "/" {
		return "."
	}
	return c[1:]
}

// PathError turns a lookup error into a client's error: a path that is not there is
// NotFound, one that cannot be taken (a magic link, a loop, a name too long) is Invalid.
// Anything else is the daemon's problem and stays as it is.
func PathError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return errdefs.NotFound(fmt.Sprintf("no such file or directory in the container: %s", what))
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENAMETOOLONG),
		errors.Is(err, unix.ENXIO), errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return errdefs.Invalid(fmt.Sprintf("container path %s cannot be used: %v", what, errors.Unwrap(err)))
	}
	return err
}

// ProcPath names fd (and base inside it) through /proc/self/fd: the kernel follows that
// magic link to the very inode the fd holds, not to a path looked up again.
func ProcPath(fd int, base string) string {
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	if base != "" {
		p += "/" + base
	}
	return p
}

// Stat is what an fd holds, as an fs.FileInfo.
type Stat struct {
	name string
	st   unix.Stat_t
}

// Fstat describes the object fd holds (O_PATH fds included).
func Fstat(fd int, name string) (*Stat, error) {
	s := &Stat{name: name}
	if err := unix.Fstat(fd, &s.st); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stat) Name() string       { return s.name }
func (s *Stat) Size() int64        { return s.st.Size }
func (s *Stat) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *Stat) IsDir() bool        { return s.st.Mode&unix.S_IFMT == unix.S_IFDIR }
func (s *Stat) Sys() any           { return &s.st }
func (s *Stat) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	if s.st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// Readlink reads the symlink an O_PATH|O_NOFOLLOW fd holds.
func Readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// OpenFile opens the regular file an O_PATH fd holds for reading (the same inode).
func OpenFile(fd int, name string) (*os.File, error) {
	rfd, err := unix.Open(ProcPath(fd, ""), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(rfd), name), nil
}

// ReadDirNames lists the directory an fd holds.
func ReadDirNames(fd int, name string) ([]string, error) {
	dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	d := os.NewFile(uintptr(dfd), name)
	defer d.Close()
	return d.Readdirnames(-1)
}

// Walk calls fn for fd (as name) and, for a directory, each entry below it, depth first in
// directory order. Each entry is opened O_PATH|O_NOFOLLOW relative to its parent's fd, so
// a symlink is reported, never followed, and a rename mid-walk cannot lead outside. The fd
// passed to fn is closed after fn returns; fs.SkipDir from fn skips a directory.
func Walk(fd int, name string, fn func(fd int, name string, st *Stat) error) error {
	st, err := Fstat(fd, path.Base(name))
	if err != nil {
		return &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if err := fn(fd, name, st); err != nil {
		if errors.Is(err, fs.SkipDir) {
			return nil
		}
		return err
	}
	if !st.IsDir() {
		return nil
	}
	names, err := ReadDirNames(fd, name)
	if err != nil {
		return err
	}
	for _, n := range names {
		cfd, err := unix.Openat(fd, n, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since the listing
		}
		if err != nil {
			return &os.PathError{Op: "open", Path: path.Join(name, n), Err: err}
		}
		err = Walk(cfd, path.Join(name, n), fn)
		unix.Close(cfd)
		if err != nil {
			return err
		}
	}
	return nil
}

// TarTree writes the tree fd holds to tw, its root entry named name. Owners are the
// numeric ones on disk; sockets and the like are skipped; hard links are kept as links
// within the tree.
func TarTree(tw *tar.Writer, fd int, name string) error { return tarTree(tw, fd, name, 0, false) }

// TarTreeOneFS is TarTree that stays on the filesystem dev: a directory of another one (a
// mount point: a volume, /proc) is written empty, any other entry of another one left out.
// The root entry itself is left out, as `docker export` does.
func TarTreeOneFS(tw *tar.Writer, fd int, name string, dev uint64) error {
	return tarTree(tw, fd, name, dev, true)
}

// Dev is the device of the filesystem that holds the entry.
func (s *Stat) Dev() uint64 { return s.st.Dev }

// Rdev is the device a device node stands for (0/0 for an overlay whiteout).
func (s *Stat) Rdev() uint64 { return s.st.Rdev }

func tarTree(tw *tar.Writer, fd int, name string, dev uint64, oneFS bool) error {
	type ino struct{ dev, ino uint64 }
	links := map[ino]string{}
	buf := make([]byte, 1<<20)
	return Walk(fd, name, func(fd int, entry string, st *Stat) error {
		if oneFS && entry == name {
			return nil // the root: its entries are the archive's top level
		}
		other := oneFS && st.st.Dev != dev
		if other && !st.IsDir() {
			return nil
		}
		link := ""
		if st.Mode()&fs.ModeSymlink != 0 {
			var err error
			if link, err = Readlink(fd); err != nil {
				return &os.PathError{Op: "readlink", Path: entry, Err: err}
			}
		}
		hdr, err := tar.FileInfoHeader(st, link)
		if err != nil {
			return nil // sockets
		}
		hdr.Name = entry
		if st.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid = int(st.st.Uid), int(st.st.Gid)
		hdr.Uname, hdr.Gname = "", ""
		if st.Mode().IsRegular() && st.st.Nlink > 1 {
			k := ino{st.st.Dev, st.st.Ino}
			if first, seen := links[k]; seen {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[k] = entry
			}
		}
		if other {
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			return fs.SkipDir
		}
		if hdr.Typeflag != tar.TypeReg {
			return tw.WriteHeader(hdr)
		}
		f, err := OpenFile(fd, entry)
		if err != nil {
			return err
		}
		defer f.Close()
		// The size is the open file's: one that grew or shrank since the stat is cut or
		// padded to what the header says rather than corrupting the archive.
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
		if err != nil {
			return err
		}
		if n < hdr.Size {
			_, err = io.CopyBuffer(tw, io.LimitReader(zeros{}, hdr.Size-n), buf)
		}
		return err
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// nameResolve opens one name below a directory fd: never through a symlink, never out.
const nameResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// onlyDots reports whether parts hold nothing but "" and ".": the name before them is the
// last one.
func onlyDots(parts []string) bool {
	for _, q := range parts {
		if q != "" && q != "." {
			return false
		}
	}
	return true
}

// createName makes the missing name c in dirfd: an empty file, returned open O_RDONLY, when
// file, else a directory (fd -1). A name someone else made meanwhile is no error: the
// caller looks it up again. op names what failed.
func createName(dirfd int, c string, file bool) (fd int, op string, err error) {
	if file {
		fd, err := unix.Openat(dirfd, c, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			return fd, "", nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return -1, "create", err
		}
		return -1, "", nil
	}
	if err := unix.Mkdirat(dirfd, c, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, "mkdir", err
	}
	return -1, "", nil
}

// Create resolves p inside root as Open does (symlinks followed inside root, the last one
// too) and creates what is missing: a directory (0755, less the umask) for each missing
// component but the last, and the last as a directory when dir, else an empty file
// (0644). It returns an O_PATH fd of the target, or an O_RDONLY one of a file it created.
//
// Each step is one name on a directory fd held open: mkdirat, or openat with O_CREAT|
// O_EXCL|O_NOFOLLOW, then a lookup that follows no symlink; a symlink met on the way is
// read and followed from the root fd. A container swapping any of the names for a
// symlink meanwhile can only move the target elsewhere inside root.
func Create(root int, p string, dir bool) (int, error) {
	var stack []int // directories walked into below root
	cur := func() int {
		if len(stack) == 0 {
			return root
		}
		return stack[len(stack)-1]
	}
	closeAll := func() {
		for _, fd := range stack {
			unix.Close(fd)
		}
		stack = nil
	}
	fail := func(op string, err error) (int, error) {
		closeAll()
		return -1, &os.PathError{Op: op, Path: p, Err: err}
	}
	rel := relName(p)
	if rel == "." {
		fd, err := unix.Openat(root, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail("open", err)
		}
		return fd, nil
	}
	parts := strings.Split(rel, "/")
	links, retries := 0, 0
	for i := 0; i < len(parts); i++ {
		c := parts[i]
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			if len(stack) > 0 {
				unix.Close(stack[len(stack)-1])
				stack = stack[:len(stack)-1]
			}
			continue
		}
		last := onlyDots(parts[i+1:])
		fd, err := Openat2(cur(), c, unix.O_PATH|unix.O_NOFOLLOW, nameResolve)
		if errors.Is(err, unix.ENOENT) {
			// Create it and look again: the lookup decides what the name is, whoever made it.
			if retries++; retries > 64 {
				return fail("create", unix.EAGAIN)
			}
			ffd, op, err := createName(cur(), c, last && !dir)
			if err != nil {
				return fail(op, err)
			}
			if ffd >= 0 {
				closeAll()
				return ffd, nil
			}
			i--
			continue
		}
		if err != nil {
			return fail("open", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fail("stat", err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := Readlink(fd)
			unix.Close(fd)
			if err != nil {
				return fail("readlink", err)
			}
			if links++; links > 40 {
				return fail("resolve", unix.ELOOP)
			}
			if strings.HasPrefix(target, "/") {
				closeAll()
			}
			parts = append(strings.Split(target, "/"), parts[i+1:]...)
			i = -1
			continue
		case unix.S_IFDIR:
		default:
			if !last {
				unix.Close(fd)
				return fail("open", unix.ENOTDIR)
			}
		}
		if last {
			closeAll()
			return fd, nil
		}
		stack = append(stack, fd)
	}
	// Only "." and ".." were left: the directory reached.
	if len(stack) == 0 {
		fd, err := unix.Openat(root, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail("open", err)
		}
		return fd, nil
	}
	fd := stack[len(stack)-1]
	stack = stack[:len(stack)-1]
	closeAll()
	return fd, nil
}
