package boxinit

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/testutil"
)

// TestOnOneCPU: every thread is on one CPU while fn runs, threads made meanwhile
// included, and each has its CPUs back after.
func TestOnOneCPU(t *testing.T) {
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		t.Skip(err)
	}
	if was.Count() < 2 {
		t.Skip("one CPU: nothing to pin")
	}
	var before threadList
	if !(&threadLister{}).list(&before) {
		t.Skip("/proc does not list our threads")
	}
	started := make(chan struct{})
	release := make(chan struct{})
	onOneCPU(func() {
		for _, tid := range before.tid[:before.n] {
			var m unix.CPUSet
			if unix.SchedGetaffinity(tid, &m) == nil && m.Count() != 1 {
				t.Errorf("thread %d on %d CPUs while pinned", tid, m.Count())
			}
		}
		// A thread made now (if the runtime has none idle) takes its maker's, pinned, CPUs.
		go func() {
			runtime.LockOSThread()
			close(started)
			<-release
			runtime.UnlockOSThread()
		}()
		<-started
	}, false)
	defer close(release)
	var after threadList
	(&threadLister{}).list(&after)
	for _, tid := range after.tid[:after.n] {
		var m unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &m); err != nil {
			continue
		}
		if m != was {
			t.Errorf("thread %d left on %d CPUs, had %d", tid, m.Count(), was.Count())
		}
	}
}

// ownNSChildEnv marks the copy of the test binary TestScanOwnNS runs as PID 1.
const ownNSChildEnv = "BOXINIT_TEST_OWN_PID_NS"

// TestScanOwnNS: as PID 1 of a new PID namespace, with the host's /proc, the thread IDs
// found by trying them are those each thread's status gives.
func TestScanOwnNS(t *testing.T) {
	if os.Getenv(ownNSChildEnv) != "" {
		var host threadList
		if !procTasks(&host) {
			t.Fatal("cannot list /proc/self/task")
		}
		var tl threadLister
		want := host
		for i, h := range host.tid[:host.n] {
			want.tid[i] = tl.translate(h)
		}
		slices.Sort(want.tid[:want.n])
		got := host
		if !scanOwnNS(&got) {
			t.Fatalf("scanOwnNS failed; status gives %v", want.tid[:want.n])
		}
		if !slices.Equal(got.tid[:got.n], want.tid[:want.n]) {
			t.Fatalf("scanOwnNS found %v; status gives %v", got.tid[:got.n], want.tid[:want.n])
		}
		listed := threadLister{hostProc: true}
		var l threadList
		if !listed.list(&l) || !slices.Equal(l.tid[:l.n], want.tid[:want.n]) {
			t.Fatalf("list gave %v; status gives %v", l.tid[:l.n], want.tid[:want.n])
		}
		return
	}
	testutil.RequirePrivileged(t)
	var l threadList
	if scanOwnNS(&l) {
		t.Fatal("scanOwnNS answered outside a PID namespace of our own")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestScanOwnNS$", "-test.count", "1")
	cmd.Env = append(os.Environ(), ownNSChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in a new PID namespace: %v\n%s", err, out)
	}
}
