package restartpolicy

import (
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
)

func TestWhoRestarts(t *testing.T) {
	pol := func(name string, max int) ctrconfig.RestartPolicy {
		return ctrconfig.RestartPolicy{Name: name, MaxRetries: max}
	}
	for _, tc := range []struct {
		name          string
		p             ctrconfig.RestartPolicy
		r             Run
		exit, atStart bool
	}{
		{"no policy", pol("", 0), Run{ExitCode: 1}, false, false},
		{"no", pol("no", 0), Run{ExitCode: 1}, false, false},
		{"always", pol("always", 0), Run{}, true, true},
		{"always, stopped by a user", pol("always", 0), Run{UserStopped: true}, false, true},
		{"unless-stopped", pol("unless-stopped", 0), Run{}, true, true},
		{"unless-stopped, stopped by a user", pol("unless-stopped", 0), Run{UserStopped: true}, false, false},
		{"on-failure, success", pol("on-failure", 0), Run{}, false, false},
		{"on-failure, failure", pol("on-failure", 0), Run{ExitCode: 2, RestartCount: 50}, true, true},
		{"on-failure, retries left", pol("on-failure", 3), Run{ExitCode: 2, RestartCount: 2}, true, true},
		{"on-failure, retries spent", pol("on-failure", 3), Run{ExitCode: 2, RestartCount: 3}, false, false},
		{"on-failure, stopped by a user", pol("on-failure", 0), Run{ExitCode: 137, UserStopped: true}, false, false},
	} {
		if got := AfterExit(tc.p, tc.r); got != tc.exit {
			t.Errorf("%s: AfterExit = %v", tc.name, got)
		}
		if got := AtDaemonStart(tc.p, tc.r); got != tc.atStart {
			t.Errorf("%s: AtDaemonStart = %v", tc.name, got)
		}
	}
}

func TestBackoffDoublesAndResets(t *testing.T) {
	var p Pending
	var got []time.Duration
	for range 12 {
		got = append(got, p.Schedule(time.Second, func() {}))
		p.Cancel()
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond,
		25600 * time.Millisecond, 51200 * time.Millisecond, time.Minute, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("back-offs = %v, want %v", got, want)
		}
	}
	if d := p.Schedule(10*time.Second, func() {}); d != 100*time.Millisecond {
		t.Fatalf("after a run of 10 s: %v, want 100ms", d)
	}
	if !p.Cancel() || p.Cancel() {
		t.Fatal("Cancel reports a scheduled restart once")
	}
}

func TestCancelledRestartDoesNotRun(t *testing.T) {
	var p Pending
	ran := make(chan struct{}, 1)
	p.Schedule(time.Minute, func() { ran <- struct{}{} }) // 100 ms: a long run resets the back-off
	p.Cancel()
	// The timer is stopped: a second schedule's start is the only one that runs.
	done := make(chan struct{})
	p.Schedule(time.Minute, func() { close(done) })
	<-done
	select {
	case <-ran:
		t.Fatal("a cancelled restart ran")
	default:
	}
}
