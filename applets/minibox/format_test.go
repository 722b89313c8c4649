package minibox

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/api"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "Less than a second",
		time.Second:              "1 second",
		5 * time.Second:          "5 seconds",
		90 * time.Second:         "About a minute",
		5 * time.Minute:          "5 minutes",
		70 * time.Minute:         "About an hour",
		3 * time.Hour:            "3 hours",
		72 * time.Hour:           "3 days",
		15 * 24 * time.Hour:      "2 weeks",
		90 * 24 * time.Hour:      "3 months",
		3 * 365 * 24 * time.Hour: "3 years",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	start, end := now.Add(-5*time.Minute), now.Add(-2*time.Minute)
	for _, tt := range []struct {
		status, health string
		code           int
		started, ended time.Time
		want           string
	}{
		{"running", "", 0, start, time.Time{}, "Up 5 minutes"},
		{"running", "none", 0, start, time.Time{}, "Up 5 minutes"},
		{"running", "healthy", 0, start, time.Time{}, "Up 5 minutes (healthy)"},
		{"running", "starting", 0, start, time.Time{}, "Up 5 minutes (health: starting)"},
		{"paused", "", 0, now.Add(-2 * time.Second), time.Time{}, "Up 2 seconds (Paused)"},
		{"restarting", "", 1, start, now.Add(-3 * time.Second), "Restarting (1) 3 seconds ago"},
		{"exited", "", 0, start, end, "Exited (0) 2 minutes ago"},
		{"exited", "", 137, start, end, "Exited (137) 2 minutes ago"},
		{"created", "", 0, time.Time{}, time.Time{}, "Created"},
		{"exited", "", 0, time.Time{}, now.Add(-3 * time.Second), "Exited (0) 3 seconds ago"}, // start time lost to a kill -9
	} {
		if got := statusText(tt.status, tt.health, tt.code, tt.started, tt.ended, now); got != tt.want {
			t.Errorf("statusText(%s, %s) = %q, want %q", tt.status, tt.health, got, tt.want)
		}
	}
	if got := sinceText(now.Add(-2*time.Minute), now); got != "2 minutes ago" {
		t.Errorf("sinceText = %q", got)
	}
}

func TestPsCommandCell(t *testing.T) {
	for _, tt := range []struct {
		cmd     []string
		noTrunc bool
		want    string
	}{
		{[]string{"nginx", "-g", "daemon off;"}, true, `"nginx -g 'daemon off;'"`},
		{[]string{"nginx", "-g", "daemon off;"}, false, `"nginx -g 'daemon of…"`},
		{[]string{"sleep", "1000"}, false, `"sleep 1000"`},
		{[]string{"sh", "-c", "echo a\necho b"}, true, `"sh -c 'echo a\necho b'"`},
		{[]string{"twenty-characters-ok"}, false, `"twenty-characters-ok"`},
	} {
		if got := psCommandCell(tt.cmd, tt.noTrunc); got != tt.want {
			t.Errorf("psCommandCell(%q, %v) = %s, want %s", tt.cmd, tt.noTrunc, got, tt.want)
		}
	}
}

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
