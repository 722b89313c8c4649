package miniboxd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is the flock on DataRoot/miniboxd.lock: one daemon per data root.
type Lock struct{ f *os.File }

// LockDataRoot takes the lock or says which daemon holds it.
func LockDataRoot(root string) (*Lock, error) {
	path := filepath.Join(root, "miniboxd.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	// A daemon killed while a child of its was between fork and exec leaves that child
	// holding the lock until its exec: a moment, which a restart right away (a supervisor's,
	// a test's) must wait out rather than fail on. A live holder is an error at once.
	deadline := time.Now().Add(holderGoneWait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		b, _ := os.ReadFile(path)
		holder := strings.TrimSpace(string(b))
		if errors.Is(err, unix.EWOULDBLOCK) && !alive(holder) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another miniboxd (pid %s) is using data root %s", holder, root)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f}, nil
}

// holderGoneWait bounds the wait for a lock whose recorded daemon is gone.
const holderGoneWait = 2 * time.Second

// alive reports whether the process pid names exists (not whether it is a daemon: a
// recycled PID only costs the wait above).
func alive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	return unix.Kill(n, 0) != unix.ESRCH
}

// Release unlocks (closing the file drops the flock).
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
