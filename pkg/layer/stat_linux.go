package layer

import (
	"io/fs"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

type inode struct{ dev, ino uint64 }

type stat struct {
	ino      inode
	uid, gid uint32
	nlink    uint64
	rdev     uint64
}

func statOf(fi fs.FileInfo) stat {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return stat{}
	}
	return stat{ino: inode{uint64(s.Dev), s.Ino}, uid: s.Uid, gid: s.Gid, nlink: uint64(s.Nlink), rdev: uint64(s.Rdev)}
}

func major(dev uint64) uint32 { return unix.Major(dev) }
func minor(dev uint64) uint32 { return unix.Minor(dev) }

// opaque reports overlayfs' opaque-directory mark (trusted.* as root; user.* for
// unprivileged overlays mounted with userxattr).
func opaque(p string) bool {
	buf := make([]byte, 4)
	for _, name := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(p, name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// xattrs returns the extended attributes a layer keeps: everything but overlayfs' own
// bookkeeping, which would describe the build machine's overlay, not the image.
func xattrs(p string) (map[string]string, error) {
	sz, err := unix.Llistxattr(p, nil)
	if err != nil || sz == 0 {
		if err == unix.ENOTSUP || err == unix.EOPNOTSUPP {
			return nil, nil
		}
		return nil, err
	}
	buf := make([]byte, sz)
	sz, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:sz]), "\x00"), "\x00") {
		if name == "" || strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			continue
		}
		vsz, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			continue
		}
		v := make([]byte, vsz)
		vsz, err = unix.Lgetxattr(p, name, v)
		if err != nil {
			continue
		}
		out[name] = string(v[:vsz])
	}
	return out, nil
}
