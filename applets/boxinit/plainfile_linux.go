package boxinit

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// openFile opens a file of the container's (its /etc/passwd, /etc/group) for reading.
func openFile(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return openPlain(path, unix.O_RDONLY) }
}

// openPlain opens path as a file the runtime's poller never sees. os.Open tries to
// register every file it opens with it, in vain for a file or a device: four fcntl and an
// epoll_ctl more than the open; os.NewFile of a blocking descriptor asks one fcntl.
func openPlain(path string, flags int) (*os.File, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
