package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/netport"
)

// listFake answers the container list with n containers at generation gen, and counts
// the lists it made.
type listFake struct {
	fakeServices
	mu    sync.Mutex
	n     int
	gen   uint64
	lists int
	last  ctrlist.Filter
}

func (f *listFake) Summaries(filter ctrlist.Filter) ([]ctrlist.Summary, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	f.last = filter
	out := make([]ctrlist.Summary, f.n)
	for i := range out {
		out[i] = ctrlist.Summary{ID: strings.Repeat("a", 60) + string(rune('A'+i%26)) + string(rune('A'+i/26%26)) + string(rune('A'+i/676)),
			Name: "c", Status: "running", Ports: []netport.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}}
	}
	return out, f.gen
}

func (f *listFake) ListGeneration() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen
}

func (f *listFake) set(n int, gen uint64) {
	f.mu.Lock()
	f.n, f.gen = n, gen
	f.mu.Unlock()
}

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
	return string(resp.Header.ContentEncoding()), bytes.Clone(b) // resp is released
}

// The list is the native API's shape of the engine's summaries: by ID, a running
// container's ports bound on every address.
func TestContainerListShape(t *testing.T) {
	f := &listFake{n: 1}
	_, body := getList(t, serveFake(t, f), "/containers?label=a%3Db&status=running", false)
	var got map[string]api.ContainerSummary
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d containers", len(got))
	}
	for id, s := range got {
		if s.ID != id || s.Ports["8080"] != 80 || len(s.Publish) != 1 || s.Publish[0].HostIP != "0.0.0.0" || s.Command == nil {
			t.Errorf("summary %+v", s)
		}
	}
	if f.last.Status != "running" || len(f.last.Labels) != 1 || f.last.Labels[0] != "a=b" {
		t.Errorf("filter passed on as %+v", f.last)
	}
}

// The unfiltered list is made once per generation of the engine's list, and compressed
// once for the clients that accept gzip; a filtered one is made each time.
func TestContainerListCache(t *testing.T) {
	f := &listFake{n: 200, gen: 1}
	c := serveFake(t, f)
	_, first := getList(t, c, "/containers", false)
	if len(first) < gzipMin {
		t.Fatalf("a list of %d bytes is too small to test compression", len(first))
	}
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
		if enc != tc.wantEnc || !bytes.Equal(body, first) {
			t.Errorf("%s: encoding %q, body equal %v", tc.describe, enc, bytes.Equal(body, first))
		}
	}
	if f.lists != 2 {
		t.Errorf("made %d lists, want 2 (the unfiltered one once, the filtered one)", f.lists)
	}
	// A new generation is listed again, not served stale, and compressed again.
	f.set(201, 2)
	if enc, body := getList(t, c, "/containers", true); enc != "gzip" || bytes.Equal(body, first) {
		t.Errorf("after a change: encoding %q, served the old list: %v", enc, bytes.Equal(body, first))
	}
	// A small list is sent as it is.
	f.set(0, 3)
	if enc, body := getList(t, c, "/containers", true); enc != "" || string(body) != "{}" {
		t.Errorf("empty list: encoding %q, body %s", enc, body)
	}
}
