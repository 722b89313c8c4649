package reexec

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// CloseInherited closes every descriptor from `from` up that lacks close-on-exec: Go opens
// all of its own with it, so these came from whoever started us (a shell, a service
// manager, a test harness). Left open, they would keep the starter's pipes open in every
// shim and leak through init into every container.
//
// It lists /proc/self/fd with plain syscalls into a buffer on the stack: os's directory
// reading would register the descriptor with the poller and take an 8 KiB buffer that a
// shim or init, which does not collect, would keep.
func CloseInherited(from int) {
	dfd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	var stray [16]int
	n := 0
	more := false // stray is full: list again once these are closed
	var buf [1024]byte
	for {
		m, err := unix.Getdents(dfd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			break
		}
		for b := buf[:m]; len(b) >= 19; {
			// struct linux_dirent64: ino, off, reclen (native order), type, name.
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				break
			}
			fd, ok := atoi(b[19:reclen])
			b = b[reclen:]
			if !ok || fd < from || fd == dfd {
				continue
			}
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
				if n == len(stray) {
					more = true
					continue
				}
				stray[n] = fd
				n++
			}
		}
	}
	unix.Close(dfd)
	for _, fd := range stray[:n] {
		unix.Close(fd)
	}
	if more {
		CloseInherited(from)
	}
}

// atoi reads a dirent's NUL-terminated decimal name.
func atoi(name []byte) (int, bool) {
	v, digits := 0, 0
	for _, c := range name {
		if c == 0 {
			break
		}
		if c < '0' || c > '9' || digits == 9 {
			return 0, false
		}
		v = v*10 + int(c-'0')
		digits++
	}
	return v, digits > 0
}
