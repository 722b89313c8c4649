package server

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/minibox/minibox/pkg/peerwatch"
	"github.com/valyala/fasthttp"
)

// streamIdle is how long a streamed body (load, import, archive upload) may send
// nothing before its connection is closed (a variable for tests).
var streamIdle = 60 * time.Second

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
	stop := peerwatch.Watch(ctx, conn, cancel)
	return ctx, func() { cancel(); stop() }
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
