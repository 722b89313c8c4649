package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
)

func testClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContainerRunStream(t *testing.T) {
	body := `{"id":"abc"}` + "\n" + `{"stream":"stdout","text":"out\n"}` + "\n" +
		`{"stream":"stderr","text":"err\n"}` + "\n" + `{"exit_code":3,"oom_killed":true}` + "\n"
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/containers/run" || r.Method != "POST" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"image":"busybox"`) || strings.Contains(string(b), `"detached"`) {
			t.Errorf("body %s", b)
		}
		io.WriteString(w, body)
	})
	var id string
	var out bytes.Buffer
	rs, err := c.ContainerRun(context.Background(), &api.CreateRequest{Image: "busybox", Detached: true},
		func(s string, _ []string) { id = s }, func(stream string, p []byte) error { fmt.Fprintf(&out, "%s:%s", stream, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if id != "abc" || rs.ID != "abc" || out.String() != "stdout:out\nstderr:err\n" {
		t.Errorf("id %q, output %q", id, out.String())
	}
	if rs.Result == nil || rs.Result.ExitCode != 3 || !rs.Result.OOMKilled {
		t.Errorf("result %+v", rs.Result)
	}
}

func TestRunStreamFailures(t *testing.T) {
	for _, tt := range []struct {
		body   string
		status int
		want   string
		id     string
	}{
		{`{"id":"abc"}` + "\n" + `{"stream":"stdout","text":"x"}` + "\n", 200, "ended before", "abc"},
		{`{"id":"abc"}` + "\n" + `{"error":"exec: \"nope\": not found"}` + "\n", 200, `exec: "nope"`, "abc"},
		{`{"error":"no such image"}`, 404, "no such image", ""},
	} {
		c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			io.WriteString(w, tt.body)
		})
		rs, err := c.ContainerRun(context.Background(), &api.CreateRequest{Image: "x"}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("body %q: err %v, want %q", tt.body, err, tt.want)
		}
		if got := ""; rs != nil {
			got = rs.ID
			if got != tt.id {
				t.Errorf("body %q: id %q, want %q", tt.body, got, tt.id)
			}
		}
		if tt.status == 404 && !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("404 is not ErrNotFound: %v", err)
		}
	}
}

func TestExecStream(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"exec_id":"e1"}`+"\n"+`{"stream":"stdout","text":"hi"}`+"\n"+`{"exit_code":0,"oom_killed":false}`+"\n")
	})
	rs, err := c.Exec(context.Background(), &api.ExecRequest{ID: "c", Command: []string{"true"}}, nil, nil)
	if err != nil || rs.ID != "e1" || rs.Result.ExitCode != 0 {
		t.Errorf("exec: %+v, %v", rs, err)
	}
}

func frame(kind byte, s string) []byte {
	h := make([]byte, 8, 8+len(s))
	h[0] = kind
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

func TestDemux(t *testing.T) {
	var in bytes.Buffer
	in.Write(frame(FrameStdout, "out1 "))
	in.Write(frame(FrameStderr, "err"))
	in.Write(frame(FrameStdout, "out2"))
	in.Write(frame(FrameEngineError, "exec: \"x\": not found\n"))
	var o, e bytes.Buffer
	msg, err := Demux(&in, &o, &e)
	if err != nil || o.String() != "out1 out2" || e.String() != "err" || msg != `exec: "x": not found` {
		t.Errorf("Demux = %q, %v; out %q err %q", msg, err, o.String(), e.String())
	}
	cut := frame(FrameStdout, "whole")
	if _, err := Demux(bytes.NewReader(cut[:10]), &o, &e); err == nil {
		t.Error("a frame cut short is not an error")
	}
}

func TestStatsShapes(t *testing.T) {
	one, err := decodeStats([]byte(`{"id":"a","name":"x","pids":3}`))
	if err != nil || len(one) != 1 || one[0].Pids != 3 {
		t.Errorf("object: %+v, %v", one, err)
	}
	two, err := decodeStats([]byte(` [{"id":"a"},{"id":"b"}]`))
	if err != nil || len(two) != 2 {
		t.Errorf("array: %+v, %v", two, err)
	}
}

func TestArchiveStat(t *testing.T) {
	st := base64.StdEncoding.EncodeToString([]byte(`{"name":"hosts","size":12,"mode":420,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}`))
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("id") != "web" || q.Get("path") != "/etc/hosts" {
			t.Errorf("query %v", q)
		}
		w.Header().Set("X-Minibox-Path-Stat", st)
		if q.Get("stat") != "1" {
			io.WriteString(w, "tar bytes")
		}
	})
	s, err := c.ArchiveStat(context.Background(), "web", "/etc/hosts")
	if err != nil || s.Name != "hosts" || s.Size != 12 || s.Mode != 0o644 {
		t.Errorf("stat %+v, %v", s, err)
	}
	rc, s2, err := c.ArchiveGet(context.Background(), "web", "/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "tar bytes" || s2.Name != "hosts" {
		t.Errorf("get %q %+v", b, s2)
	}
}

func TestLogsQuery(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("format") != "json" || q.Get("follow") != "1" || q.Get("tail") != "5" || q.Has("stdout") {
			t.Errorf("query %v", q)
		}
		io.WriteString(w, `{"time":"2024-05-01T10:00:00Z","stream":"stderr","text":"e\n"}`+"\n")
	})
	var got []api.LogLine
	err := c.ContainerLogs(context.Background(), "web", LogsOptions{Follow: true, Tail: "5"}, func(l api.LogLine) error {
		got = append(got, l)
		return nil
	})
	if err != nil || len(got) != 1 || got[0].Stream != "stderr" || got[0].Text != "e\n" {
		t.Errorf("logs %+v, %v", got, err)
	}
}
