package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
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

// Unavailable skips the test because something it needs is missing (a tool, a test data
// file, a working `go list`), or fails it when MINIBOX_TEST_PRIVILEGED=1: a run that is
// meant to cover everything must not pass by skipping.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Privileged() {
		t.Fatalf(format+" (MINIBOX_TEST_PRIVILEGED=1: a missing prerequisite fails)", args...)
	}
	t.Skipf(format, args...)
}

// Condition answers a testscript condition that needs prerequisites: true when none is
// missing, false (the script skips) when one is, and an error (the script fails) when
// one is missing under MINIBOX_TEST_PRIVILEGED=1. missing is Missing, or a stand-in in
// tests of this rule.
func Condition(missing func(...Prerequisite) string, needs ...Prerequisite) (bool, error) {
	m := missing(needs...)
	switch {
	case m == "":
		return true, nil
	case Privileged():
		return false, fmt.Errorf("needs %s, and MINIBOX_TEST_PRIVILEGED=1 makes a missing prerequisite fail", m)
	}
	return false, nil
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

// ParentPID is pid's parent, from /proc (a container's shim, for its init).
func ParentPID(t testing.TB, pid int) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name may hold spaces and parentheses: the fields follow its last ')'.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return ppid
}
