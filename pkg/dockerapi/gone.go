package dockerapi

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// clientPoll is how often a long stream (a build, events) looks whether its client left.
const clientPoll = 250 * time.Millisecond

// opContext is the context of an operation that outlives its handler (a build, an events
// stream): it ends when the client closes its connection, or the daemon shuts down.
func (s *Server) opContext(conn net.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.ctx)
	if hc, ok := conn.(*hostFixConn); ok {
		conn = hc.Conn
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return ctx, cancel
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return ctx, cancel
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(clientPoll)
		defer t.Stop()
		var b [1]byte
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// MSG_PEEK without blocking: takes no byte from fasthttp; end-of-file or an
			// error means the client left, waiting data or EAGAIN that it is there.
			left := false
			cerr := rc.Control(func(fd uintptr) {
				n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
				switch {
				case err == nil:
					left = n == 0
				case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
				default:
					left = true
				}
			})
			if left || cerr != nil {
				cancel()
				return
			}
		}
	}()
	return ctx, func() { cancel(); <-finished }
}
