package reexec

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseInherited: descriptors without close-on-exec go, more than one listing's worth;
// those with it stay.
func TestCloseInherited(t *testing.T) {
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(null)
	var strays []int
	from := -1
	for range 40 {
		fd, err := unix.Dup(null) // without close-on-exec
		if err != nil {
			t.Fatal(err)
		}
		strays = append(strays, fd)
		if from < 0 || fd < from {
			from = fd
		}
	}
	keep, err := unix.FcntlInt(uintptr(null), unix.F_DUPFD_CLOEXEC, from)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(keep)
	CloseInherited(from)
	for _, fd := range strays {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			unix.Close(fd)
			t.Errorf("fd %d is still open", fd)
		}
	}
	if _, err := unix.FcntlInt(uintptr(keep), unix.F_GETFD, 0); err != nil {
		t.Errorf("close-on-exec fd %d: %v", keep, err)
	}
}
