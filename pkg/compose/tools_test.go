package compose

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/api"
)

func TestSplitReference(t *testing.T) {
	for ref, want := range map[string][2]string{
		"busybox":                         {"busybox", "latest"},
		"busybox:1.36":                    {"busybox", "1.36"},
		"127.0.0.1:5000/team/app":         {"127.0.0.1:5000/team/app", "latest"},
		"127.0.0.1:5000/team/app:2":       {"127.0.0.1:5000/team/app", "2"},
		"busybox@sha256:0123456789abcdef": {"busybox", "<none>"},
	} {
		if repo, tag := splitReference(ref); repo != want[0] || tag != want[1] {
			t.Errorf("splitReference(%q) = %q, %q; want %q, %q", ref, repo, tag, want[0], want[1])
		}
	}
}

func TestScaleOptions(t *testing.T) {
	o, err := ScaleOptions([]string{"web=3", "db=0", "web=2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if o.Scale["web"] != 2 || o.Scale["db"] != 0 || !o.NoDeps || strings.Join(o.Services, ",") != "web,db" {
		t.Errorf("got %+v", o)
	}
	for _, bad := range []string{"web", "=2", "web=", "web=-1", "web=x"} {
		if _, err := ScaleOptions([]string{bad}, false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestWriteEvent(t *testing.T) {
	ev := api.Event{Type: "container", Action: "start", ID: "abc", Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.Local)}
	var b bytes.Buffer
	if err := writeEvent(&b, ev, "web", map[string]string{"name": "p-web-1", "image": "busybox"}, false); err != nil {
		t.Fatal(err)
	}
	if want := "2026-01-02 03:04:05.000006 container start abc (image=busybox, name=p-web-1)\n"; b.String() != want {
		t.Errorf("text: got %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := writeEvent(&b, ev, "web", map[string]string{"name": "p-web-1"}, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"service":"web"`, `"type":"container"`, `"action":"start"`, `"id":"abc"`, `"attributes":{"name":"p-web-1"}`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("json %s: no %s", b.String(), want)
		}
	}
}
