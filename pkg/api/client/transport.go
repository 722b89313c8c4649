package client

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
)

// smallBody is the largest request body the direct transport sends: one that a socket's
// buffer takes whole, so that writing it never waits on the daemon's reading it.
const smallBody = 64 << 10

// directTransport sends a request with a small body (or none) to a daemon on this host on
// a connection of its own, written and answered in the calling goroutine; anything else
// goes to net/http's Transport. A CLI process makes one request or a few: the Transport's three
// goroutines a connection (dial, read loop, write loop) and its pool were about 5% of
// `minibox run --rm`'s CPU. A larger body (an import, a build context) keeps the
// Transport, which reads the daemon's answer while it still writes, as an early error
// answer needs.
type directTransport struct {
	dial     func(ctx context.Context) (net.Conn, error)
	fallback http.RoundTripper
}

func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.ContentLength > smallBody || req.ContentLength < 0 || req.ContentLength == 0 && req.Body != nil && req.Body != http.NoBody {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	conn, err := t.dial(ctx)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// As the Transport does: a cancelled request's connection is closed, and its error
	// is the context's.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	if err := req.Write(conn); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &connBody{body: resp.Body, conn: conn, stop: stop, ctx: ctx}
	return resp, nil
}

// connBody is a response's body that closes its connection with it.
type connBody struct {
	body io.ReadCloser
	conn net.Conn
	stop func() bool
	ctx  context.Context
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		err = context.Cause(b.ctx)
	}
	return n, err
}

func (b *connBody) Close() error {
	b.stop()
	b.body.Close()
	return b.conn.Close()
}
