package mount

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Apply runs the plan in order. It must run in a private mount namespace (init's); the
// first error stops it, naming the step.
func Apply(plan []Mount) error {
	for _, m := range plan {
		if err := apply(m); err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	return nil
}

func apply(m Mount) error {
	target := m.Target
	if m.Root != "" && m.Kind != KindPivot {
		t, err := SecureJoin(m.Root, m.Target)
		if err != nil {
			return err
		}
		target = t
	}
	switch m.Kind {
	case KindSymlink:
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		os.Remove(target)
		return os.Symlink(m.Source, target)
	case KindMask:
		return mask(target)
	case KindReadonly:
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err := unix.Mount(target, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return &os.PathError{Op: "bind", Path: target, Err: err}
		}
		return remountRO(target, 0)
	case KindCopyUp:
		return copyUp(target, m.Source)
	case KindPivot:
		return Pivot(m.Root)
	}
	if m.Root != "" {
		if err := mountpoint(m, target); err != nil {
			return err
		}
	}
	if m.Type == "overlay" && len(m.Data) > 3000 {
		// mount(2) takes one page of options; 128 layers do not fit. The new mount API
		// takes each lower layer as its own option (Linux 6.8+).
		return overlayFsconfig(m.Data, target)
	}
	flags := m.Flags
	if flags&unix.MS_BIND != 0 && flags&unix.MS_REMOUNT == 0 {
		flags &^= unix.MS_RDONLY // ignored on a new bind: remounted below
	}
	if err := unix.Mount(m.Source, target, m.Type, flags, m.Data); err != nil {
		return &os.PathError{Op: "mount " + m.Type, Path: target, Err: err}
	}
	if m.Flags&unix.MS_BIND != 0 && m.Flags&unix.MS_RDONLY != 0 && m.Flags&unix.MS_REMOUNT == 0 {
		return remountRO(target, m.Flags&(unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC))
	}
	return nil
}

// mountpoint creates what a mount needs at target: a file for a file bind, else a directory.
func mountpoint(m Mount, target string) error {
	if m.Flags&unix.MS_REMOUNT != 0 {
		return nil
	}
	dir := true
	if m.Flags&unix.MS_BIND != 0 {
		fi, err := os.Stat(m.Source)
		if err != nil {
			return err
		}
		dir = fi.IsDir()
	}
	if dir {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
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

func mask(target string) error {
	fi, err := os.Stat(target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = unix.Mount("tmpfs", target, "tmpfs", unix.MS_RDONLY, "size=0")
	} else {
		err = unix.Mount("/dev/null", target, "", unix.MS_BIND, "")
	}
	if err != nil {
		return &os.PathError{Op: "mask", Path: target, Err: err}
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

// copyUp fills the empty volume dir with what the image has at src (Docker's rule for a
// new volume). A volume with content, or a missing src, is left alone.
func copyUp(src, dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, _ := d.Readdirnames(1)
	d.Close()
	if len(names) > 0 {
		return nil
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil
	}
	if err := copyTree(src, dir); err != nil {
		return err
	}
	return chown(dir, fi)
}

func copyTree(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, t := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(s)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, t); err != nil {
				return err
			}
		case fi.IsDir():
			if err := os.Mkdir(t, fi.Mode().Perm()); err != nil {
				return err
			}
			if err := copyTree(s, t); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(s, t, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			continue // devices, sockets, fifos: not volume content
		}
		if err := chown(t, fi); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func chown(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return os.Chmod(path, fi.Mode()&(os.ModePerm|os.ModeSticky|os.ModeSetuid|os.ModeSetgid))
	}
	return nil
}
