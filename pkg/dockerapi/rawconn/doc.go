// Package rawconn holds what Docker's API needs of its connections below HTTP: the
// placeholder Host that old docker CLIs leave empty on a hijacked request, telling a
// client's hangup from its half-close, and half-closing a stream's output. It knows
// nothing of the routes or the engine.
package rawconn

import "net"

// CloseWrite half-closes c when it can (a TCP or unix connection, or one wrapping it):
// the end of a stream's output, while its input may still come.
func CloseWrite(c net.Conn) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
}

// Listener wraps each connection ln accepts so that its first request gets a Host.
func Listener(ln net.Listener) net.Listener { return hostFixListener{ln} }

// Unwrap is the connection under Listener's wrapper (the socket itself, which pollers
// need), or c.
func Unwrap(c net.Conn) net.Conn {
	if hc, ok := c.(*hostFixConn); ok {
		return hc.Conn
	}
	return c
}
