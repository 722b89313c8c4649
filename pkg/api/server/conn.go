package server

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// streamIdle is how long a streamed body (load, import, archive upload) may send
// nothing before its connection is closed (a variable for tests).
var streamIdle = 60 * time.Second

// clientPoll is how often a long operation checks that its client is still connected.
const clientPoll = 250 * time.Millisecond

// opContext lives as long as a long operation may: until the daemon shuts down, the
// caller cancels it, or (conn not nil) the client closes its connection, so a load,
// import, save, build, pull or push stops for nobody and removes its temporary files.
func (s *Server) opContext(conn net.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.shutdown:
			cancel()
		case <-ctx.Done():
		}
	}()
	if conn == nil {
		return ctx, cancel
	}
	stop := watchClient(ctx, conn, cancel)
	return ctx, func() { cancel(); stop() }
}

// watchClient calls gone when the peer of conn closes or resets it, until ctx ends.
// It peeks (MSG_PEEK) without blocking, so it never takes a byte of a body or of a next
// request from fasthttp. Data waiting means the client is there; end-of-file or an
// error means it left.
func watchClient(ctx context.Context, conn net.Conn, gone func()) (stop func()) {
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
		t := time.NewTicker(clientPoll)
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

// idleBody extends the connection's read deadline before each read of a streamed body:
// a body may take as long as it needs while bytes keep coming, but streamIdle of
// silence ends it (and frees the connection) instead of a fixed total time.
type idleBody struct {
	ctx  *fasthttp.RequestCtx
	r    io.Reader
	last time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.last) > time.Second {
		b.last = now
		b.ctx.SetReadDeadline(now.Add(streamIdle))
	}
	return b.r.Read(p)
}

// dropBody ends the connection of a request answered before its body was read (an
// unauthenticated upload), once the answer is sent: as lingerClose, but it reads at
// most 1 MiB of what the client still sends, so closing with unread input does not
// reset the connection before the client reads the answer.
func dropBody(raw net.Conn) fasthttp.HijackHandler {
	return func(c net.Conn) {
		closeWrite(raw)
		c.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.CopyN(io.Discard, c, 1<<20)
	}
}
