package health

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
)

func TestResolve(t *testing.T) {
	img := &ctrconfig.Healthcheck{Test: []string{"CMD", "true"}, Interval: time.Minute, Retries: 2}
	labels := map[string]string{"mini.healthcheck.cmd": "check", "mini.healthcheck.interval": "7"}
	label := func(k string) string { return labels[k] }
	none := func(string) string { return "" }
	for _, tc := range []struct {
		name       string
		own, image *ctrconfig.Healthcheck
		label      func(string) string
		want       *ctrconfig.Healthcheck
	}{
		{"nothing", nil, nil, none, nil},
		{"the image's", nil, img, none, img},
		{"the container's wins", &ctrconfig.Healthcheck{Test: []string{"CMD", "x"}}, img, none, &ctrconfig.Healthcheck{Test: []string{"CMD", "x"}}},
		{"disabled", &ctrconfig.Healthcheck{Disable: true}, img, none, nil},
		{"NONE", &ctrconfig.Healthcheck{Test: []string{"NONE"}}, img, none, nil},
		{"the image's NONE", nil, &ctrconfig.Healthcheck{Test: []string{"NONE"}}, none, nil},
		{"flags tune the image's", &ctrconfig.Healthcheck{Interval: time.Second, Retries: 9}, img, none,
			&ctrconfig.Healthcheck{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 9}},
		{"labels, interval in seconds", nil, nil, label, &ctrconfig.Healthcheck{Test: []string{"CMD-SHELL", "check"}, Interval: 7 * time.Second}},
		{"the image's before labels", nil, img, label, img},
	} {
		got := Resolve(tc.own, tc.image, tc.label)
		if (got == nil) != (tc.want == nil) || got != nil && (got.Interval != tc.want.Interval || got.Retries != tc.want.Retries || len(got.Test) != len(tc.want.Test) || got.Test[len(got.Test)-1] != tc.want.Test[len(tc.want.Test)-1]) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestProbeArgs(t *testing.T) {
	for _, tc := range []struct {
		test []string
		want string
	}{
		{[]string{"CMD", "a", "b"}, "[a b]"},
		{[]string{"CMD-SHELL", "a b"}, "[/bin/sh -c a b]"},
		{[]string{"a b"}, "[/bin/sh -c a b]"},
		{nil, "[]"},
	} {
		if got := fmtArgs(probeArgs(tc.test)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.test, got, tc.want)
		}
	}
}

func fmtArgs(a []string) string {
	s := "["
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}

// fakeExec answers probes with the exit codes in codes, one each; a code of -1 hangs
// until the probe's time is up.
type fakeExec struct {
	codes  chan int
	killed chan struct{}
}

type fakeProc struct {
	code int
	f    *fakeExec
}

func (f *fakeExec) Exec(ctx context.Context, args []string, out io.Writer) (Process, error) {
	code := <-f.codes
	if code == -2 {
		return nil, errors.New("no such container")
	}
	out.Write([]byte("out"))
	return &fakeProc{code, f}, nil
}

func (p *fakeProc) Wait(ctx context.Context) (int, error) {
	if p.code == -1 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return p.code, nil
}

func (p *fakeProc) Kill() { p.f.killed <- struct{}{} }

// Each probe's result moves the status as Docker's does: retries failures in a row make
// it unhealthy, one success makes it healthy again; a probe that overruns is killed and
// fails; one that cannot start fails with its error.
func TestCheckerRun(t *testing.T) {
	f := &fakeExec{codes: make(chan int), killed: make(chan struct{}, 1)}
	h := NewChecker(&ctrconfig.Healthcheck{Test: []string{"CMD", "x"}, Interval: time.Millisecond, Timeout: 20 * time.Millisecond, Retries: 2})
	if r := h.Report(); r.Status != Starting {
		t.Fatalf("before the first probe: %s", r.Status)
	}
	changed := make(chan struct{})
	h.Run(f, func() { changed <- struct{}{} })
	defer h.Stop()
	step := func(code int, want string, streak int) {
		t.Helper()
		f.codes <- code
		<-changed
		r := h.Report()
		if r.Status != want || r.FailingStreak != streak {
			t.Fatalf("after exit %d: %s streak %d, want %s streak %d", code, r.Status, r.FailingStreak, want, streak)
		}
	}
	step(0, Healthy, 0)
	step(1, Healthy, 1)
	step(-1, Unhealthy, 2)
	<-f.killed
	step(0, Healthy, 0)
	step(-2, Healthy, 1)
	r := h.Report()
	if len(r.Log) != logKeep || r.Log[len(r.Log)-1].Output != "no such container" || r.Log[len(r.Log)-2].ExitCode != 0 {
		t.Fatalf("log: %+v", r.Log)
	}
	var nilChecker *Checker
	if nilChecker.Report().Status != None {
		t.Fatal("a nil checker reports none")
	}
	nilChecker.Stop()
}

// A failure in the start period does not count while the check has not passed yet.
func TestStartPeriod(t *testing.T) {
	h := NewChecker(&ctrconfig.Healthcheck{Test: []string{"CMD", "x"}})
	h.record(Probe{ExitCode: 1}, true, 1)
	if r := h.Report(); r.Status != Starting || r.FailingStreak != 0 {
		t.Fatalf("in the start period: %+v", r)
	}
	h.record(Probe{ExitCode: 1}, false, 1)
	if r := h.Report(); r.Status != Unhealthy {
		t.Fatalf("after it: %+v", r)
	}
}

func TestFromImageConfig(t *testing.T) {
	h := FromImageConfig([]byte(`{"config":{"Healthcheck":{"Test":["CMD","x"],"Interval":1000000000,"Retries":4}}}`))
	if h == nil || h.Interval != time.Second || h.Retries != 4 || h.Test[1] != "x" {
		t.Fatalf("got %+v", h)
	}
	if FromImageConfig([]byte(`{"config":{}}`)) != nil {
		t.Fatal("an image without a check has none")
	}
}
