// Package plainfile opens, reads and writes files with plain syscalls. os registers every
// file it opens with the runtime's poller, in vain for a regular file, a device or a
// cgroup control file: four fcntl and an epoll_ctl more than the open. A container's start
// opens dozens (its cgroup's files, its config, init's /etc/passwd), so the start path
// uses these instead.
package plainfile

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens path close-on-exec (perm applies with O_CREAT), with os.Open's error.
func Open(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, perm)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// File is Open as an *os.File (os.NewFile of a blocking descriptor asks one fcntl).
func File(path string, flags int) (*os.File, error) {
	fd, err := Open(path, flags, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadFile reads the whole file at path, as os.ReadFile.
func ReadFile(path string) ([]byte, error) {
	fd, err := Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	// +1: the read that finds the end. Control files report no size: 512 holds any of them.
	b := make([]byte, 0, max(st.Size+1, 512))
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

// ReadFull fills b from fd; a file shorter than b is io.ErrUnexpectedEOF. path names it
// in the error.
func ReadFull(fd int, b []byte, path string) error {
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

// WriteAll writes all of b to fd; an error is the kernel's own (EINVAL, EBUSY from a
// control file), for the caller to wrap.
func WriteAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
