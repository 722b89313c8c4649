package server

import (
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/engine"
)

// listFake answers the container list with a fixed body, as the engine's cache does.
type listFake struct {
	fakeServices
	body []byte
}

func (f *listFake) ListContainersJSON(engine.ContainerFilter) ([]byte, error) { return f.body, nil }

func getList(t *testing.T, c *fasthttp.Client, uri string, gzip bool) (enc string, body []byte) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://minibox" + uri)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 200 {
		t.Fatalf("GET %s: %d %s", uri, resp.StatusCode(), resp.Body())
	}
	b, err := resp.BodyUncompressed()
	if err != nil {
		t.Fatal(err)
	}
	return string(resp.Header.ContentEncoding()), b
}

func TestContainerListGzip(t *testing.T) {
	f := &listFake{body: bytes.Repeat([]byte(`{"id":"x"},`), gzipMin)}
	c := serveFake(t, f)
	for _, tc := range []struct {
		uri      string
		gzip     bool
		wantEnc  string
		describe string
	}{
		{"/containers", false, "", "a client that does not accept gzip gets the plain body"},
		{"/containers", true, "gzip", "a client that accepts gzip gets it compressed"},
		{"/containers?status=running", true, "", "a filtered answer is not cached, so not compressed"},
	} {
		enc, body := getList(t, c, tc.uri, tc.gzip)
		if enc != tc.wantEnc || !bytes.Equal(body, f.body) {
			t.Errorf("%s: encoding %q, body equal %v", tc.describe, enc, bytes.Equal(body, f.body))
		}
	}
	// A new list (a new slice from the engine) is compressed again, not served stale.
	f.body = bytes.Repeat([]byte(`{"id":"y"},`), gzipMin)
	if enc, body := getList(t, c, "/containers", true); enc != "gzip" || !bytes.Equal(body, f.body) {
		t.Errorf("after a change: encoding %q, served the new list: %v", enc, bytes.Equal(body, f.body))
	}
	// A small list is sent as it is.
	f.body = []byte(`{}`)
	if enc, _ := getList(t, c, "/containers", true); enc != "" {
		t.Errorf("small list: encoding %q, want none", enc)
	}
}
