package miniboxd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// holdLock takes root's lock on an open file of its own (flock conflicts between open
// files, even in one process) and records pid as the holder.
func holdLock(t *testing.T, root string, pid int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, "miniboxd.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	t.Cleanup(func() { f.Close() })
	return f
}

// deadPID is a PID no process has: a child that has been reaped.
func deadPID(t *testing.T) int {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	return p.Pid
}

func TestLockLiveHolder(t *testing.T) {
	root := t.TempDir()
	holdLock(t, root, os.Getpid())
	start := time.Now()
	_, err := LockDataRoot(root)
	if err == nil || !strings.Contains(err.Error(), "another miniboxd (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Fatalf("LockDataRoot = %v, want the holder named", err)
	}
	if time.Since(start) > holderGoneWait/2 {
		t.Errorf("a live holder was waited for (%v)", time.Since(start))
	}
}

// TestLockHolderGone: the recorded daemon is dead but the lock is still held (a child of
// it between fork and exec): the next daemon gets it once let go, and writes its own PID.
func TestLockHolderGone(t *testing.T) {
	root := t.TempDir()
	held := holdLock(t, root, deadPID(t))
	go func() {
		time.Sleep(100 * time.Millisecond)
		held.Close()
	}()
	l, err := LockDataRoot(root)
	if err != nil {
		t.Fatalf("LockDataRoot: %v", err)
	}
	defer l.Release()
	b, _ := os.ReadFile(filepath.Join(root, "miniboxd.lock"))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file says %q, want our PID", b)
	}
}

// TestLockHolderGoneForGood: a lock nobody lets go is an error after the bounded wait.
func TestLockHolderGoneForGood(t *testing.T) {
	root := t.TempDir()
	holdLock(t, root, deadPID(t))
	if _, err := LockDataRoot(root); err == nil || !strings.Contains(err.Error(), "another miniboxd") {
		t.Fatalf("LockDataRoot = %v, want an error", err)
	}
}
