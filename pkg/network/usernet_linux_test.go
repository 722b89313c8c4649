package network

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// CreateBridge makes a user-defined network's bridge up, with its alias, address, MAC,
// route_localnet and rules (a published port answers on 127.0.0.1). Remove of it, with a
// container still on it that published a port: when it returns, the bridge is gone from
// the host's links and every rule of the network's subnet from the table, while the
// default bridge's rules and container stay as they were.
func TestRemoveUserNetworkPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.m.EnsureBridge(ctx); err != nil {
		t.Fatal(err)
	}
	a := e.container("a", "172.19.0.2", Port{HostPort: 8093, ContainerPort: 80, Proto: "tcp"})
	e.attach(a)
	before := e.host.nft(t, "list", "table", "ip", e.cfg.Table)

	ucfg := e.cfg
	ucfg.Bridge, ucfg.Subnet, ucfg.Alias = "mbu"+randHex(6), netip.MustParsePrefix("10.5.0.0/24"), "minibox:"+randHex(12)+":/test"
	ucfg.Isolate, ucfg.PeerBridge, ucfg.VethKey = true, e.cfg.Bridge, randHex(8)
	u, err := New(ucfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	if err := u.CreateBridge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if !u.Ready() {
		t.Error("CreateBridge left the Manager not ready")
	}
	br, err := linkByName(e.host.rtnl(t), ucfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	if a := br.Attributes; br.Flags&unix.IFF_UP == 0 || a.Alias == nil || *a.Alias != ucfg.Alias ||
		a.Info == nil || a.Info.Kind != "bridge" || !bytes.Equal(a.Address, MAC(netip.MustParseAddr("10.5.0.1"))) {
		t.Errorf("bridge as made: flags %#x alias %v info %+v mac %s", br.Flags, a.Alias, a.Info, a.Address)
	}
	var fwd, rl []byte
	e.host.do(func() {
		fwd, _ = readFile("/proc/sys/net/ipv4/ip_forward")
		rl, _ = readFile("/proc/sys/net/ipv4/conf/" + ucfg.Bridge + "/route_localnet")
	})
	if strings.TrimSpace(string(fwd)) != "1" || strings.TrimSpace(string(rl)) != "1" {
		t.Errorf("ip_forward=%q route_localnet=%q", fwd, rl)
	}
	if subs, err := u.HostSubnets(); err != nil || !slices.Contains(subs, HostSubnet{Prefix: ucfg.Subnet, Index: br.Index}) {
		t.Errorf("host subnets after CreateBridge: %v, %v", subs, err)
	}
	if h, taken, err := u.ForeignOverlap(); err != nil || taken {
		t.Errorf("ForeignOverlap of its own address: %v %v %v", h, taken, err)
	}
	b := e.container("b", "10.5.0.2", Port{HostPort: 8094, ContainerPort: 80, Proto: "tcp"})
	if err := u.Attach(ctx, &b.ep); err != nil {
		t.Fatal(err)
	}
	if got, err := e.host.tcpHello("127.0.0.1:8094"); err != nil || got != "b 10.5.0.1" {
		t.Fatalf("published port on the user network: %q, %v", got, err)
	}
	// The user network's table write left the default bridge's rules alone.
	if got, err := e.host.tcpHello("127.0.0.1:8093"); err != nil || got != "a 172.19.0.1" {
		t.Errorf("default bridge's published port after the user network's setup: %q, %v", got, err)
	}

	if err := u.Remove(ctx, nil); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := linkByName(e.host.rtnl(t), ucfg.Bridge); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("bridge %s after Remove: %v", ucfg.Bridge, err)
	}
	// The bridge may still be on its way out under another name: without the subnet.
	if subs, err := e.m.HostSubnets(); err != nil || slices.ContainsFunc(subs, func(h HostSubnet) bool { return h.Prefix.Overlaps(ucfg.Subnet) }) {
		t.Errorf("host subnets after Remove: %v, %v", subs, err)
	}
	after := e.host.nft(t, "list", "table", "ip", e.cfg.Table)
	if strings.Contains(after, "10.5.0.") || strings.Contains(after, ucfg.Bridge) {
		t.Errorf("rules of the removed network left:\n%s", after)
	}
	for _, line := range strings.Split(before, "\n") {
		if strings.Contains(line, "172.19.0.") && !strings.Contains(after, strings.TrimSpace(line)) {
			t.Errorf("default bridge's rule gone: %s", line)
		}
	}
	if links := e.mbLinks(); len(links) != 1 || links[0] != VethName(a.ep.ID) {
		t.Errorf("veths after Remove: %v, want a's only", links)
	}
	if got, err := e.host.tcpHello("127.0.0.1:8093"); err != nil || got != "a 172.19.0.1" {
		t.Errorf("default bridge's published port after Remove: %q, %v", got, err)
	}
	u.Close() // waits for the kernel to release the bridge
	links, err := e.host.rtnl(t).Link.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Attributes != nil && l.Attributes.Alias != nil && *l.Attributes.Alias == ucfg.Alias {
			t.Errorf("link %s of the removed network after Close", l.Attributes.Name)
		}
	}
}

// CreateBridge's beforeRules (the caller's record) runs before any rule of the network is
// committed, and its failure leaves none; Remove's rulesGone runs once the network's rules
// are gone, before Remove returns, and once.
func TestCreateRemoveHooksPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ucfg := e.cfg
	ucfg.Bridge, ucfg.Subnet, ucfg.Alias = "mbu"+randHex(6), netip.MustParsePrefix("10.6.0.0/24"), "minibox:"+randHex(12)+":/test"
	ucfg.Isolate, ucfg.PeerBridge, ucfg.VethKey = true, e.cfg.Bridge, randHex(8)
	// Safe off the test's goroutine; a table not made yet has no rules.
	rulesOf := func() bool {
		out, _ := exec.Command("nsenter", "--net="+e.host.path(), "nft", "list", "table", "ip", e.cfg.Table).Output()
		return strings.Contains(string(out), "10.6.0.") || strings.Contains(string(out), ucfg.Bridge)
	}

	u, err := New(ucfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("record not written")
	if err := u.CreateBridge(ctx, func() error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("CreateBridge with a failing beforeRules: %v", err)
	}
	if rulesOf() {
		t.Error("rules of the network committed though beforeRules failed")
	}
	if err := u.Remove(ctx, nil); err != nil {
		t.Fatal(err)
	}
	u.Close()

	u, err = New(ucfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	ruled := false
	if err := u.CreateBridge(ctx, func() error { ruled = rulesOf(); return nil }); err != nil {
		t.Fatal(err)
	}
	if ruled {
		t.Error("rules of the network committed before beforeRules returned")
	}
	if !rulesOf() {
		t.Fatal("no rules of the network after CreateBridge")
	}
	calls, leftAtCall := 0, false
	if err := u.Remove(ctx, func() { calls++; leftAtCall = rulesOf() }); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || leftAtCall {
		t.Errorf("rulesGone: called %d times, rules left at the call: %v", calls, leftAtCall)
	}
	if _, err := linkByName(e.host.rtnl(t), ucfg.Bridge); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("bridge %s after Remove: %v", ucfg.Bridge, err)
	}
}
