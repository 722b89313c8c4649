package boxinit

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
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
