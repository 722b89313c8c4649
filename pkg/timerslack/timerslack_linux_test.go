package timerslack

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func slackOf(t *testing.T, tid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWidenThenWorkload: every thread of the process runs with Wide, threads started later
// too; the slack it had travels in Env; a process forked from a thread set with ForWorkload
// runs with it again.
func TestWidenThenWorkload(t *testing.T) {
	orig := slackOf(t, unix.Gettid())
	if orig == Wide {
		t.Fatalf("this test needs a process that does not run with Wide (%d ns) already", Wide)
	}
	t.Cleanup(func() { restore(orig) })
	Widen()
	if workload != orig {
		t.Fatalf("workloads' slack %d, want the %d this thread had", workload, orig)
	}
	if got := slackOf(t, unix.Gettid()); got != Wide {
		t.Fatalf("calling thread: %d, want %d", got, Wide)
	}
	if os.Geteuid() == 0 { // CAP_SYS_NICE: the other threads' too
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			tid, _ := strconv.Atoi(e.Name())
			if got := slackOf(t, tid); got != Wide {
				t.Errorf("thread %d: %d, want %d", tid, got, Wide)
			}
		}
	}
	if env := Env(); len(env) != 1 || env[0] != envName+"="+strconv.Itoa(orig) {
		t.Fatalf("Env() = %q", env)
	}
	type result struct {
		thread, child int
		err           error
	}
	done := make(chan result)
	go func() {
		// A thread of its own, never given back: its slack is the workload's from here.
		runtime.LockOSThread()
		if err := ForWorkload(); err != nil {
			done <- result{err: err}
			return
		}
		out, err := exec.Command("cat", "/proc/self/timerslack_ns").Output()
		child, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		done <- result{thread: slackOf(t, unix.Gettid()), child: child, err: err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.thread != orig || r.child != orig {
		t.Fatalf("after ForWorkload: thread %d, forked child %d; want %d", r.thread, r.child, orig)
	}
}

// restore puts every thread's slack back to ns and forgets the workloads': the test
// process is as it was (go test -count runs the test again in it).
func restore(ns int) {
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		os.WriteFile("/proc/"+e.Name()+"/timerslack_ns", []byte(strconv.Itoa(ns)), 0)
	}
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0)
	workload = 0
}

// BenchmarkWiden: what Widen adds to a process's start (the CLI calls it every command).
func BenchmarkWiden(b *testing.B) {
	orig, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	defer restore(orig)
	for range b.N {
		Widen()
	}
}
