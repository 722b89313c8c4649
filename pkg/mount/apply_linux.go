package mount

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/inroot"
)

// Apply runs the plan in order. It must run in a private mount namespace (init's); the
// first error stops it, naming the step.
func Apply(plan []Mount) error {
	root := rootFD{fd: -1}
	defer root.close()
	for _, m := range plan {
		if err := apply(m, &root); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	return nil
}

// rootFD is the root fd of the steps inside one root, opened by its path once for all of
// them (some forty in a container's plan) rather than for each.
type rootFD struct {
	dir string
	fd  int
}

func (r *rootFD) open(dir string) (int, error) {
	if r.fd >= 0 && r.dir == dir {
		return r.fd, nil
	}
	r.close()
	fd, err := inroot.OpenRoot(dir)
	if err != nil {
		return -1, err
	}
	r.dir, r.fd = dir, fd
	return fd, nil
}

func (r *rootFD) close() {
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

func apply(m Mount, root *rootFD) error {
	if m.Root != "" && m.Kind != KindPivot {
		rfd, err := root.open(m.Root)
		if err != nil {
			return err
		}
		if path.Clean("/"+m.Target) == "/" {
			// A mount on the root itself covers what the fd holds: the next step
			// opens the root afresh.
			defer root.close()
		}
		return applyIn(m, rfd)
	}
	root.close() // a host path or a pivot: what follows finds its root anew
	target := m.Target
	switch m.Kind {
	case KindPivot:
		return Pivot(m.Root)
	case KindSymlink, KindMask, KindReadonly, KindCopyUp:
		return errors.New("needs a root")
	}
	if m.Type == "overlay" && len(m.Data) > 3000 {
		// mount(2) takes one page of options; 128 layers do not fit. The new mount API
		// takes each lower layer as its own option (Linux 6.8+).
		return overlayFsconfig(m.Data, target)
	}
	return mountAt(m, target, func() (string, error) { return target, nil })
}

// mountAt is m's mount(2) on target, then the read-only remount a read-only bind needs,
// on the path mounted returns (the new mount's root).
func mountAt(m Mount, target string, mounted func() (string, error)) error {
	flags := m.Flags
	if flags&unix.MS_BIND != 0 && flags&unix.MS_REMOUNT == 0 {
		flags &^= unix.MS_RDONLY // ignored on a new bind: remounted below
	}
	if err := unix.Mount(m.Source, target, m.Type, flags, m.Data); err != nil {
		return &os.PathError{Op: "mount " + m.Type, Path: m.Target, Err: err}
	}
	if m.Flags&unix.MS_BIND != 0 && m.Flags&unix.MS_RDONLY != 0 && m.Flags&unix.MS_REMOUNT == 0 {
		p, err := mounted()
		if err != nil {
			return err
		}
		return remountRO(p, m.Flags&(unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC))
	}
	return nil
}

// applyIn runs a step whose target is inside m.Root, the new root filesystem, which a
// container may have changed (a volume shared with a running container, or written by an
// earlier run), open as rfd. The target is resolved from rfd with the kernel's help (openat2
// RESOLVE_IN_ROOT), created one name at a time on fds (inroot.Create), and acted on
// through that fd: a mount goes onto /proc/self/fd/<fd>, the very inode resolved, so a
// name swapped for a symlink between the lookup and the mount cannot lead it outside.
func applyIn(m Mount, rfd int) error {
	var err error
	switch m.Kind {
	case KindSymlink:
		dfd, err := inroot.Create(rfd, path.Dir(path.Clean("/"+m.Target)), true)
		if err != nil {
			return err
		}
		defer unix.Close(dfd)
		name := path.Base(path.Clean("/" + m.Target))
		if err := unix.Unlinkat(dfd, name, 0); errors.Is(err, unix.EISDIR) {
			unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR) // only if empty, as os.Remove
		}
		if err := unix.Symlinkat(m.Source, dfd, name); err != nil {
			return &os.PathError{Op: "symlink", Path: m.Target, Err: err}
		}
		return nil
	case KindMask:
		fd, err := inroot.Open(rfd, m.Target, unix.O_PATH, true)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return mask(fd, m.Target)
	case KindReadonly:
		fd, err := inroot.Open(rfd, m.Target, unix.O_PATH, true)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		p := inroot.ProcPath(fd, "")
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return &os.PathError{Op: "bind", Path: m.Target, Err: err}
		}
		return remountIn(rfd, m.Target, fd, 0)
	case KindCopyUp:
		return copyUp(m.Root, m.Target, m.Source)
	}
	var fd int
	if m.Flags&unix.MS_REMOUNT != 0 {
		fd, err = inroot.Open(rfd, m.Target, unix.O_PATH, true)
	} else {
		dir := true
		if m.Flags&unix.MS_BIND != 0 {
			fi, err := os.Stat(m.Source)
			if err != nil {
				return err
			}
			dir = fi.IsDir()
		}
		fd, err = inroot.Create(rfd, m.Target, dir)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if m.Type == "overlay" && len(m.Data) > 3000 {
		return overlayFsconfig(m.Data, inroot.ProcPath(fd, ""))
	}
	nfd := -1
	defer func() {
		if nfd >= 0 {
			unix.Close(nfd)
		}
	}()
	return mountAt(m, inroot.ProcPath(fd, ""), func() (string, error) {
		nfd, err = reopenMounted(rfd, m.Target, fd)
		return inroot.ProcPath(nfd, ""), err
	})
}

// reopenMounted opens the root of the mount just made on before's inode. The fd before
// still names the covered directory, so the target is looked up again from the root fd;
// it must come out as the root of another mount than before's, else something was
// swapped in meanwhile and a remount there would hit the wrong mount.
func reopenMounted(rfd int, target string, before int) (int, error) {
	fd, err := inroot.Open(rfd, target, unix.O_PATH, true)
	if err != nil {
		return -1, err
	}
	var b, a unix.Statx_t
	if err := unix.Statx(before, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &b); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "statx", Path: target, Err: err}
	}
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &a); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "statx", Path: target, Err: err}
	}
	if a.Mnt_id == b.Mnt_id || a.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		unix.Close(fd)
		return -1, &os.PathError{Op: "remount", Path: target, Err: errors.New("the target changed while it was mounted")}
	}
	return fd, nil
}

// remountIn remounts read-only the mount just made on fd's inode.
func remountIn(rfd int, target string, fd int, keep uintptr) error {
	nfd, err := reopenMounted(rfd, target, fd)
	if err != nil {
		return err
	}
	defer unix.Close(nfd)
	return remountRO(inroot.ProcPath(nfd, ""), keep)
}

func remountRO(target string, keep uintptr) error {
	// A read-only remount must keep the flags the kernel locked on the original mount.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err == nil {
		for _, f := range []struct{ st, ms uintptr }{
			{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		} {
			if uintptr(st.Flags)&f.st != 0 {
				keep |= f.ms
			}
		}
	}
	flags := unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | keep
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount read-only", Path: target, Err: err}
	}
	return nil
}

// mask hides what fd holds: an empty read-only tmpfs over a directory, /dev/null over
// anything else.
func mask(fd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: name, Err: err}
	}
	target := inroot.ProcPath(fd, "")
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = unix.Mount("tmpfs", target, "tmpfs", unix.MS_RDONLY, "size=0")
	} else {
		err = unix.Mount("/dev/null", target, "", unix.MS_BIND, "")
	}
	if err != nil {
		return &os.PathError{Op: "mask", Path: name, Err: err}
	}
	return nil
}

func overlayFsconfig(data, target string) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return &os.PathError{Op: "fsopen overlay", Path: target, Err: err}
	}
	defer unix.Close(fd)
	for _, opt := range strings.Split(data, ",") {
		k, v, _ := strings.Cut(opt, "=")
		if k == "lowerdir" {
			for _, l := range strings.Split(v, ":") {
				if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
					return &os.PathError{Op: "fsconfig lowerdir+", Path: l, Err: err}
				}
			}
			continue
		}
		if err := unix.FsconfigSetString(fd, k, v); err != nil {
			return &os.PathError{Op: "fsconfig " + k, Path: v, Err: err}
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return &os.PathError{Op: "fsconfig create overlay", Path: target, Err: err}
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "fsmount overlay", Path: target, Err: err}
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount overlay", Path: target, Err: err}
	}
	return nil
}

// Pivot makes root the root directory of this mount namespace and detaches the old one.
// On a ramfs root (an initramfs) pivot_root fails with EINVAL: move the mount onto / and
// chroot instead, as runc's --no-pivot does.
func Pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
	// drops it without needing a directory for it inside the container.
	err := unix.PivotRoot(".", ".")
	if err == nil {
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return &os.PathError{Op: "unmount old root", Path: root, Err: err}
		}
		return unix.Chdir("/")
	}
	if !errors.Is(err, unix.EINVAL) {
		return &os.PathError{Op: "pivot_root", Path: root, Err: err}
	}
	if err := unix.Mount(root, "/", "", unix.MS_MOVE, ""); err != nil {
		return &os.PathError{Op: "move mount", Path: root, Err: err}
	}
	if err := unix.Chroot("."); err != nil {
		return &os.PathError{Op: "chroot", Path: root, Err: err}
	}
	return unix.Chdir("/")
}

// SecureJoin resolves path inside root as if root were "/": ".." and symlinks (absolute ones
// included) never leave root. Missing components are joined as they are.
func SecureJoin(root, path string) (string, error) {
	var resolved string // inside root, always clean and absolute
	rest := filepath.Clean("/" + path)
	for links := 0; rest != "" && rest != "/"; {
		rest = strings.TrimPrefix(rest, "/")
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		if tail != "" {
			rest = "/" + tail
		}
		if comp == "" || comp == "." {
			continue
		}
		if comp == ".." {
			resolved = filepath.Dir("/" + resolved)
			if resolved == "/" {
				resolved = ""
			}
			continue
		}
		next := resolved + "/" + comp
		fi, err := os.Lstat(root + next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if links++; links > 255 {
			return "", &os.PathError{Op: "resolve", Path: path, Err: unix.ELOOP}
		}
		dest, err := os.Readlink(root + next)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = resolved + "/" + dest // relative to the link's directory
		}
		resolved, rest = "", filepath.Clean("/"+dest+rest)
	}
	return filepath.Join(root, resolved), nil
}

// copyUp fills the empty volume dir with what the image has at target in root (Docker's
// rule for a new volume). A volume with content, or a missing target, is left alone. The
// image side is resolved from a root fd with openat2(RESOLVE_IN_ROOT) and read through
// fds, the volume side written with *at calls that never follow a symlink: a volume shared
// with a running container may have any of its names swapped for a symlink meanwhile, and
// nothing of the host may be read into it nor written through it.
func copyUp(root, target, dir string) error {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	if names, err := inroot.ReadDirNames(dfd, dir); err != nil || len(names) > 0 {
		return err
	}
	rfd, err := inroot.OpenRoot(root)
	if err != nil {
		return err
	}
	defer unix.Close(rfd)
	sfd, err := inroot.Open(rfd, target, unix.O_PATH|unix.O_DIRECTORY, true)
	if err != nil {
		return nil // missing, or no directory: nothing to copy
	}
	defer unix.Close(sfd)
	if err := copyTree(sfd, dfd, target); err != nil {
		return err
	}
	st, err := inroot.Fstat(sfd, target)
	if err != nil {
		return err
	}
	return own(dfd, ".", st, dfd)
}

// copyTree copies the directory sfd holds into the directory dfd holds.
func copyTree(sfd, dfd int, name string) error {
	names, err := inroot.ReadDirNames(sfd, name)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := copyEntry(sfd, dfd, n, filepath.Join(name, n)); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(sfd, dfd int, n, name string) error {
	cfd, err := unix.Openat(sfd, n, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(cfd)
	st, err := inroot.Fstat(cfd, n)
	if err != nil {
		return err
	}
	ofd := -1
	switch m := st.Mode(); {
	case m&fs.ModeSymlink != 0:
		l, err := inroot.Readlink(cfd)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(l, dfd, n); err != nil {
			return &os.PathError{Op: "symlink", Path: name, Err: err}
		}
	case m.IsDir():
		if err := unix.Mkdirat(dfd, n, 0o700); err != nil {
			return &os.PathError{Op: "mkdir", Path: name, Err: err}
		}
		sub, err := unix.Openat(dfd, n, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		defer unix.Close(sub)
		if err := copyTree(cfd, sub, name); err != nil {
			return err
		}
		ofd = sub
	case m.IsRegular():
		in, err := inroot.OpenFile(cfd, name)
		if err != nil {
			return err
		}
		defer in.Close()
		fd, err := unix.Openat(dfd, n, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return &os.PathError{Op: "create", Path: name, Err: err}
		}
		out := os.NewFile(uintptr(fd), name)
		defer out.Close()
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		ofd = fd
	default:
		return nil // devices, sockets, fifos: not volume content
	}
	return own(dfd, n, st, ofd)
}

// own gives n in dfd the owner and mode of st; fd is n's own fd (-1 for a symlink, whose
// mode does not matter). chown goes first: it clears setuid bits.
func own(dfd int, n string, st *inroot.Stat, fd int) error {
	sys := st.Sys().(*unix.Stat_t)
	if err := unix.Fchownat(dfd, n, int(sys.Uid), int(sys.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: n, Err: err}
	}
	if fd < 0 {
		return nil
	}
	// Through the fd: n itself may have been swapped for a symlink since.
	if err := unix.Chmod(inroot.ProcPath(fd, ""), sys.Mode&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: n, Err: err}
	}
	return nil
}
