package reexec

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInherited closes every descriptor from `from` up that lacks close-on-exec: Go opens
// all of its own with it, so these came from whoever started us (a shell, a service
// manager, a test harness). Left open, they would keep the starter's pipes open in every
// shim and leak through init into every container.
func CloseInherited(from int) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	dfd := int(d.Fd())
	var stray []int
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < from || fd == dfd {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			stray = append(stray, fd)
		}
	}
	d.Close()
	for _, fd := range stray {
		unix.Close(fd)
	}
}
