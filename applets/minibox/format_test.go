package minibox

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/api"
)

func TestSizes(t *testing.T) {
	for n, want := range map[float64]string{0: "0B", 999: "999B", 1234: "1.23kB", 4.3e6: "4.3MB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%v) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[float64]string{512: "512B", 2.5276194816e+10: "23.54GiB", 1 << 30: "1GiB", 1536: "1.5KiB"} {
		if got := bytesSize(n); got != want {
			t.Errorf("bytesSize(%v) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatRows(t *testing.T) {
	now := time.Now()
	s := api.ContainerSummary{ID: strings.Repeat("a", 64), Name: "web", Image: "nginx", Status: "exited",
		ExitCode: 3, CreatedAt: now.Add(-time.Hour), StartedAt: now.Add(-time.Hour), FinishedAt: now.Add(-time.Minute),
		Command: []string{"nginx", "-g", "daemon off;"}, Labels: map[string]string{"b": "2", "a": "1"}}
	rows := []rowContext{&psContext{trunc: true, s: s, now: now}}
	run := func(format string) string {
		var b bytes.Buffer
		if err := formatRows(&Output{Stdout: &b}, format, psTable, &psContext{}, rows); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return b.String()
	}
	if got := run(`{{.Names}} {{.Status}} {{.Label "a"}} {{.Labels}}`); got != "web Exited (3) About a minute ago 1 a=1,b=2\n" {
		t.Errorf("template = %q", got)
	}
	got := run("")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID   IMAGE") || !strings.Contains(lines[0], "NAMES") ||
		!strings.Contains(lines[1], `"nginx -g 'daemon of…"`) || !strings.Contains(lines[1], "An hour ago") && !strings.Contains(lines[1], "About an hour ago") {
		t.Errorf("default table =\n%s", got)
	}
	if got := run(`table {{.ID}}\t{{.State}}`); !strings.HasPrefix(got, "CONTAINER ID   STATE\naaaaaaaaaaaa   exited\n") {
		t.Errorf("table = %q", got)
	}
	for _, f := range []string{"json", "{{json .}}"} {
		got := run(f)
		if !strings.HasPrefix(got, `{"Command":"\"nginx -g 'daemon of…\""`) || !strings.Contains(got, `"Names":"web"`) || !strings.Contains(got, `"State":"exited"`) {
			t.Errorf("%s = %s", f, got)
		}
	}
	var b bytes.Buffer
	if err := formatRows(&Output{Stdout: &b}, "{{.Nope}}", psTable, &psContext{}, rows); err == nil {
		t.Error("an unknown field is accepted")
	}
}
