package dockerapi

import (
	"context"
	"net"

	"github.com/minibox/minibox/pkg/dockerapi/rawconn"
	"github.com/minibox/minibox/pkg/peerwatch"
)

// opContext is the context of an operation that outlives its handler (a build, an events
// stream): it ends when the client closes its connection, or the daemon shuts down.
func (s *Server) opContext(conn net.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.ctx)
	stop := peerwatch.Watch(ctx, rawconn.Unwrap(conn), cancel)
	return ctx, func() { cancel(); stop() }
}
