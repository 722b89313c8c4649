package userns

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

// WriteMaps writes the uid and gid maps of pid, a process just cloned into a new user
// namespace and not yet running its workload. The writer is root on the host, so the
// kernel allows a gid map without denying setgroups first.
func WriteMaps(pid int, m spec.IDMap) error {
	if err := check(m); err != nil {
		return err
	}
	for _, f := range []string{"uid_map", "gid_map"} {
		p := filepath.Join("/proc", strconv.Itoa(pid), f)
		if err := os.WriteFile(p, []byte(mapLine(m)), 0); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// FD returns an fd of a new user namespace with mapping m, for idmapped mounts. The
// namespace needs a process: a child is cloned into it and stopped by ptrace at its execve
// (so no code of it runs), its namespace opened, and the child killed. Go cannot unshare a
// user namespace itself, being multithreaded.
func FD(m spec.IDMap) (*os.File, error) {
	if err := check(m); err != nil {
		return nil, err
	}
	// The tracer is this thread: it must also be the one that reaps the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.HostID), Size: int(m.Size)}}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"minibox-userns"},
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: ids,
			GidMappings: ids, GidMappingsEnableSetgroups: true, Ptrace: true, Pdeathsig: syscall.SIGKILL}}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start user namespace holder: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "ns", "user"))
	if err != nil {
		return nil, fmt.Errorf("open user namespace: %w", err)
	}
	return f, nil
}

// IDMapMount bind-mounts src (recursively) at dst, idmapped through the user namespace
// usernsFD: an owner k on disk appears as the host ID that k maps to (0 as HostID), which
// the container's namespace maps back to k. So a layer owned by host root is owned by the
// container's root inside, and the disk is never written.
func IDMapMount(src, dst string, usernsFD int) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return &os.PathError{Op: "open_tree", Path: src, Err: err}
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFD)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return &os.PathError{Op: "mount_setattr MOUNT_ATTR_IDMAP", Path: src, Err: err}
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: dst, Err: err}
	}
	return nil
}

// Supported reports whether the filesystem holding dir takes idmapped mounts: it tries one
// on a detached copy of the mount, which vanishes when its fd closes.
func Supported(dir string, usernsFD int) bool {
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFD)}
	return unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr) == nil
}

// Remap makes src appear at dst (an existing empty directory) with its owners shifted into
// m: an idmapped mount when the kernel and src's filesystem support it, else a copy with
// shifted owners. The caller undoes it by Mode: unmount dst, or remove it.
func Remap(src, dst string, m spec.IDMap) (Mode, error) {
	ns, err := FD(m)
	if err == nil {
		defer ns.Close()
		if Supported(src, int(ns.Fd())) {
			if err := IDMapMount(src, dst, int(ns.Fd())); err != nil {
				return 0, err
			}
			return IDMapped, nil
		}
	}
	if err := ChownCopy(src, dst, m); err != nil {
		return 0, err
	}
	return Copied, nil
}

// ChownCopy copies the tree at src into dst (created if missing) keeping modes, times,
// symlinks, hard links, device nodes and xattrs, with every owner shifted into m.
func ChownCopy(src, dst string, m spec.IDMap) error {
	if err := check(m); err != nil {
		return err
	}
	// finish gives a copied entry its shifted owner, then its mode (chown clears set-id
	// bits), xattrs (overlay's opaque markers among them) and times.
	finish := func(from, to string, st *unix.Stat_t, mode uint32) error {
		if err := unix.Lchown(to, int(Shift(m, st.Uid)), int(Shift(m, st.Gid))); err != nil {
			return &os.PathError{Op: "lchown", Path: to, Err: err}
		}
		link := st.Mode&unix.S_IFMT == unix.S_IFLNK
		if !link {
			if err := unix.Chmod(to, mode); err != nil {
				return &os.PathError{Op: "chmod", Path: to, Err: err}
			}
		}
		if err := copyXattrs(from, to); err != nil {
			return err
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, to, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "utimensat", Path: to, Err: err}
		}
		return nil
	}
	links := map[[2]uint64]string{} // (dev, ino) of multiply-linked files -> first copy
	var dirs []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		mode := st.Mode & 0o7777
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := os.Mkdir(to, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs = append(dirs, p) // modes and times after their content is written
		case unix.S_IFREG:
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				return os.Link(first, to) // owner and mode come with the inode
			}
			if st.Nlink > 1 {
				links[key] = to
			}
			if err := copyFile(p, to); err != nil {
				return err
			}
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
		default: // devices, fifos, sockets
			if err := unix.Mknod(to, st.Mode, int(st.Rdev)); err != nil {
				return &os.PathError{Op: "mknod", Path: to, Err: err}
			}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return finish(p, to, &st, mode)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s with owners shifted: %w", src, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- { // deepest first: setting times of a parent last
		p := dirs[i]
		rel, _ := filepath.Rel(src, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		if err := finish(p, filepath.Join(dst, rel), &st, st.Mode&0o7777); err != nil {
			return fmt.Errorf("copy %s with owners shifted: %w", src, err)
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyXattrs copies every extended attribute; a filesystem without them is no error.
func copyXattrs(from, to string) error {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(from, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return &os.PathError{Op: "llistxattr", Path: from, Err: err}
	}
	val := make([]byte, 64<<10)
	for _, name := range splitNul(buf[:n]) {
		v, err := unix.Lgetxattr(from, name, val)
		if err != nil {
			return &os.PathError{Op: "lgetxattr " + name, Path: from, Err: err}
		}
		if err := unix.Lsetxattr(to, name, val[:v], 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return &os.PathError{Op: "lsetxattr " + name, Path: to, Err: err}
		}
	}
	return nil
}

func splitNul(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i > 0 {
			out = append(out, string(b[:i]))
		}
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}
