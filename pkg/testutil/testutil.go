package testutil

import (
	"os"
	"os/exec"
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
