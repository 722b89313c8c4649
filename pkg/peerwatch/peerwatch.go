// Package peerwatch notices that the client of a connection left, for operations that
// outlive their request (a build, a pull, an events stream) and should end with it.
package peerwatch

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Every is how often Watch looks.
const Every = 250 * time.Millisecond

// Watch calls gone when the peer of conn closes or resets it, until ctx ends. It peeks
// (MSG_PEEK) without blocking, so it never takes a byte of a body or of a next request
// from the HTTP server. Data waiting means the client is there; end-of-file or an error
// means it left. stop waits for the watcher to end (after ctx is done).
func Watch(ctx context.Context, conn net.Conn, gone func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(Every)
		defer t.Stop()
		var b [1]byte
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
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
				gone()
				return
			}
		}
	}()
	return func() { <-finished }
}
