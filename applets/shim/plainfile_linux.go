package shim

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// openPlain opens path for reading, a descriptor the runtime's poller never sees: os.Open
// tries to register every file it opens with it, in vain for a file: four fcntl and an
// epoll_ctl more than the open.
func openPlain(path string) (int, error) { return openPlainFlags(path, unix.O_RDONLY) }

// openPlainFlags is openPlain with open's flags (O_CLOEXEC added).
func openPlainFlags(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// readFull fills b from fd; a file shorter than b is io.ErrUnexpectedEOF.
func readFull(fd int, b []byte, path string) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return &os.PathError{Op: "read", Path: path, Err: io.ErrUnexpectedEOF}
		}
		b = b[n:]
	}
	return nil
}

// readPlain reads the whole file at path (os.ReadFile without the poller).
func readPlain(path string) ([]byte, error) {
	fd, err := openPlain(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	b := make([]byte, 0, st.Size+1) // +1: the read that finds the end
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}
