package shimclient

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/shimfiles"
)

// TestEndLeftover: the recorded processes are killed and waited for; a record whose PID now
// belongs to another process (its start time differs) leaves that process alone.
func TestEndLeftover(t *testing.T) {
	dir := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	shim, init, other := start(), start(), start()
	if err := shimfiles.RecordProc(dir, "shim", shim.Process.Pid, true); err != nil {
		t.Fatal(err)
	}
	if err := shimfiles.RecordProc(dir, "init", init.Process.Pid, false); err != nil {
		t.Fatal(err)
	}
	// A stale line: other's PID with another start time, as after the PID's reuse.
	st, err := shimfiles.ProcStart(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, shimfiles.PIDFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "init %d %d\n", other.Process.Pid, st-1)
	f.Close()

	n, err := EndLeftover(dir, 10*time.Second)
	if err != nil || n != 2 {
		t.Fatalf("EndLeftover = %d, %v; want 2 processes ended", n, err)
	}
	for _, c := range []*exec.Cmd{shim, init} {
		// EndLeftover waited for the exit: the zombie is there to be reaped at once.
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(c.Process.Pid, &ws, syscall.WNOHANG, nil)
		if err != nil || pid != c.Process.Pid || ws.Signal() != syscall.SIGKILL {
			t.Errorf("process %d: wait4 = %d, %v, %v; want killed by SIGKILL", c.Process.Pid, pid, err, ws)
		}
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the process that took a recorded PID was signalled: %v", err)
	}

	// Nothing recorded, no shim: nothing to do.
	if n, err := EndLeftover(t.TempDir(), time.Second); n != 0 || err != nil {
		t.Errorf("EndLeftover of an empty directory = %d, %v", n, err)
	}
	// Gone already: nothing to do either.
	if n, err := EndLeftover(dir, time.Second); n != 0 || err != nil {
		t.Errorf("EndLeftover again = %d, %v", n, err)
	}
}
