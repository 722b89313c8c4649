package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// countingTransport answers every request itself, counting them.
type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n++
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestDirectTransportOnlyForSmallBodies(t *testing.T) {
	var got []string
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		w.Write([]byte(`{"ok":true}`))
	})
	fallback := &countingTransport{}
	c.http.Transport.(*directTransport).fallback = fallback
	var out struct{ OK bool }
	if err := c.JSON(context.Background(), "POST", "/small", nil, map[string]string{"a": "b"}, &out); err != nil || !out.OK {
		t.Fatalf("small body: %v %+v", err, out)
	}
	if err := c.JSON(context.Background(), "GET", "/none", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	if fallback.n != 0 || len(got) != 2 || got[0] != `POST /small {"a":"b"}` || got[1] != "GET /none " {
		t.Fatalf("direct requests: %q, %d through the fallback", got, fallback.n)
	}
	for _, body := range []io.Reader{bytes.NewReader(make([]byte, smallBody+1)), io.MultiReader(strings.NewReader("x"))} {
		resp, err := c.Raw(context.Background(), "POST", "/big", nil, body, "application/x-tar")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if fallback.n != 2 {
		t.Errorf("%d of the large and unknown-length bodies went through the fallback, want 2", fallback.n)
	}
}

func TestDirectTransportOnlyOnThisHost(t *testing.T) {
	for api, direct := range map[string]bool{
		"unix:///run/minibox.sock": true, "http://127.0.0.1:8080": true, "http://localhost:8080": true,
		"http://[::1]:8080": true, "http://10.0.0.2:8080": false, "http://daemon.example:8080": false,
	} {
		c, err := New(api, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.http.Transport.(*directTransport); ok != direct {
			t.Errorf("%s: direct transport %v, want %v", api, ok, direct)
		}
	}
}

func TestDirectTransportCancel(t *testing.T) {
	release := make(chan struct{})
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first\n"))
		w.(http.Flusher).Flush()
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := c.Raw(ctx, "GET", "/stream", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("read %q: %v", buf, err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := resp.Body.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
	// A request whose context is done before it is sent fails with the context's error.
	if _, err := c.Raw(ctx, "GET", "/stream", nil, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("request on a cancelled context: %v", err)
	}
}
