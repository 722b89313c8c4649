package dockerapi

import (
	"context"
	"net"

	"github.com/minibox/minibox/pkg/peerwatch"
)

// opContext is the context of an operation that outlives its handler (a build, an events
// stream): it ends when the client closes its connection, or the daemon shuts down.
func (s *Server) opContext(conn net.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.ctx)
	if hc, ok := conn.(*hostFixConn); ok {
		conn = hc.Conn
	}
	stop := peerwatch.Watch(ctx, conn, cancel)
	return ctx, func() { cancel(); stop() }
}
