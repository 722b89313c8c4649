package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/inroot"
	"golang.org/x/sys/unix"
)

// ExtractOptions tune Extract.
type ExtractOptions struct {
	// MaxEntries refuses a tar with more entries (0: DefaultMaxLayerEntries).
	MaxEntries int
	// Rename maps each entry's name, and a hard link's target, before it is placed; ok
	// false skips the entry (a hard link to a skipped name is refused).
	Rename func(name string) (newName string, ok bool, err error)
	// AsCaller is for copies onto the caller's own files (cp to the host): entries take the
	// caller's owner, xattrs and device nodes are dropped, and directory modes are set
	// last so that a read-only directory still takes its entries.
	AsCaller bool
}

// ExtractInRoot unpacks the tar r into the directory dir of the tree whose root is the fd
// root (a container's root filesystem, taken as "/"). Unlike a layer, the tree is live: its
// owner may swap any directory for a symlink at any moment. So every entry's parent is
// looked up again from root with openat2(RESOLVE_IN_ROOT), and created relative to that
// fd with *at calls that never follow a last component: a symlink is followed as the
// container would follow it, and nothing lands outside root. Whiteout names are ordinary
// names here.
func ExtractInRoot(ctx context.Context, r io.Reader, root int, dir string, opts ExtractOptions) error {
	c := path.Clean("/" + dir)
	x := &extractor{root: root, prefix: strings.TrimPrefix(c, "/"), inRoot: true, asCaller: opts.AsCaller}
	return x.extract(ctx, r, opts)
}

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// Extract unpacks the layer tar r into dir, which must exist. AUFS whiteouts become
// overlayfs whiteouts (a 0/0 character device; an opaque directory gets
// trusted.overlay.opaque=y). Owners, modes, mtimes, xattrs, hard links, symlinks and
// device nodes are kept. Every entry is created relative to a directory fd opened with
// openat2(RESOLVE_BENEATH), so neither "..", an absolute name, a symlink nor a hard link
// can place anything outside dir: such a tar is refused with ErrInvalid.
func Extract(ctx context.Context, r io.Reader, dir string, opts ExtractOptions) error {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(root)
	x := &extractor{root: root}
	return x.extract(ctx, r, opts)
}

func (x *extractor) extract(ctx context.Context, r io.Reader, opts ExtractOptions) error {
	max := opts.MaxEntries
	if max <= 0 {
		max = DefaultMaxLayerEntries
	}
	tr := tar.NewReader(r)
	type dirTimes struct {
		rel          string
		atime, mtime time.Time
		mode         uint32
	}
	var dirs []dirTimes
	buf := make([]byte, 1<<20)
	for n := 1; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %v: %w", err, errdefs.ErrInvalid)
		}
		if n > max {
			return fmt.Errorf("layer has more than %d entries, refusing it as a tar bomb: %w", max, errdefs.ErrInvalid)
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if opts.Rename != nil {
			name, ok, err := opts.Rename(hdr.Name)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			hdr.Name = name
			if hdr.Typeflag == tar.TypeLink {
				target, ok, err := opts.Rename(hdr.Linkname)
				if err != nil || !ok {
					return fmt.Errorf("hard link %q points outside the copy: %w", hdr.Name, errdefs.ErrInvalid)
				}
				hdr.Linkname = target
			}
		}
		rel, err := cleanName(hdr.Name)
		if err != nil {
			return err
		}
		if err := x.entry(hdr, rel, tr, buf); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTimes{rel, hdr.AccessTime, hdr.ModTime, uint32(hdr.Mode) & 0o7777})
		}
	}
	// Directory mtimes last: creating their children changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		fd, err := x.openDir(d.rel, false)
		if err != nil {
			return err
		}
		if x.asCaller {
			err = unix.Chmod(inroot.ProcPath(fd, ""), d.mode)
		}
		if err == nil {
			err = unix.UtimesNano(inroot.ProcPath(fd, ""), timespecs(d.atime, d.mtime))
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("set times of %s: %w", d.rel, err)
		}
	}
	return nil
}

// cleanName turns a tar entry name into a path relative to the layer root ("" for the
// root itself), refusing absolute names and any ".." component.
func cleanName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("layer entry %q has an absolute name: %w", name, errdefs.ErrInvalid)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("layer entry %q escapes the layer through \"..\": %w", name, errdefs.ErrInvalid)
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", nil
	}
	return c, nil
}

type extractor struct {
	root int
	// prefix is the destination inside root ("" for root itself); with inRoot, lookups
	// resolve as if root were "/" instead of refusing to leave root.
	prefix   string
	inRoot   bool
	asCaller bool
}

var procPath = inroot.ProcPath

func timespecs(atime, mtime time.Time) []unix.Timespec {
	if atime.IsZero() {
		atime = mtime
	}
	return []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
}

// openDir opens rel (a directory inside the root) as an O_PATH fd, never leaving the root;
// with create, missing directories are made (0755, as tar does for implied parents).
func (x *extractor) openDir(rel string, create bool) (int, error) {
	name, resolve := path.Join(x.prefix, rel), uint64(unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS)
	if name == "" {
		name = "."
	}
	if x.inRoot {
		resolve = inroot.Resolve
	}
	fd, err := inroot.Openat2(x.root, name, unix.O_PATH|unix.O_DIRECTORY, resolve)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.EXDEV):
		return -1, fmt.Errorf("layer entry under %q resolves outside the layer through a symlink: %w", rel, errdefs.ErrInvalid)
	case errors.Is(err, unix.ENOENT) && create && rel != "":
		parent, base := path.Split(rel)
		pfd, err := x.openDir(strings.TrimSuffix(parent, "/"), true)
		if err != nil {
			return -1, err
		}
		err = unix.Mkdirat(pfd, base, 0o755)
		unix.Close(pfd)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, &os.PathError{Op: "mkdir", Path: rel, Err: err}
		}
		return x.openDir(rel, false)
	case errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ENOENT), errors.Is(err, unix.ELOOP):
		return -1, fmt.Errorf("layer entry under %q: a parent is not a directory (%v): %w", rel, err, errdefs.ErrInvalid)
	}
	return -1, &os.PathError{Op: "openat2", Path: name, Err: err}
}

// clear removes whatever is at base in pfd, unless keepDir and it is a directory.
func clear(pfd int, base string, keepDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if keepDir {
			return nil
		}
		// RemoveAll walks with unlinkat on directory fds and never follows symlinks.
		return os.RemoveAll(procPath(pfd, base))
	}
	return unix.Unlinkat(pfd, base, 0)
}

func (x *extractor) entry(hdr *tar.Header, rel string, r io.Reader, buf []byte) error {
	if rel == "" {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("layer entry %q replaces the layer root: %w", hdr.Name, errdefs.ErrInvalid)
		}
		fd, err := x.openDir("", false)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return x.meta(fd, ".", hdr, -1)
	}
	parent, base := path.Split(rel)
	parent = strings.TrimSuffix(parent, "/")
	if !x.inRoot && strings.HasPrefix(base, whiteoutPrefix) { // a live tree has no whiteouts
		return x.whiteout(hdr, parent, base)
	}
	pfd, err := x.openDir(parent, true)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := clear(pfd, base, true); err != nil {
			return err
		}
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: rel, Err: err}
		}
		return x.meta(pfd, base, hdr, -1)
	case tar.TypeReg, tar.TypeGNUSparse:
		if err := clear(pfd, base, false); err != nil {
			return err
		}
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return &os.PathError{Op: "create", Path: rel, Err: err}
		}
		f := os.NewFile(uintptr(fd), rel)
		defer f.Close()
		if _, err := io.CopyBuffer(f, r, buf); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		return x.meta(pfd, base, hdr, int(f.Fd()))
	case tar.TypeSymlink:
		if err := clear(pfd, base, false); err != nil {
			return err
		}
		// The target is stored as is: it is resolved later inside the container's root,
		// and extraction never follows it (openat2 RESOLVE_BENEATH refuses that).
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return &os.PathError{Op: "symlink", Path: rel, Err: err}
		}
		return x.meta(pfd, base, hdr, -1)
	case tar.TypeLink:
		return x.hardLink(hdr, rel, pfd, base)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if x.asCaller {
			return nil
		}
		if err := clear(pfd, base, false); err != nil {
			return err
		}
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, kind|mode, int(dev)); err != nil {
			return &os.PathError{Op: "mknod", Path: rel, Err: err}
		}
		return x.meta(pfd, base, hdr, -1)
	}
	return nil // pax/GNU extension headers are consumed by archive/tar; others carry nothing
}

// whiteout turns an AUFS whiteout entry (base in parent) into overlayfs' form: an opaque
// directory's xattr, or a 0/0 character device in place of the deleted name.
func (x *extractor) whiteout(hdr *tar.Header, parent, base string) error {
	fd, err := x.openDir(parent, true)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if base == whiteoutOpaque {
		if err := unix.Setxattr(procPath(fd, ""), opaqueXattr, []byte("y"), 0); err != nil {
			return fmt.Errorf("mark %s opaque: %w", parent, err)
		}
		return nil
	}
	name := base[len(whiteoutPrefix):]
	if name == "" || name == "." {
		return fmt.Errorf("layer entry %q is a malformed whiteout: %w", hdr.Name, errdefs.ErrInvalid)
	}
	if err := clear(fd, name, false); err != nil {
		return err
	}
	if err := unix.Mknodat(fd, name, unix.S_IFCHR, 0); err != nil {
		return &os.PathError{Op: "mknod whiteout", Path: path.Join(parent, name), Err: err}
	}
	return nil
}

// hardLink makes base in pfd (the entry rel) a hard link to the entry's target, which must
// already be inside the tree.
func (x *extractor) hardLink(hdr *tar.Header, rel string, pfd int, base string) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link %q: %w", hdr.Name, err)
	}
	if target == "" {
		return fmt.Errorf("hard link %q points at the layer root: %w", hdr.Name, errdefs.ErrInvalid)
	}
	tparent, tbase := path.Split(target)
	tfd, err := x.openDir(strings.TrimSuffix(tparent, "/"), false)
	if err != nil {
		return fmt.Errorf("hard link %q to %q: %w", hdr.Name, hdr.Linkname, err)
	}
	defer unix.Close(tfd)
	if target == rel {
		return nil
	}
	if err := clear(pfd, base, false); err != nil {
		return err
	}
	// Flags 0: a link to a symlink links the symlink itself, never what it points at.
	if err := unix.Linkat(tfd, tbase, pfd, base, 0); err != nil {
		return fmt.Errorf("hard link %q to %q: %v: %w", hdr.Name, hdr.Linkname, err, errdefs.ErrInvalid)
	}
	return nil
}

// chmodNoFollow changes the mode of base in pfd, which must not be a symlink: fchmodat
// would follow one swapped in since base was made.
func chmodNoFollow(pfd int, base string, mode uint32) error {
	fd, err := unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.ELOOP
	}
	return unix.Chmod(procPath(fd, ""), mode)
}

// meta applies owner, mode, xattrs and (for non-directories) times to base in pfd; fd is
// the open file for regular files, else -1. chown goes first: it clears setuid bits.
func (x *extractor) meta(pfd int, base string, hdr *tar.Header, fd int) error {
	symlink := hdr.Typeflag == tar.TypeSymlink
	if x.asCaller {
		return x.callerMeta(pfd, base, hdr, fd)
	}
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: hdr.Name, Err: err}
	}
	if !symlink {
		var err error
		if fd >= 0 {
			err = unix.Fchmod(fd, uint32(hdr.Mode)&0o7777)
		} else {
			err = chmodNoFollow(pfd, base, uint32(hdr.Mode)&0o7777)
		}
		if err != nil {
			return &os.PathError{Op: "chmod", Path: hdr.Name, Err: err}
		}
	}
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		// overlayfs' own xattrs (redirect, metacopy, origin...) would let a layer steer the
		// overlay to other layers' files: only the whiteouts we convert may set them.
		if !ok || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		var err error
		if fd >= 0 {
			err = unix.Fsetxattr(fd, name, []byte(v), 0)
		} else {
			err = unix.Lsetxattr(procPath(pfd, base), name, []byte(v), 0)
		}
		// user.* xattrs are not allowed on symlinks; the kernel says EPERM.
		if err != nil && !(symlink && errors.Is(err, unix.EPERM)) {
			return fmt.Errorf("set xattr %s on %s: %w", name, hdr.Name, err)
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	if err := unix.UtimesNanoAt(pfd, base, timespecs(hdr.AccessTime, hdr.ModTime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "set times", Path: hdr.Name, Err: err}
	}
	return nil
}

// callerMeta is meta for AsCaller: mode and times only; a directory's mode waits until
// its entries are in.
func (x *extractor) callerMeta(pfd int, base string, hdr *tar.Header, fd int) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return nil
	case tar.TypeSymlink:
	default:
		var err error
		if fd >= 0 {
			err = unix.Fchmod(fd, uint32(hdr.Mode)&0o7777)
		} else {
			err = chmodNoFollow(pfd, base, uint32(hdr.Mode)&0o7777)
		}
		if err != nil {
			return &os.PathError{Op: "chmod", Path: hdr.Name, Err: err}
		}
	}
	if err := unix.UtimesNanoAt(pfd, base, timespecs(hdr.AccessTime, hdr.ModTime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "set times", Path: hdr.Name, Err: err}
	}
	return nil
}
