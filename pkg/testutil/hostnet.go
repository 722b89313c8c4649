package testutil

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The host objects every daemon shares and, like dockerd its docker0, keeps when it stops:
// a test run that made them takes them away again once nothing uses them.
const (
	hostBridge   = "minibox0"
	hostTable    = "minibox"
	hostClaimDir = "/run/minibox/subnets"
	ipForward    = "/proc/sys/net/ipv4/ip_forward"
)

// LeaveHostAsFound notes whether minibox0, the nftables table `ip minibox` and the subnet
// claim directory exist now, and returns what removes, at the end of the run, each one
// this run made and nothing uses any more: a bridge with no IPv4 address and no port, a
// table with no subnet's rules, an empty claim directory; IPv4 forwarding goes back off
// with the bridge if it was off. What existed before stays, and so does anything a running
// daemon uses (it keeps its gateway address and its rules).
func LeaveHostAsFound() func() { return leaveAsFound(hostBridge, hostTable, hostClaimDir) }

func leaveAsFound(bridge, table, claimDir string) func() {
	hadBridge := exec.Command("ip", "link", "show", "dev", bridge).Run() == nil
	hadTable := exec.Command("nft", "list", "table", "ip", table).Run() == nil
	_, err := os.Stat(claimDir)
	hadClaims := err == nil
	forwarding, _ := os.ReadFile(ipForward)
	return func() {
		if !hadBridge && bridgeUnused(bridge) {
			exec.Command("ip", "link", "del", "dev", bridge).Run()
			// Daemons turn forwarding on; with the bridge gone nothing of theirs needs it.
			if string(forwarding) == "0\n" {
				os.WriteFile(ipForward, forwarding, 0o644)
			}
		}
		if !hadTable {
			if out, err := exec.Command("nft", "list", "table", "ip", table).Output(); err == nil &&
				!strings.Contains(string(out), `comment "minibox subnet `) {
				exec.Command("nft", "delete", "table", "ip", table).Run()
			}
		}
		if !hadClaims {
			os.Remove(claimDir) // only when empty
			os.Remove(filepath.Dir(claimDir))
		}
	}
}

func bridgeUnused(bridge string) bool {
	out, err := exec.Command("ip", "-j", "addr", "show", "dev", bridge).Output()
	if err != nil {
		return false
	}
	var links []struct {
		Addrs []struct {
			Family string `json:"family"`
		} `json:"addr_info"`
	}
	if json.Unmarshal(out, &links) != nil || len(links) != 1 {
		return false
	}
	for _, a := range links[0].Addrs {
		if a.Family == "inet" {
			return false
		}
	}
	ports, err := exec.Command("ip", "-o", "link", "show", "master", bridge).Output()
	return err == nil && strings.TrimSpace(string(ports)) == ""
}
