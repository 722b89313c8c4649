package dockershape

import (
	"testing"
	"time"
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
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
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
		if got := StatusText(tt.status, tt.health, tt.code, tt.started, tt.ended, now); got != tt.want {
			t.Errorf("StatusText(%s, %s) = %q, want %q", tt.status, tt.health, got, tt.want)
		}
	}
	if got := Since(now.Add(-2*time.Minute), now); got != "2 minutes ago" {
		t.Errorf("Since = %q", got)
	}
}

func TestCommandCell(t *testing.T) {
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
		if got := CommandCell(tt.cmd, tt.noTrunc); got != tt.want {
			t.Errorf("CommandCell(%q, %v) = %s, want %s", tt.cmd, tt.noTrunc, got, tt.want)
		}
	}
}
