package shimclient_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/shimfiles"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

// startWarm makes a warm shim whose init the test ends, used or not.
func startWarm(t *testing.T) *shimclient.Warm {
	t.Helper()
	return startWarmIn(t, t.TempDir())
}

// startWarmIn is startWarm with the pair recorded under records.
func startWarmIn(t *testing.T, records string) *shimclient.Warm {
	t.Helper()
	busybox(t) // privileged tests only
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := shimclient.StartWarm(ctx, t.TempDir(), records, "", shimclient.StartOptions{})
	if err != nil {
		t.Fatalf("StartWarm: %v", err)
	}
	t.Cleanup(func() {
		w.Close()
		waitExited(t, w.PID())
	})
	return w
}

// waitExited waits for pid to be gone (or a zombie nobody has reaped yet).
func waitExited(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("process %d still runs", pid)
}

func startFromWarm(t *testing.T, w *shimclient.Warm, s *spec.Spec) *shimclient.Container {
	t.Helper()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := w.Start(ctx, s)
	if err != nil {
		t.Fatalf("Warm.Start: %v", err)
	}
	t.Cleanup(func() {
		c.Signal(syscall.SIGKILL)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Wait(ctx)
		shimclient.Cleanup(s.Dir)
		assertNoMounts(t, s.Dir)
	})
	return c
}

func TestWarmRunsContainer(t *testing.T) {
	w := startWarm(t)
	if prio, err := unix.Getpriority(unix.PRIO_PROCESS, w.PID()); err != nil || 20-prio != 10 {
		t.Errorf("warm init's nice = %d, %v; want 10 until it is given a container", 20-prio, err)
	}
	s := newSpec(t, "sh", "-c", "echo hello; hostname; readlink /proc/self/fd/0; grep -c CapEff:.00000000a80425fb /proc/self/status; grep -c Seccomp:.2 /proc/self/status; grep -vc :/$ /proc/self/cgroup; exit 3")
	s.InitInCgroup = true // the workload's thread is prepared during setup
	c := startFromWarm(t, w, s)
	if c.PID() != w.PID() {
		t.Errorf("container's init %d, want the warm init %d", c.PID(), w.PID())
	}
	if prio, err := unix.Getpriority(unix.PRIO_PROCESS, c.PID()); err != nil || 20-prio != 0 {
		t.Errorf("container's init nice = %d, %v; want 0", 20-prio, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	exit, err := c.Wait(ctx)
	if err != nil || exit.ExitCode != 3 {
		t.Fatalf("exit %+v, %v; want code 3", exit, err)
	}
	// Without -i the workload reads /dev/null, as from a cold start.
	if out := logs(t, s.Dir); out["stdout"] != "hello\nbox\n/dev/null\n1\n1\n0\n" {
		t.Errorf("stdout %q", out["stdout"])
	}
}

func TestWarmStdinAndTTY(t *testing.T) {
	t.Run("stdin", func(t *testing.T) {
		s := newSpec(t, "sh", "-c", "cat; echo done")
		s.Process.Stdin = true
		c := startFromWarm(t, startWarm(t), s)
		conn, err := c.AttachConn(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := c.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("piped\n"))
		conn.CloseWrite()
		if exit, err := c.Wait(context.Background()); err != nil || exit.ExitCode != 0 {
			t.Fatalf("exit %+v, %v", exit, err)
		}
		if out := logs(t, s.Dir); out["stdout"] != "piped\ndone\n" {
			t.Errorf("stdout %q", out["stdout"])
		}
	})
	t.Run("tty", func(t *testing.T) {
		s := newSpec(t, "sh", "-c", "stty size; tty")
		s.Process.Terminal = true
		c := startFromWarm(t, startWarm(t), s)
		// Asked before init is ready: the shim holds the request until the pty exists.
		if err := c.Resize(33, 101); err != nil {
			t.Fatal(err)
		}
		out, exit := resumeAttached(t, c)
		if exit.ExitCode != 0 {
			t.Fatalf("exit %+v", exit)
		}
		if want := "33 101\r\n/dev/pts/0\r\n"; out != want {
			t.Errorf("tty output %q, want %q", out, want)
		}
	})
}

// A warm shim ends, with its init, when the daemon lets go of it: Close returns once both
// have exited and their record is gone.
func TestWarmClose(t *testing.T) {
	records := t.TempDir()
	w := startWarmIn(t, records)
	recs := pairRecord(t, records)
	w.Close()
	for _, r := range recs {
		if alive(r) {
			t.Errorf("%s %d still runs after Close", r.Name, r.PID)
		}
	}
	if ents, _ := os.ReadDir(records); len(ents) != 0 {
		t.Errorf("records left after Close: %v", ents)
	}
}

// A pair is recorded (shim and init, by PID) from before it is handed out: a later daemon
// ends one whose daemon died and that could not end itself (stopped here). The record goes
// when the pair is given a container, which is no longer the pool's to end.
func TestWarmRecord(t *testing.T) {
	records := t.TempDir()
	w := startWarmIn(t, records)
	recs := pairRecord(t, records)
	if len(recs) != 2 || recs[0].Name != "shim" || recs[1].Name != "init" || recs[1].PID != w.PID() {
		t.Fatalf("record %+v, want the shim, then init %d", recs, w.PID())
	}
	syscall.Kill(recs[0].PID, syscall.SIGSTOP)
	dirs, _ := filepath.Glob(filepath.Join(records, "*"))
	n, err := shimclient.EndLeftover(dirs[0], 10*time.Second)
	if err != nil || n != 2 {
		t.Fatalf("EndLeftover = %d, %v; want both ended", n, err)
	}
	for _, r := range recs {
		if alive(r) {
			t.Errorf("%s %d still runs", r.Name, r.PID)
		}
	}

	records = t.TempDir()
	s := newSpec(t, "true")
	startFromWarm(t, startWarmIn(t, records), s)
	if ents, _ := os.ReadDir(records); len(ents) != 0 {
		t.Errorf("a pair given a container is still recorded: %v", ents)
	}
}

// pairRecord reads the one pair's record under records.
func pairRecord(t *testing.T, records string) []shimfiles.ProcRecord {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(records, "*"))
	if len(dirs) != 1 {
		t.Fatalf("records %v, want one pair's", dirs)
	}
	recs, err := shimfiles.ReadProcs(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// alive reports whether r's process runs (not a zombie, its PID not another's).
func alive(r shimfiles.ProcRecord) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.PID))
	if err != nil || strings.Contains(string(b), ") Z ") {
		return false
	}
	start, err := shimfiles.ProcStart(r.PID)
	return err == nil && start == r.Start
}

// A container the warm init's namespaces do not fit is refused, and the init ends.
func TestWarmMisfit(t *testing.T) {
	w := startWarm(t)
	s := newSpec(t, "true")
	s.Network = "host"
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := w.Start(ctx, s)
	if err == nil {
		c.Signal(syscall.SIGKILL)
		t.Fatal("a host-network container started in a warm init's network namespace")
	}
	if !strings.Contains(err.Error(), "namespaces") {
		t.Errorf("error %q does not say why", err)
	}
	waitExited(t, w.PID())
	shimclient.Cleanup(s.Dir)
}

// A setup failure (a bind source that does not exist) reaches Ready, after Start has
// returned init's PID.
func TestSetupFailureAtReady(t *testing.T) {
	s := newSpec(t, "true")
	s.Mounts = append(s.Mounts, spec.Mount{Source: "/nonexistent-minibox-src", Destination: "/mnt/x", Type: "bind"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := shimclient.Start(ctx, s, shimclient.StartOptions{})
	if err != nil {
		t.Fatalf("Start: %v (the failure belongs to Ready)", err)
	}
	if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "nonexistent-minibox-src") {
		t.Errorf("Ready = %v, want the bind failure", err)
	}
	if err := c.Resume(ctx); err == nil {
		t.Error("Resume after a failed setup succeeded")
	}
	if exit, err := c.Wait(ctx); err != nil || exit.ExitCode != 125 {
		t.Errorf("exit %+v, %v; want 125", exit, err)
	}
	waitGone(t, s.Dir+"/shim.sock")
	shimclient.Cleanup(s.Dir)
	assertNoMounts(t, s.Dir)
}

// On cgroup v1 a warm init can be born in the cgroup the daemon made for the pair: the
// shim's thread joins it for the clone and leaves it, and the shim itself stays out.
func TestWarmInitBornInCgroup(t *testing.T) {
	busybox(t) // privileged tests only
	cg, err := cgroup.Open(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if j, ok := cg.(interface{ ThreadsCanJoin() bool }); !ok || !j.ThreadsCanJoin() {
		t.Skipf("cgroup v%d here: a warm init is moved into its container's cgroup at the start instead", cg.Version())
	}
	b := make([]byte, 4)
	rand.Read(b)
	path := "minibox-test-" + hex.EncodeToString(b) + "/warm"
	if err := cg.Create(path, spec.Resources{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cg.Remove(path)
		cg.Remove(filepath.Dir(path))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := shimclient.StartWarm(ctx, t.TempDir(), t.TempDir(), path, shimclient.StartOptions{})
	if err != nil {
		t.Fatalf("StartWarm: %v", err)
	}
	defer waitExited(t, w.PID())
	defer w.Close()
	in := func(pid int) (yes, no []string) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.SplitN(l, ":", 3)
			if len(f) != 3 || !slices.ContainsFunc(strings.Split(f[1], ","), func(c string) bool { return c == "memory" || c == "pids" || c == "cpu" }) {
				continue
			}
			if f[2] == "/"+path {
				yes = append(yes, f[1])
			} else {
				no = append(no, f[1])
			}
		}
		return yes, no
	}
	if yes, no := in(w.PID()); len(yes) == 0 || len(no) != 0 {
		t.Errorf("warm init in %s for %v, elsewhere for %v", path, yes, no)
	}
	if yes, _ := in(testutil.ParentPID(t, w.PID())); len(yes) != 0 {
		t.Errorf("the shim is in the pair's cgroup for %v", yes)
	}
}
