package testutil

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Prerequisite names one thing a privileged test needs.
type Prerequisite string

const (
	Root     Prerequisite = "root"
	Overlay  Prerequisite = "overlay"
	NetAdmin Prerequisite = "netadmin"
	FUSE     Prerequisite = "fuse"
	Nftables Prerequisite = "nftables"
)

// Privileged reports whether MINIBOX_TEST_PRIVILEGED=1: then a missing prerequisite fails.
func Privileged() bool { return os.Getenv("MINIBOX_TEST_PRIVILEGED") == "1" }

// RequirePrivileged skips the test when a prerequisite is missing, or fails it when
// MINIBOX_TEST_PRIVILEGED=1, so CI never passes by skipping.
func RequirePrivileged(t testing.TB, needs ...Prerequisite) {
	t.Helper()
	if missing := Missing(append([]Prerequisite{Root}, needs...)...); missing != "" {
		if Privileged() {
			t.Fatalf("privileged test needs %s (MINIBOX_TEST_PRIVILEGED=1)", missing)
		}
		t.Skipf("needs %s; set MINIBOX_TEST_PRIVILEGED=1 as root to run", missing)
	}
}

// Missing returns the first prerequisite this host lacks, or "".
func Missing(needs ...Prerequisite) string {
	for _, n := range needs {
		switch n {
		case Root, NetAdmin:
			if os.Geteuid() != 0 {
				return string(n) + " (run as root)"
			}
		case Overlay:
			if !filesystem("overlay") {
				return "overlayfs"
			}
		case FUSE:
			if _, err := os.Stat("/dev/fuse"); err != nil || !filesystem("fuse") {
				return "FUSE (/dev/fuse)"
			}
		case Nftables:
			if _, err := os.Stat("/proc/net/netfilter"); err != nil && os.Geteuid() != 0 {
				return "nftables"
			}
		}
	}
	return ""
}

func filesystem(name string) bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == name {
			return true
		}
	}
	if name == "overlay" || name == "fuse" {
		// The module may load on first use.
		exec.Command("modprobe", name).Run()
	}
	return false
}

// NetNS runs fn on a thread in a fresh network namespace; the thread dies afterwards so
// the namespace never leaks into other goroutines.
func NetNS(t testing.TB, fn func()) {
	t.Helper()
	done := make(chan struct{})
	var ferr error
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if ferr = unix.Unshare(unix.CLONE_NEWNET); ferr != nil {
			return
		}
		fn()
	}()
	<-done
	if ferr != nil {
		t.Fatalf("unshare netns: %v", ferr)
	}
}
