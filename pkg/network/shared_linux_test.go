package network

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func TestHostMAC(t *testing.T) {
	a := netip.MustParseAddr("172.30.81.7")
	mac := HostMAC(a)
	if got, ok := hostMACAddr(mac); !ok || got != a {
		t.Errorf("hostMACAddr(%x) = %v, %v", mac, got, ok)
	}
	if mac[0]&1 != 0 || mac[0]&2 == 0 {
		t.Errorf("%x is not a locally administered unicast address", mac)
	}
	if _, ok := hostMACAddr(MAC(a)); ok {
		t.Error("the container side's MAC read as a host side's")
	}
}

// Two daemons on one bridge and table with different subnets (test scripts run several at
// once): each one's start (EnsureBridge, Reconcile) leaves the other's veths, port rules and
// masquerade alone, and both keep working.
func TestSharedBridgePrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.cfg
	other.Subnet = netip.MustParsePrefix("172.30.9.0/24")
	m2, err := New(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close() })
	if err := e.m.EnsureBridge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.EnsureBridge(ctx); err != nil {
		t.Fatal(err)
	}
	a := e.container("a", "172.19.0.2", Port{HostPort: 8091, ContainerPort: 80, Proto: "tcp"})
	b := e.container("b", "172.30.9.2", Port{HostPort: 8092, ContainerPort: 80, Proto: "tcp"})
	e.attach(a)
	if err := m2.Attach(ctx, &b.ep); err != nil {
		t.Fatal(err)
	}
	// Each daemon restarts knowing only its own containers; the first one twice, since its
	// EnsureBridge runs again.
	for _, m := range []*Manager{e.m, m2, e.m} {
		var running []Endpoint
		if m == e.m {
			running = []Endpoint{a.ep}
		} else {
			running = []Endpoint{b.ep}
		}
		if err := m.Reconcile(ctx, running); err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if err := m.EnsureBridge(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if links := e.mbLinks(); len(links) != 2 {
		t.Errorf("veths after both daemons' starts: %v", links)
	}
	for _, c := range []struct {
		addr, want string
	}{{"127.0.0.1:8091", "a 172.19.0.1"}, {"127.0.0.1:8092", "b 172.30.9.1"}} {
		if got, err := e.host.tcpHello(c.addr); err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
	// Both subnets are masqueraded to the external host.
	e.ext.serve(t, "x", 7070, 0)
	for _, c := range []*container{a, b} {
		if got, err := c.tcpHello(e.extIP.String() + ":7070"); err != nil || got != "x "+e.hostIP.String() {
			t.Errorf("%s to the external host: %q, %v", c.name, got, err)
		}
	}
	rules := e.host.nft(t, "list", "chain", "ip", e.cfg.Table, chainPostrouting)
	for _, s := range []string{"172.19.0.0/24", "172.30.9.0/24"} {
		// Masquerade out, the host's own connections to a published port, hairpin: each
		// daemon's stay when the other one writes the table.
		if n := strings.Count(rules, `comment "minibox subnet `+s+`"`); n != 3 {
			t.Errorf("%d postrouting rules for %s, want 3:\n%s", n, s, rules)
		}
	}
	if n := strings.Count(rules, `comment "minibox"`); n != 0 {
		t.Errorf("%d shared postrouting rules, want none:\n%s", n, rules)
	}
	for _, c := range []string{chainGuard, chainPrerouting, chainOutput} {
		if n := strings.Count(e.host.nft(t, "list", "chain", "ip", e.cfg.Table, c), `comment "minibox"`); n != 1 {
			t.Errorf("%d shared rules in %s after three writes, want 1", n, c)
		}
	}
	// Each daemon's Reconcile(nil) removes only its own.
	if err := m2.Reconcile(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if links := e.mbLinks(); len(links) != 1 || links[0] != VethName(a.ep.ID) {
		t.Errorf("veths after the second daemon's Reconcile(nil): %v", links)
	}
	if n := e.portRuleCount(); n != 1 {
		t.Errorf("%d port rules, want a's 1", n)
	}
	if err := e.m.Reconcile(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if links, n := e.mbLinks(), e.portRuleCount(); len(links) != 0 || n != 0 {
		t.Errorf("after both Reconcile(nil): veths %v, %d rules", links, n)
	}
}
