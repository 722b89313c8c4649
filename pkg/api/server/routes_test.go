package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/minibox/minibox/pkg/errdefs"
)

// faked is a fake engine whose calls are noted in a fakeServices.
type faked interface {
	Services
	fake() *fakeServices
}

func (f *fakeServices) fake() *fakeServices { return f }

// serveFake runs a server over f in memory.
func serveFake(t *testing.T, f faked) *fasthttp.Client {
	s := New(f, Backing{fakeVolumes{f.fake()}, fakeNetworks{f.fake()}, f.fake(), f.fake(), f.fake(), f.fake(), f.fake(), f.fake(), f.fake()}, "", slog.New(slog.DiscardHandler))
	ln := fasthttputil.NewInmemoryListener()
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(0); ln.Close() })
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

func do(t *testing.T, c *fasthttp.Client, method, uri, body string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://minibox" + uri)
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Body())
}

// route is one call that reaches a service, with the method it must reach.
type route struct {
	method, uri, body, service string
}

var serviceRoutes = []route{
	{"GET", "/system/df", "", "DiskUsage"},
	{"POST", "/system/prune", "", "Prune"},
	{"POST", "/auth", `{"registry":"r.example","username":"u","password":"p"}`, "CheckRegistryAuth"},
	{"GET", "/images", "", "ListImages"},
	{"GET", "/images/inspect?image=x", "", "InspectImage"},
	{"POST", "/images/tag?image=x&target=y", "", "TagImage"},
	{"POST", "/images/remove?image=x", "", "RemoveImage"},
	{"GET", "/images/save?image=x", "", "ResolveImages"},
	{"GET", "/containers/inspect?id=c", "", "InspectContainer"},
	{"POST", "/containers/create", `{"image":"x"}`, "CreateContainer"},
	{"POST", "/containers/start?id=c", "", "StartContainer"},
	{"POST", "/containers/stop?id=c", "", "StopContainer"},
	{"POST", "/containers/restart?id=c", "", "RestartContainer"},
	{"POST", "/containers/kill?id=c", "", "KillContainer"},
	{"POST", "/containers/pause?id=c", "", "PauseContainer"},
	{"POST", "/containers/unpause?id=c", "", "PauseContainer"},
	{"POST", "/containers/rename?id=c&name=n", "", "RenameContainer"},
	{"POST", "/containers/remove?id=c", "", "RemoveContainer"},
	{"POST", "/containers/wait?id=c", "", "WaitContainer"},
	{"GET", "/containers/stats?id=c&stream=false", "", "Stats"}, // no id: every container
	{"POST", "/containers/resize?id=c&h=10&w=20", "", "ResizeContainer"},
	{"POST", "/containers/exec/resize?exec_id=x&h=10&w=20", "", "ResizeExec"},
	{"GET", "/containers/exec/inspect?exec_id=x", "", "InspectExec"},
	{"GET", "/containers/archive?id=c&path=/etc", "", "StatPath"},
	{"GET", "/containers/top?id=c", "", "ContainerTop"},
	{"GET", "/containers/changes?id=c", "", "ContainerChanges"},
	{"GET", "/containers/export?id=c", "", "InspectContainer"},
	{"POST", "/containers/update?id=c", `{"pids_limit":5}`, "UpdateContainer"},
	{"GET", "/images/history?name=x", "", "ImageHistory"},
	{"POST", "/containers/prune", "", "PruneContainers"},
	{"POST", "/images/prune", "", "PruneImages"},
	{"POST", "/volumes/prune", "", "PruneVolumes"},
	{"POST", "/build/prune", "", "PruneBuildCache"},
	{"POST", "/containers/commit", `{"container":"c"}`, "CommitContainer"},
	{"GET", "/volumes", "", "Volumes"},
	{"GET", "/volumes/inspect?name=v", "", "Volume"},
	{"POST", "/volumes/create", `{"name":"v"}`, "CreateVolume"},
	{"POST", "/volumes/remove?name=v", "", "RemoveVolume"},
	{"GET", "/networks/inspect?name=n", "", "Network"},
	{"POST", "/networks/create", `{"name":"n"}`, "CreateNetwork"},
	{"POST", "/networks/remove?name=n", "", "RemoveNetwork"},
	{"POST", "/networks/prune", "", "PruneNetworks"},
	{"POST", "/networks/connect", `{"network":"n","container":"c"}`, "ConnectNetwork"},
	{"POST", "/networks/disconnect?network=n&container=c", "", "DisconnectNetwork"},
}

// Every route that reaches a service answers the service's error kind with its status
// code and a JSON body carrying the message, and never a 500 for a caller's mistake.
func TestRoutesMapServiceErrors(t *testing.T) {
	kinds := []struct {
		err    error
		status int
	}{
		{errdefs.NotFound("no such thing"), 404},
		{errdefs.Conflict("it is busy"), 409},
		{errdefs.Invalid("bad value"), 400},
		{errFake, 500},
	}
	for _, r := range serviceRoutes {
		for _, k := range kinds {
			f := &fakeServices{err: k.err}
			c := serveFake(t, f)
			status, body := do(t, c, r.method, r.uri, r.body)
			name := fmt.Sprintf("%s %s (%v)", r.method, r.uri, k.err)
			if len(f.calls) == 0 || f.calls[len(f.calls)-1] != r.service {
				t.Errorf("%s: called %v, want %s", name, f.calls, r.service)
				continue
			}
			if status != k.status {
				t.Errorf("%s: status %d, want %d (%s)", name, status, k.status, body)
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(firstLine(body)), &e) != nil || !strings.Contains(e.Error, errdefs.Message(k.err)) {
				t.Errorf("%s: body %q does not carry the error", name, body)
			}
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// A call without the parameter that names its object is a 400 naming that parameter, and
// the service is never reached.
func TestRoutesRequireTheirObject(t *testing.T) {
	for _, r := range serviceRoutes {
		uri, query, ok := strings.Cut(r.uri, "?")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(query, "&") {
			param, _, _ := strings.Cut(kv, "=")
			if param == "stream" || param == "h" || param == "w" || r.service == "Stats" {
				continue
			}
			var rest []string
			for _, o := range strings.Split(query, "&") {
				if o != kv {
					rest = append(rest, o)
				}
			}
			u := uri + "?" + strings.Join(rest, "&")
			f := &fakeServices{}
			status, body := do(t, serveFake(t, f), r.method, u, r.body)
			if status != 400 || !strings.Contains(body, param) {
				t.Errorf("%s %s: %d %s, want 400 naming %q", r.method, u, status, body, param)
			}
			if len(f.calls) != 0 {
				t.Errorf("%s %s: reached %v", r.method, u, f.calls)
			}
		}
	}
}

// A JSON body that is not the route's shape is a 400 before any service is called.
func TestRoutesRefuseBadBodies(t *testing.T) {
	for _, r := range serviceRoutes {
		if r.body == "" {
			continue
		}
		for _, bad := range []string{`{"unknown_field":1}`, `[1,2]`, `{"name":`} {
			f := &fakeServices{}
			status, body := do(t, serveFake(t, f), r.method, r.uri, bad)
			if status != 400 {
				t.Errorf("%s %s with %s: %d %s, want 400", r.method, r.uri, bad, status, body)
			}
			if len(f.calls) != 0 {
				t.Errorf("%s %s with %s: reached %v", r.method, r.uri, bad, f.calls)
			}
		}
	}
}

// Prewarm takes a count of containers about to start: anything else is a 400 naming it,
// and the engine is not reached.
func TestPrewarmCount(t *testing.T) {
	for uri, want := range map[string]int{"?count=3": 204, "": 400, "?count=0": 400, "?count=x": 400, "?count=1001": 400} {
		f := &fakeServices{}
		status, body := do(t, serveFake(t, f), "POST", "/containers/prewarm"+uri, "")
		if status != want || want == 400 && !strings.Contains(body, "count") {
			t.Errorf("%s: %d %s, want %d", uri, status, body, want)
		}
		if called := len(f.calls) > 0; called != (want == 204) {
			t.Errorf("%s: engine calls %v", uri, f.calls)
		}
	}
}
