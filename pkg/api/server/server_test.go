package server

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serve runs a server in memory over services that fail every call: these tests decide at
// the edge, before any service is reached.
func serve(t *testing.T, token string) *fasthttp.Client {
	f := &fakeServices{err: errFake}
	s := New(f, Backing{fakeVolumes{f}, fakeNetworks{f}, f, f, f, f, f, f, f}, token, slog.New(slog.DiscardHandler))
	ln := fasthttputil.NewInmemoryListener()
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(0); ln.Close() })
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

func get(t *testing.T, c *fasthttp.Client, path string, headers map[string]string) (int, string, *fasthttp.ResponseHeader) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://minibox" + path)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	var h fasthttp.ResponseHeader
	resp.Header.CopyTo(&h)
	return resp.StatusCode(), string(resp.Body()), &h
}

func TestTokenCases(t *testing.T) {
	c := serve(t, "s3cret")
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"none", nil, 401},
		{"wrong bearer", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bare token", map[string]string{"Authorization": "s3cret"}, 401},
		{"prefix of the token", map[string]string{"Authorization": "Bearer s3cre"}, 401},
		{"bearer", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"bearer, any case", map[string]string{"Authorization": "bearer s3cret"}, 200},
		{"x-api-token", map[string]string{"X-API-Token": "s3cret"}, 200},
		{"wrong x-api-token", map[string]string{"X-API-Token": "s3cret2"}, 401},
	} {
		for _, path := range []string{"/ping", "/version"} {
			status, body, h := get(t, c, path, tc.headers)
			if status != tc.status {
				t.Errorf("%s %s: status %d, want %d", tc.name, path, status, tc.status)
			}
			if status == 401 {
				var e struct{ Error string }
				if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
					t.Errorf("%s: 401 body %q is not a JSON error", tc.name, body)
				}
				if got := string(h.Peek("WWW-Authenticate")); got != `Bearer realm="minibox"` {
					t.Errorf("%s: WWW-Authenticate %q", tc.name, got)
				}
			}
		}
	}
}

func TestNoTokenAndErrors(t *testing.T) {
	c := serve(t, "")
	if status, body, h := get(t, c, "/ping", nil); status != 200 || body != "Daemon is running" || string(h.Peek("X-Content-Type-Options")) != "nosniff" {
		t.Fatalf("ping: %d %q", status, body)
	}
	if status, body, _ := get(t, c, "/nope", nil); status != 404 || body == "" || body[0] != '{' {
		t.Fatalf("unknown route: %d %q", status, body)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://minibox/version")
	req.Header.SetMethod("DELETE")
	c.Do(req, resp)
	if resp.StatusCode() != 405 {
		t.Fatalf("DELETE /version: %d", resp.StatusCode())
	}
}

func TestBodyLimits(t *testing.T) {
	c := serve(t, "")
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://minibox/volumes/create")
	req.Header.SetMethod("POST")
	req.SetBody(make([]byte, 2<<20)) // over the 1 MiB default
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 413 {
		t.Fatalf("2 MiB body: status %d %s", resp.StatusCode(), resp.Body())
	}
}

// rawRequest writes head on a new connection to ln and returns the status line of the
// answer (or the read error), waiting at most wait.
func rawRequest(t *testing.T, ln *fasthttputil.InmemoryListener, head string, wait time.Duration) (string, error) {
	t.Helper()
	c, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func serveRaw(t *testing.T, token string) (*Server, *fasthttputil.InmemoryListener) {
	s := New(nil, Backing{}, token, slog.New(slog.DiscardHandler))
	ln := fasthttputil.NewInmemoryListener()
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(0); ln.Close() })
	return s, ln
}

// An upload without a token is answered 401 from its headers: the daemon never waits
// for a body (before, fasthttp waited for the first 8 KiB of it, up to 24 h).
func TestUnauthenticatedBodyIsNotAwaited(t *testing.T) {
	_, ln := serveRaw(t, "s3cret")
	for _, head := range []string{
		"POST /images/load HTTP/1.1\r\nHost: m\r\nContent-Length: 100000000\r\n\r\n",
		"PUT /containers/archive?id=x&path=/ HTTP/1.1\r\nHost: m\r\nContent-Length: 100000000\r\n\r\n",
		"POST /images/import?name=x HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /containers/run HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer nope\r\nContent-Length: 4000\r\n\r\n{",
	} {
		// A generous wait: the answer comes at once, the old code never answered.
		line, err := rawRequest(t, ln, head, 30*time.Second)
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 401") {
			t.Errorf("%q: answer %q, %v", strings.SplitN(head, "\r\n", 2)[0], line, err)
		}
	}
}

// A streamed body that stops sending is cut off after streamIdle of silence, not after
// a fixed total (24 h before).
func TestStreamedBodyIdleTimeout(t *testing.T) {
	old := streamIdle
	streamIdle = 500 * time.Millisecond
	t.Cleanup(func() { streamIdle = old })
	s, ln := serveRaw(t, "")
	if rt := s.headerReceived(headerFor(t, "POST /images/load HTTP/1.1\r\nHost: m\r\nContent-Length: 100000000\r\n\r\n")).ReadTimeout; rt != streamIdle {
		t.Errorf("archive route read timeout %v, want %v", rt, streamIdle)
	}
	got := make(chan error, 1)
	s.http.Handler = func(ctx *fasthttp.RequestCtx) {
		_, err := io.ReadAll(bodyReader(ctx))
		got <- err
	}
	c, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /images/load HTTP/1.1\r\nHost: m\r\nContent-Length: 100000000\r\n\r\n")
	c.Write(make([]byte, 16<<10)) // past fasthttp's first read, then nothing
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("a stalled body read to its end")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a stalled body kept its connection")
	}
}

func headerFor(t *testing.T, head string) *fasthttp.RequestHeader {
	var h fasthttp.RequestHeader
	if err := h.Read(bufio.NewReader(strings.NewReader(head))); err != nil {
		t.Fatal(err)
	}
	return &h
}

// Bad input on the host-path and auth routes is a 400 naming the field, decided before
// anything is opened or any registry is contacted.
func TestPathAndAuthInput(t *testing.T) {
	c := serve(t, "")
	for _, tc := range []struct{ method, uri, body, field string }{
		{"POST", "/images/import?name=x&path=%2Ftmp%2Fa%00b", "", "path"},
		{"POST", "/images/load?path=%2Ftmp%2F%00", "", "path"},
		{"POST", "/images/save?image=x&path=%2Ftmp%2F%00", "", "path"},
		{"POST", "/images/load?path=rel.tar", "", "path"},
		{"POST", "/auth", "null", "registry"},
		{"POST", "/auth", `{"username":"u","password":"p"}`, "registry"},
		{"POST", "/auth", "", "body"},
	} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://minibox" + tc.uri)
		req.Header.SetMethod(tc.method)
		req.SetBodyString(tc.body)
		if err := c.Do(req, resp); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode() != 400 || !strings.Contains(string(resp.Body()), tc.field) {
			t.Errorf("%s %s %q: %d %s", tc.method, tc.uri, tc.body, resp.StatusCode(), resp.Body())
		}
	}
}
