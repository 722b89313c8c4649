package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
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

// withRootfs runs fn with the container's root filesystem visible at root: a running
// container's through /proc/<pid>/root; a stopped one's overlay mounted in a private mount
// namespace of a locked thread that dies afterwards, so nothing is ever mounted on the
// host. fn must do its file work on the calling goroutine.
func (e *Engine) withRootfs(ctx context.Context, ref string, fn func(root string) error) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	e.cmu.RLock()
	shim := c.shim
	e.cmu.RUnlock()
	if shim != nil {
		return fn(fmt.Sprintf("/proc/%d/root", shim.PID()))
	}
	r := e.snapshot(c)
	lower, err := e.containerLayerDirs(ctx, &r)
	if err != nil {
		return err
	}
	mounts, err := e.specMounts(&r)
	if err != nil {
		return err
	}
	dir := e.ctrDir(r.ID)
	target, err := os.MkdirTemp(filepath.Join(e.Root, "tmp"), "cp-")
	if err != nil {
		return err
	}
	defer os.Remove(target)
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
			rootfs := spec.Rootfs{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"),
				Volatile: r.Request.AutoRemove}
			if rootfs.Volatile {
				os.RemoveAll(mount.VolatileMarker(rootfs)) // as init does: this upper needs no crash guard
			}
			ov := mount.OverlayMount(rootfs, target)
			if err := unix.Mount(ov.Source, ov.Target, ov.Type, ov.Flags, ov.Data); err != nil {
				return fmt.Errorf("mount the container's filesystem: %w", err)
			}
			for _, m := range mounts {
				if m.Type == "tmpfs" {
					continue
				}
				p, err := mount.SecureJoin(target, m.Destination)
				if err != nil {
					return err
				}
				if _, err := os.Stat(p); err != nil {
					continue
				}
				if err := unix.Mount(m.Source, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("mount volume %s: %w", m.Destination, err)
				}
			}
			return fn(target)
		}()
	}()
	return <-errc
}

// resolveIn resolves a container path under root (symlinks stay inside).
func resolveIn(root, p string, follow bool) (string, error) {
	if !path.IsAbs(p) {
		return "", errdefs.Invalid(fmt.Sprintf("container path %q must be absolute", p))
	}
	clean := path.Clean(p)
	if follow || clean == "/" {
		return mount.SecureJoin(root, clean)
	}
	// The last component itself is not followed (cp copies a symlink as a symlink).
	parent, err := mount.SecureJoin(root, path.Dir(clean))
	if err != nil {
		return "", err
	}
	return filepath.Join(parent, path.Base(clean)), nil
}

func statOf(hostPath, name string) (*PathStat, error) {
	fi, err := os.Lstat(hostPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errdefs.NotFound(fmt.Sprintf("no such file or directory in the container: %s", name))
		}
		return nil, err
	}
	st := &PathStat{Name: path.Base(name), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime().UTC().Format("2006-01-02T15:04:05.999999999Z07:00")}
	if fi.Mode()&fs.ModeSymlink != 0 {
		st.LinkTarget, _ = os.Readlink(hostPath)
	}
	return st, nil
}

// StatPath describes a path in the container.
func (e *Engine) StatPath(ctx context.Context, ref, p string) (*PathStat, error) {
	var st *PathStat
	err := e.withRootfs(ctx, ref, func(root string) error {
		hp, err := resolveIn(root, p, false)
		if err != nil {
			return err
		}
		st, err = statOf(hp, p)
		return err
	})
	return st, err
}

// ArchivePath writes a tar of the container path p (its base name as the root entry) to w.
func (e *Engine) ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error {
	return e.withRootfs(ctx, ref, func(root string) error {
		hp, err := resolveIn(root, p, follow)
		if err != nil {
			return err
		}
		if _, err := statOf(hp, p); err != nil {
			return err
		}
		tw := tar.NewWriter(w)
		base := path.Base(path.Clean(p))
		if base == "/" {
			base = "."
		}
		if err := tarTree(tw, hp, base); err != nil {
			return err
		}
		return tw.Close()
	})
}

func tarTree(tw *tar.Writer, hostPath, name string) error {
	return filepath.Walk(hostPath, func(fp string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(hostPath, fp)
		entry := filepath.ToSlash(filepath.Join(name, rel))
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(fp)
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // sockets and the like are skipped
		}
		hdr.Name = entry
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(fp)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
}

// ExtractArchive unpacks the tar r into the container directory p, which must exist.
func (e *Engine) ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error {
	return e.withRootfs(ctx, ref, func(root string) error {
		hp, err := resolveIn(root, p, true)
		if err != nil {
			return err
		}
		fi, err := os.Stat(hp)
		if err != nil {
			return errdefs.NotFound(fmt.Sprintf("destination %s does not exist in the container", p))
		}
		if !fi.IsDir() {
			return errdefs.Invalid(fmt.Sprintf("destination %s in the container is not a directory", p))
		}
		if err := image.Extract(ctx, r, hp, image.ExtractOptions{}); err != nil {
			return errdefs.Invalid("extract archive: " + err.Error())
		}
		return nil
	})
}
