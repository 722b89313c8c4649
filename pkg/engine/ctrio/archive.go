// Package ctrio reads a container's files and figures for the daemon: cp's stat, archive
// and extract and export (through pkg/inroot, from an fd of its root), diff, top, stats, and
// what its logs are kept and shown with.
package ctrio

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/spec"
)

// PathStat describes a path inside a container (cp's X-Minibox-Path-Stat).
type PathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       fs.FileMode `json:"mode"`
	Mtime      string      `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// Rootfs opens a container's root filesystem for fn, as an O_PATH fd: the engine knows
// whether it runs (then through /proc/<pid>/root, RunningRootfs) or not (then its overlay
// mounted privately, StoppedRootfs), and holds the container still meanwhile. Every path
// fn takes from the container must be resolved from that fd (package inroot), never
// joined onto a host path: the container may swap its directories for symlinks at any
// moment.
type Rootfs interface {
	WithRootfs(ctx context.Context, ref string, fn func(root int) error) error
}

// Files reads and writes a container's files: cp's stat, archive and extract, and export.
type Files struct {
	rootfs Rootfs
}

// NewFiles returns the file operations on the containers rootfs opens.
func NewFiles(rootfs Rootfs) *Files { return &Files{rootfs: rootfs} }

// RunningRootfs runs fn with an O_PATH fd of the root of the running process pid.
func RunningRootfs(pid int, fn func(root int) error) error {
	root, err := inroot.OpenRoot(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		return err
	}
	defer unix.Close(root)
	return fn(root)
}

// StoppedRootfs runs fn with an O_PATH fd of a stopped container's filesystem: rootfs's
// overlay and the mounts (tmpfs left out) mounted on target, in a private mount namespace
// of a locked thread that dies afterwards, so nothing is ever mounted on the host.
func StoppedRootfs(rootfs spec.Rootfs, mounts []spec.Mount, target string, fn func(root int) error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its mount namespace die with us
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("private mount namespace: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return err
			}
			if rootfs.Volatile {
				os.RemoveAll(mount.VolatileMarker(rootfs)) // as init does: this upper needs no crash guard
			}
			ov := mount.OverlayMount(rootfs, target)
			if err := unix.Mount(ov.Source, ov.Target, ov.Type, ov.Flags, ov.Data); err != nil {
				return fmt.Errorf("mount the container's filesystem: %w", err)
			}
			root, err := inroot.OpenRoot(target)
			if err != nil {
				return err
			}
			defer unix.Close(root)
			for _, m := range mounts {
				if m.Type == "tmpfs" {
					continue
				}
				// The mount point is looked up inside the root and mounted on through its
				// fd: a volume shared with a running container may hold any symlink.
				fd, err := inroot.Open(root, m.Destination, unix.O_PATH, true)
				if err != nil {
					continue
				}
				err = unix.Mount(m.Source, inroot.ProcPath(fd, ""), "", unix.MS_BIND|unix.MS_REC, "")
				unix.Close(fd)
				if err != nil {
					return fmt.Errorf("mount volume %s: %w", m.Destination, err)
				}
			}
			return fn(root)
		}()
	}()
	return <-errc
}

// openIn opens the container path p (absolute) inside root as an O_PATH fd; follow says
// whether a symlink as the last component is followed.
func openIn(root int, p string, follow bool) (int, error) {
	if !path.IsAbs(p) {
		return -1, errdefs.Invalid(fmt.Sprintf("container path %q must be absolute", p))
	}
	fd, err := inroot.Open(root, p, unix.O_PATH, follow)
	if err != nil {
		return -1, inroot.PathError(err, p)
	}
	return fd, nil
}

func statOf(fd int, name string) (*PathStat, error) {
	fi, err := inroot.Fstat(fd, path.Base(name))
	if err != nil {
		return nil, err
	}
	st := &PathStat{Name: path.Base(name), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime().UTC().Format("2006-01-02T15:04:05.999999999Z07:00")}
	if fi.Mode()&fs.ModeSymlink != 0 {
		st.LinkTarget, _ = inroot.Readlink(fd)
	}
	return st, nil
}

// StatPath describes a path in the container.
func (f *Files) StatPath(ctx context.Context, ref, p string) (*PathStat, error) {
	var st *PathStat
	err := f.rootfs.WithRootfs(ctx, ref, func(root int) error {
		fd, err := openIn(root, p, false)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		st, err = statOf(fd, p)
		return err
	})
	return st, err
}

// ArchivePath writes a tar of the container path p (its base name as the root entry) to w.
func (f *Files) ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error {
	return f.rootfs.WithRootfs(ctx, ref, func(root int) error {
		fd, err := openIn(root, p, follow)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		tw := tar.NewWriter(w)
		base := path.Base(path.Clean(p))
		if base == "/" {
			base = "."
		}
		if err := inroot.TarTree(tw, fd, base); err != nil {
			return err
		}
		return tw.Close()
	})
}

// ExtractArchive unpacks the tar r into the container directory p, which must exist.
func (f *Files) ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error {
	return f.rootfs.WithRootfs(ctx, ref, func(root int) error {
		fd, err := openIn(root, p, true)
		if err != nil {
			if errors.Is(err, errdefs.ErrNotFound) {
				return errdefs.NotFound(fmt.Sprintf("destination %s does not exist in the container", p))
			}
			return err
		}
		st, err := inroot.Fstat(fd, p)
		unix.Close(fd)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			return errdefs.Invalid(fmt.Sprintf("destination %s in the container is not a directory", p))
		}
		// The extractor looks p up again from root for every entry: what was checked here
		// may have been swapped since, and that must still land inside the container.
		if err := image.ExtractInRoot(ctx, r, root, p, image.ExtractOptions{}); err != nil {
			return errdefs.Invalid("extract archive: " + err.Error())
		}
		return nil
	})
}
