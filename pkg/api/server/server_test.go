package server

import (
	"encoding/json"
	"log/slog"
	"net"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serve runs a server (no engine: only routes that need none are called) in memory.
func serve(t *testing.T, token string) *fasthttp.Client {
	s := New(nil, token, slog.New(slog.DiscardHandler))
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
