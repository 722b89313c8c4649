package signals

import (
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"": syscall.SIGTERM, "KILL": syscall.SIGKILL, "sigusr1": syscall.SIGUSR1,
		"2": syscall.SIGINT, "SIGRTMIN": 34, "RTMIN+3": 37, "RTMAX-1": 63} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"NOPE", "0", "65", "-1", "RTMIN+40"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}
