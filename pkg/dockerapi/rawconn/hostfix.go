package rawconn

import (
	"bytes"
	"net"
)

// The docker CLI (20.10 and older) sends "Host: " with no value on the connection it
// dials for a hijacked request (attach, exec start) over a unix socket. fasthttp refuses
// an HTTP/1.1 request without a host, so the first header block of each connection gets
// a placeholder host; nothing after it is touched (it may be a container's stdin).

// hostFixListener wraps each accepted connection in a hostFixConn.
type hostFixListener struct{ net.Listener }

func (l hostFixListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &hostFixConn{Conn: c}, nil
}

// maxFirstHeader bounds what is held back while looking for the end of the first header.
const maxFirstHeader = 64 << 10

type hostFixConn struct {
	net.Conn
	done    bool
	pending []byte
}

func (c *hostFixConn) Read(p []byte) (int, error) {
	if !c.done {
		c.done = true
		buf := make([]byte, 0, 4096)
		var err error
		for !bytes.Contains(buf, []byte("\r\n\r\n")) && len(buf) < maxFirstHeader {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			var n int
			n, err = c.Conn.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				break
			}
		}
		c.pending = fixHost(buf)
		if len(c.pending) == 0 && err != nil {
			return 0, err
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// fixHost gives an empty Host header of the first header block a value.
func fixHost(b []byte) []byte {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return b
	}
	head := b[:end+2]
	for _, empty := range [][]byte{[]byte("\r\nHost: \r\n"), []byte("\r\nHost:\r\n"), []byte("\r\nhost: \r\n")} {
		if i := bytes.Index(head, empty); i >= 0 {
			out := make([]byte, 0, len(b)+8)
			out = append(out, b[:i]...)
			out = append(out, "\r\nHost: docker\r\n"...)
			return append(out, b[i+len(empty):]...)
		}
	}
	return b
}

// CloseWrite half-closes a TCP or unix connection (the end of a stream's output).
func (c *hostFixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
