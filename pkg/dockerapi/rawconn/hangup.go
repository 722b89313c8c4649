package rawconn

import (
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Hangup reports when the client of c closes its end of the connection entirely. A
// half-close is not leaving: the docker CLI half-closes at once when it has no input to
// send. A unix socket tells the two apart (POLLHUP comes only once both directions are
// shut); over TCP a peer's close looks like a half-close, and only a reset is seen. stop
// ends the watch; it must be called.
func Hangup(c net.Conn) (left <-chan struct{}, stop func()) {
	gone := make(chan struct{})
	noop := func() {}
	c = Unwrap(c)
	sc, ok := c.(syscall.Conn)
	if !ok {
		return gone, noop
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return gone, noop
	}
	// A duplicate, so that the poll never races the connection's own close.
	fd := -1
	if cerr := rc.Control(func(f uintptr) { fd, err = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil || err != nil {
		return gone, noop
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(fd)
		return gone, noop
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer unix.Close(fd)
		// Events 0: only POLLHUP and POLLERR, which poll always reports, wake it.
		fds := []unix.PollFd{{Fd: int32(fd)}, {Fd: int32(wake), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err == unix.EINTR {
				continue
			} else if err != nil {
				return
			}
			if fds[1].Revents != 0 {
				return
			}
			if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
				close(gone)
				return
			}
		}
	}()
	var once sync.Once
	return gone, func() {
		once.Do(func() {
			unix.Write(wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
			<-ended
			unix.Close(wake)
		})
	}
}
