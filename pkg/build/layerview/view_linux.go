package layerview

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/inroot"
)

// statOf is the raw stat behind fi, from os or from an fd.
func statOf(fi fs.FileInfo) (rdev uint64, uid, gid uint32, ok bool) {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return st.Rdev, st.Uid, st.Gid, true
	case *unix.Stat_t:
		return st.Rdev, st.Uid, st.Gid, true
	}
	return 0, 0, 0, false
}

// IsWhiteout: overlayfs records a deleted lower name as a 0/0 character device.
func IsWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	rdev, _, _, ok := statOf(fi)
	return ok && rdev == 0
}

var opaqueAttrs = []string{"trusted.overlay.opaque", "user.overlay.opaque"}

// IsOpaque reports a directory overlayfs marked opaque (it hides what is below it).
func IsOpaque(p string) bool {
	buf := make([]byte, 2)
	for _, name := range opaqueAttrs {
		if n, err := unix.Lgetxattr(p, name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// isOpaqueFd reads the mark of the directory an O_PATH fd holds (through its /proc/self/fd
// link, which resolves to that very inode).
func isOpaqueFd(fd int) bool {
	buf := make([]byte, 2)
	for _, name := range opaqueAttrs {
		if n, err := unix.Getxattr(inroot.ProcPath(fd, ""), name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// SetOpaque marks the directory p opaque, as overlayfs does for a directory made anew.
func SetOpaque(p string) error {
	return unix.Lsetxattr(p, "trusted.overlay.opaque", []byte("y"), 0)
}

// Owner is fi's uid and gid (0, 0 when unknown).
func Owner(fi fs.FileInfo) (int, int) {
	if _, uid, gid, ok := statOf(fi); ok {
		return int(uid), int(gid)
	}
	return 0, 0
}
