package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestLeaveAsFound(t *testing.T) {
	RequirePrivileged(t, NetAdmin, Nftables)
	const bridge, table = "mbtest-leave", "mbtest_leave"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	exists := func(args ...string) bool { return exec.Command(args[0], args[1:]...).Run() == nil }
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", "dev", bridge).Run()
		exec.Command("nft", "delete", "table", "ip", table).Run()
	})
	claims := filepath.Join(t.TempDir(), "run", "subnets")

	// Made during the run and in use at its end (an address, a subnet's rule): kept.
	done := leaveAsFound(bridge, table, claims)
	run("ip", "link", "add", bridge, "type", "bridge")
	run("ip", "addr", "add", "10.254.77.1/24", "dev", bridge)
	run("nft", "add", "table", "ip", table)
	run("nft", "add", "chain", "ip", table, "c")
	run("nft", "add", "rule", "ip", table, "c", "ip", "saddr", "10.254.77.0/24", "accept", "comment", `"minibox subnet 10.254.77.0/24"`)
	if err := os.MkdirAll(claims, 0o755); err != nil {
		t.Fatal(err)
	}
	run("touch", filepath.Join(claims, "10.254.77.0_24"))
	done()
	if !exists("ip", "link", "show", "dev", bridge) || !exists("nft", "list", "table", "ip", table) {
		t.Fatal("a bridge and a table still in use were removed")
	}
	if _, err := os.Stat(claims); err != nil {
		t.Fatal("a claim directory that is not empty was removed")
	}

	// Once unused, they go.
	run("ip", "addr", "flush", "dev", bridge)
	run("nft", "flush", "chain", "ip", table, "c")
	os.Remove(filepath.Join(claims, "10.254.77.0_24"))
	done()
	if exists("ip", "link", "show", "dev", bridge) || exists("nft", "list", "table", "ip", table) {
		t.Fatal("an unused bridge or table made during the run was left")
	}
	if _, err := os.Stat(filepath.Dir(claims)); !os.IsNotExist(err) {
		t.Fatal("the empty claim directory was left")
	}

	// What was there before the run stays, used or not.
	run("ip", "link", "add", bridge, "type", "bridge")
	run("nft", "add", "table", "ip", table)
	leaveAsFound(bridge, table, claims)()
	if !exists("ip", "link", "show", "dev", bridge) || !exists("nft", "list", "table", "ip", table) {
		t.Fatal("a bridge or table that was there before the run was removed")
	}
}
