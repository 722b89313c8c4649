package boxinit

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
)

// attachIDMapped puts the shim's idmapped mounts (MsgIDMapped) into our mount namespace
// and points s at them. Our root maps to an unprivileged host uid that cannot walk the
// data root, so nothing is reached by path: a tmpfs made here (owned by us) goes over our
// working directory (the container directory, inherited from the shim), each idmapped mount is attached under it, and s's paths become
// /proc/self/fd/<tmpfs>/..., s.Dir included, so the rootfs is mounted and pivoted to
// inside that tmpfs. The returned fd must stay open until pivot_root.
func attachIDMapped(s *spec.Spec, m *shimapi.InitMsg, files []*os.File) (*os.File, error) {
	if m.Type != shimapi.MsgIDMapped {
		return nil, fmt.Errorf("expected the idmapped mounts, got %q with %d files", m.Type, len(files))
	}
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", "0700"); err != nil {
		return nil, fmt.Errorf("fsconfig tmpfs: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("fsconfig tmpfs: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	stage := os.NewFile(uintptr(mfd), "idmap-stage")
	fail := func(err error) (*os.File, error) { stage.Close(); return nil, err }
	// An empty target path is the working directory itself: no lookup, so no search
	// permission on the (host root's, 0700) directory is needed.
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fail(fmt.Errorf("move_mount staging tmpfs: %w", err))
	}
	base := "/proc/self/fd/" + strconv.Itoa(mfd)
	nLower := len(s.Rootfs.Lower)
	next := 0
	mapped := make([]string, len(m.IDMapped))
	for i, name := range m.IDMapped {
		if name == "" {
			continue
		}
		if next >= len(files) {
			return fail(fmt.Errorf("idmapped mounts: %d files for %d names", len(files), len(m.IDMapped)))
		}
		f := files[next]
		next++
		target := base + "/" + strconv.Itoa(i)
		fi, err := f.Stat()
		if err != nil {
			return fail(err)
		}
		if fi.IsDir() {
			err = os.Mkdir(target, 0o700)
		} else {
			var t *os.File
			if t, err = os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600); err == nil {
				t.Close()
			}
		}
		if err != nil {
			return fail(err)
		}
		if err := unix.MoveMount(int(f.Fd()), "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fail(&os.PathError{Op: "move_mount idmapped", Path: name, Err: err})
		}
		mapped[i] = target
	}
	for i := range s.Rootfs.Lower {
		if mapped[i] != "" {
			s.Rootfs.Lower[i] = mapped[i]
		}
	}
	if dir := mapped[nLower]; dir != "" {
		in := func(p string) string {
			if rest, ok := strings.CutPrefix(p, s.Dir+"/"); ok && p != "" {
				return dir + "/" + rest
			}
			return p
		}
		s.Rootfs.Upper, s.Rootfs.Work = in(s.Rootfs.Upper), in(s.Rootfs.Work)
		s.HostsPath, s.ResolvPath, s.HostnamePath = in(s.HostsPath), in(s.ResolvPath), in(s.HostnamePath)
	}
	v := nLower + 1
	for j := range s.Mounts {
		if s.Mounts[j].Type == "tmpfs" {
			continue
		}
		if mapped[v] != "" {
			s.Mounts[j].Source = mapped[v]
		}
		v++
	}
	if err := os.Mkdir(base+"/rootfs", 0o755); err != nil {
		return fail(err)
	}
	s.Dir = base // the rootfs is mounted at <s.Dir>/rootfs, inside the staging tmpfs
	return stage, nil
}
