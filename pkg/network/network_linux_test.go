package network

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/testutil"
)

func TestNetworkPrivileged(t *testing.T) {
	e := newEnv(t)
	hostBefore, _ := exec.Command("nft", "list", "ruleset").CombinedOutput()
	e.foreignTable()
	before := e.rulesetWithout()
	ctx := context.Background()
	for range 2 { // idempotent
		if err := e.m.EnsureBridge(ctx); err != nil {
			t.Fatalf("EnsureBridge: %v", err)
		}
	}
	gw := Gateway(e.m.cfg.Subnet)
	c1 := e.container("c1", "172.19.0.2",
		Port{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		Port{ContainerPort: 80, Proto: "tcp"}, // random host port
		Port{HostPort: 5353, ContainerPort: 53, Proto: "udp"})
	c2 := e.container("c2", "172.19.0.3", Port{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8086, ContainerPort: 80, Proto: "tcp"})
	e.attach(c1)
	e.attach(c2)
	random := c1.ep.Ports[1].HostPort
	if random == 0 {
		t.Fatal("random host port was not written back")
	}
	t.Logf("random host port %d", random)
	// Something the containers can reach on the host, and something on the external host.
	e.host.serve(t, "host", 9000, 0)
	e.host.serve(t, "api", apiPort, 0)
	e.ext.serve(t, "ext", 80, 53)

	expect := func(what, got string, err error, want string) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", what, got, err, want)
		}
	}
	t.Run("inside", func(t *testing.T) { checkInside(t, c1, gw) })
	t.Run("one queue each way", func(t *testing.T) {
		// Both ends are made with one queue (newVeth), as the kernel's default cut them to.
		checkOneQueue(t, c1.nsThread, "eth0")
		checkOneQueue(t, e.host, e.m.cfg.vethName(c1.ep.ID))
	})
	t.Run("container to container", func(t *testing.T) {
		got, err := c1.tcpHello("172.19.0.3:80")
		expect("c1 -> c2", got, err, "c2 172.19.0.2")
	})
	t.Run("container to host", func(t *testing.T) {
		got, err := c1.tcpHello(gw.String() + ":9000")
		expect("c1 -> host", got, err, "host 172.19.0.2")
	})
	t.Run("container to external through masquerade", func(t *testing.T) {
		got, err := c1.tcpHello(e.extIP.String() + ":80")
		expect("c1 -> ext tcp", got, err, "ext "+e.hostIP.String())
		got, err = c2.udpHello(e.extIP.String() + ":53")
		expect("c2 -> ext udp", got, err, "ext "+e.hostIP.String())
	})
	t.Run("published tcp", func(t *testing.T) {
		got, err := e.host.tcpHello("127.0.0.1:8080")
		expect("host 127.0.0.1:8080", got, err, "c1 "+gw.String())
		got, err = e.host.tcpHello(fmt.Sprintf("127.0.0.1:%d", random))
		expect("host 127.0.0.1:random", got, err, "c1 "+gw.String())
		got, err = e.host.tcpHello(e.hostIP.String() + ":8080")
		expect("host own address", got, err, "c1 "+gw.String())
		// The host's own connection to a loopback port takes the connect hook straight to
		// the container (no per-packet NAT): its socket's own address is the bridge's, where
		// DNAT leaves it on loopback; its peer is what it dialled, either way. One to another
		// local address (nft's "fib daddr type local") still goes through DNAT.
		for addr, local := range map[string]string{"127.0.0.1:8080": gw.String(), "127.0.0.1:8086": gw.String(),
			e.hostIP.String() + ":8080": e.hostIP.String()} {
			var peer, self string
			e.host.do(func() {
				if c, err := net.Dial("tcp4", addr); err == nil {
					peer, self = c.RemoteAddr().String(), c.LocalAddr().(*net.TCPAddr).IP.String()
					c.Close()
				}
			})
			if peer != addr || self != local {
				t.Errorf("host's connection to %s: peer %q, own address %q; want %q, %q", addr, peer, self, addr, local)
			}
		}
		got, err = e.ext.tcpHello(e.hostIP.String() + ":8080")
		expect("external host", got, err, "c1 "+e.extIP.String()) // client address kept
	})
	t.Run("published on one host address", func(t *testing.T) {
		got, err := e.host.tcpHello("127.0.0.1:8086")
		expect("host 127.0.0.1:8086", got, err, "c2 "+gw.String())
		if got, err := e.ext.tcpHello(e.hostIP.String() + ":8086"); err == nil {
			t.Errorf("a port published on 127.0.0.1 answered the external host: %q", got)
		}
	})
	t.Run("published udp", func(t *testing.T) {
		got, err := e.host.udpHello("127.0.0.1:5353")
		expect("host 127.0.0.1:5353/udp", got, err, "c1 "+gw.String())
		got, err = e.ext.udpHello(e.hostIP.String() + ":5353")
		expect("external host udp", got, err, "c1 "+e.extIP.String())
	})
	t.Run("hairpin", func(t *testing.T) {
		got, err := c1.tcpHello(e.hostIP.String() + ":8080")
		expect("c1 -> own published port", got, err, "c1 "+gw.String())
		got, err = c2.tcpHello(gw.String() + ":8080")
		expect("c2 -> c1 published via gateway", got, err, "c1 "+gw.String())
	})
	t.Run("api port dropped", func(t *testing.T) {
		got, err := e.host.tcpHello(fmt.Sprintf("127.0.0.1:%d", apiPort))
		expect("host -> api", got, err, "api 127.0.0.1")
		if got, err := c1.tcpHello(fmt.Sprintf("%s:%d", gw, apiPort)); err == nil {
			t.Errorf("container reached the daemon's API port: %q", got)
		}
	})
	t.Run("port taken", func(t *testing.T) { checkPortTaken(t, e) })
	t.Run("counters", func(t *testing.T) {
		rx, tx, err := e.m.Counters(c1.ep.ID)
		if err != nil || rx == 0 || tx == 0 {
			t.Errorf("Counters = %d, %d, %v", rx, tx, err)
		}
	})
	t.Run("detach", func(t *testing.T) { checkDetach(t, e, c1) })
	if err := e.m.Detach(ctx, c2.ep.ID); err != nil {
		t.Fatal(err)
	}
	if links, n := e.mbLinks(), e.portRuleCount(); len(links) != 0 || n != 0 {
		t.Errorf("after detaching all: veths %v, %d rules", links, n)
	}
	t.Run("other tables untouched", func(t *testing.T) {
		if after := e.rulesetWithout(); after != before {
			t.Errorf("ruleset outside minibox's table changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		hostAfter, _ := exec.Command("nft", "list", "ruleset").CombinedOutput()
		if !bytes.Equal(zeroCounters(hostBefore), zeroCounters(hostAfter)) {
			t.Errorf("the real host's ruleset changed")
		}
	})
}

// checkInside: the container's eth0 has its MAC and is up, lo is up, and the default
// route goes through the gateway.
func checkInside(t *testing.T, c1 *container, gw netip.Addr) {
	c := c1.rtnl(t)
	eth0, err := linkByName(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(eth0.Attributes.Address, MAC(c1.ep.Addr)) || eth0.Flags&unix.IFF_UP == 0 {
		t.Errorf("eth0: mac %s flags %#x", eth0.Attributes.Address, eth0.Flags)
	}
	lo, err := linkByName(c, "lo")
	if err != nil || lo.Flags&unix.IFF_UP == 0 {
		t.Errorf("lo not up: %v", err)
	}
	routes, err := c.Route.List()
	if err != nil {
		t.Fatal(err)
	}
	def := false
	for _, r := range routes {
		if r.DstLength == 0 && r.Attributes.Gateway.Equal(gw.AsSlice()) {
			def = true
		}
	}
	if !def {
		t.Errorf("no default route via %s", gw)
	}
}

// checkOneQueue checks that link name in ns has one transmit and one receive queue.
func checkOneQueue(t *testing.T, ns *nsThread, name string) {
	t.Helper()
	out, err := exec.Command("nsenter", "--net="+ns.path(), "ip", "-d", "link", "show", name).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show %s: %v %s", name, err, out)
	}
	if !strings.Contains(string(out), "numtxqueues 1 numrxqueues 1") {
		t.Errorf("%s: want one queue each way: %s", name, out)
	}
}

// checkPortTaken: a host port another container or another process holds is a conflict,
// and the failed attach leaves no veth.
func checkPortTaken(t *testing.T, e *env) {
	ctx := context.Background()
	c3 := e.container("c3", "172.19.0.4", Port{HostPort: 8080, ContainerPort: 80, Proto: "tcp"})
	err := e.m.Attach(ctx, &c3.ep)
	if !errors.Is(err, errdefs.ErrConflict) || err.Error() != "host port 0.0.0.0:8080/tcp is already in use" {
		t.Errorf("Attach with a taken port: %v", err)
	}
	// Something else holding a port: the same answer.
	var ln net.Listener
	e.host.do(func() { ln, err = net.Listen("tcp4", "127.0.0.1:7070") })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c3.ep.Ports = []Port{{HostPort: 7070, ContainerPort: 80, Proto: "tcp"}}
	if err := e.m.Attach(ctx, &c3.ep); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Attach onto a listening port: %v", err)
	}
	for _, l := range e.mbLinks() {
		if l == VethName(c3.ep.ID) {
			t.Errorf("failed Attach left veth %s", l)
		}
	}
}

// checkDetach: detaching (twice) removes the veth, the rules and the port hold.
func checkDetach(t *testing.T, e *env, c1 *container) {
	ctx := context.Background()
	for range 2 { // idempotent
		if err := e.m.Detach(ctx, c1.ep.ID); err != nil {
			t.Fatalf("Detach: %v", err)
		}
	}
	if n := e.portRuleCount(); n != 1 { // c2's
		t.Errorf("%d port rules left, want 1", n)
	}
	for _, l := range e.mbLinks() {
		if l == VethName(c1.ep.ID) {
			t.Errorf("veth %s left", l)
		}
	}
	var err error
	e.host.do(func() {
		var ln net.Listener
		if ln, err = net.Listen("tcp4", ":8080"); err == nil {
			ln.Close()
		}
	})
	if err != nil {
		t.Errorf("host port still held after Detach: %v", err)
	}
	if _, err := e.host.tcpHello("127.0.0.1:8080"); err == nil {
		t.Error("published port still answers after Detach")
	}
}

// zeroCounters drops counters, and the real host's own minibox table: daemons of other
// tests (or a real miniboxd) may change it while this test runs in its own namespace.
func zeroCounters(b []byte) []byte {
	var out []string
	skip := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "table ip minibox ") {
			skip = true
		}
		if i := strings.Index(l, "counter packets"); i >= 0 {
			l = l[:i]
		}
		if !skip {
			out = append(out, l)
		}
		if skip && l == "}" {
			skip = false
		}
	}
	return []byte(strings.Join(out, "\n"))
}

// A daemon killed with -9 leaves rules and veths; the next one keeps running containers'
// ports answering, re-acquires their holds and removes everything of the others.
func TestReconcilePrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A first start: nothing to clean, and nothing made (the bridge may be lazy).
	if err := e.m.Reconcile(ctx, nil); err != nil {
		t.Fatalf("Reconcile on a clean host: %v", err)
	}
	if err := e.m.Detach(ctx, randID()); err != nil {
		t.Fatalf("Detach of an unknown id: %v", err)
	}
	if _, _, err := e.m.Counters(randID()); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Counters of an unknown id: %v", err)
	}
	if out := e.host.nft(t, "list", "tables"); strings.Contains(out, e.cfg.Table) {
		t.Errorf("Reconcile(nil) made the table: %s", out)
	}
	live := e.container("live", "172.19.0.2", Port{HostPort: 8081, ContainerPort: 80, Proto: "tcp"},
		Port{HostPort: 5354, ContainerPort: 53, Proto: "udp"})
	gone := e.container("gone", "172.19.0.3", Port{HostPort: 8082, ContainerPort: 80, Proto: "tcp"})
	e.attach(live)
	e.attach(gone)
	e.m.Close() // the daemon dies: holds go, rules and veths stay
	if got, err := e.host.tcpHello("127.0.0.1:8081"); err != nil || got != "live 172.19.0.1" {
		t.Fatalf("published port with the daemon down: %q, %v", got, err)
	}
	m, err := New(e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	t.Cleanup(func() { m.Close() })
	// The saved record lagged the start: no address, no ports. The host has both.
	lagging := Endpoint{ID: live.ep.ID, PID: live.ep.PID}
	adopted, err := m.AdoptLive([]Endpoint{lagging})
	if err != nil {
		t.Fatalf("AdoptLive: %v", err)
	}
	if len(adopted) != 1 || adopted[0].Addr != live.ep.Addr || !slices.Equal(adopted[0].Ports, live.ep.Ports) {
		t.Fatalf("AdoptLive: %+v, want address %s and ports %v", adopted, live.ep.Addr, live.ep.Ports)
	}
	if err := m.Reconcile(ctx, adopted); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if links := e.mbLinks(); len(links) != 1 || links[0] != VethName(live.ep.ID) {
		t.Errorf("veths after Reconcile: %v", links)
	}
	if n := e.portRuleCount(); n != 2 {
		t.Errorf("%d port rules after Reconcile, want 2", n)
	}
	if got, err := e.ext.tcpHello(e.hostIP.String() + ":8081"); err != nil || got != "live "+e.extIP.String() {
		t.Errorf("published port after Reconcile: %q, %v", got, err)
	}
	if _, err := e.host.tcpHello("127.0.0.1:8082"); err == nil {
		t.Error("a removed container's port still answers")
	}
	e.host.do(func() {
		var ln net.Listener
		if ln, err = net.Listen("tcp4", ":8081"); err == nil {
			ln.Close()
		}
	})
	if err == nil {
		t.Error("hold on 8081 not re-acquired")
	}
	// The table vanishes (someone flushed the ruleset): Reconcile puts it back.
	e.host.nft(t, "delete", "table", "ip", e.cfg.Table)
	if err := m.Reconcile(ctx, []Endpoint{live.ep}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if got, err := e.host.tcpHello("127.0.0.1:8081"); err != nil || got != "live 172.19.0.1" {
		t.Errorf("published port after the table was restored: %q, %v", got, err)
	}
	if err := m.Reconcile(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if links, n := e.mbLinks(), e.portRuleCount(); len(links) != 0 || n != 0 {
		t.Errorf("after Reconcile(nil): veths %v, %d rules", links, n)
	}
}

// 50 containers attached and detached leave no veth, rule, hold or address behind.
func TestCyclesPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var used []netip.Addr
	for i := range 50 {
		c := newNS(t, fmt.Sprintf("c%d", i))
		addr, err := e.m.Allocate(used, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		ep := Endpoint{ID: randID(), PID: c.tid, Addr: addr,
			Ports: []Port{{ContainerPort: 80, Proto: "tcp"}, {HostPort: 6000, ContainerPort: 53, Proto: "udp"}}}
		if err := e.m.Attach(ctx, &ep); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := e.m.Detach(ctx, ep.ID); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		c.close()
	}
	if links, n := e.mbLinks(), e.portRuleCount(); len(links) != 0 || n != 0 {
		t.Errorf("after 50 cycles: veths %v, %d rules", links, n)
	}
	if len(e.m.holds) != 0 || len(e.m.attached) != 0 {
		t.Errorf("after 50 cycles: %d holds, %d attached", len(e.m.holds), len(e.m.attached))
	}
	if a, err := e.m.Allocate(nil, netip.Addr{}); err != nil || a != netip.MustParseAddr("172.19.0.2") {
		t.Errorf("Allocate after cycles = %s, %v", a, err)
	}
}

func TestEnsureBridgeRecreatesPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.m.EnsureBridge(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.host.rtnl(t)
	br, err := linkByName(c, e.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Link.Delete(br.Index); err != nil {
		t.Fatal(err)
	}
	// Attach notices the missing bridge and makes it again.
	ct := e.container("c", "172.19.0.2", Port{HostPort: 8090, ContainerPort: 80, Proto: "tcp"})
	e.attach(ct)
	deadline := time.Now().Add(3 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got, err = e.host.tcpHello("127.0.0.1:8090"); err == nil {
			break
		}
	}
	if got != "c 172.19.0.1" {
		t.Errorf("after bridge re-creation: %q, %v", got, err)
	}
	// Removed again under a running container: the next daemon start (Reconcile) rebuilds the
	// bridge and puts the container's veth back on it.
	br, err = linkByName(c, e.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Link.Delete(br.Index); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Reconcile(ctx, []Endpoint{ct.ep}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if got, err := e.ext.tcpHello(e.hostIP.String() + ":8090"); err != nil || got != "c "+e.extIP.String() {
		t.Errorf("after Reconcile re-made the bridge: %q, %v", got, err)
	}
	if got, err := ct.tcpHello(e.hostIP.String() + ":8090"); err != nil || got != "c 172.19.0.1" {
		t.Errorf("hairpin after Reconcile re-made the bridge: %q, %v", got, err)
	}
	var fwd, rl []byte
	e.host.do(func() {
		fwd, _ = readFile("/proc/sys/net/ipv4/ip_forward")
		rl, _ = readFile("/proc/sys/net/ipv4/conf/" + e.cfg.Bridge + "/route_localnet")
	})
	if strings.TrimSpace(string(fwd)) != "1" || strings.TrimSpace(string(rl)) != "1" {
		t.Errorf("ip_forward=%q route_localnet=%q", fwd, rl)
	}
}

// A UDP flow that reached the host before the port was published has a conntrack entry
// without NAT; unless Attach flushes it, the client keeps talking to the host, not the
// container, for as long as it keeps sending.
func TestUDPConntrackFlushPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.m.EnsureBridge(ctx); err != nil {
		t.Fatal(err)
	}
	target := e.hostIP.String() + ":5400"
	if _, err := e.ext.udpOnce(40000, target, 100*time.Millisecond); err == nil {
		t.Fatal("something answers on 5400 before it is published")
	}
	c := e.container("c", "172.19.0.2", Port{HostPort: 5400, ContainerPort: 53, Proto: "udp"})
	e.attach(c)
	var got string
	var err error
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		if got, err = e.ext.udpOnce(40000, target, 200*time.Millisecond); err == nil {
			break
		}
	}
	if got != "c "+e.extIP.String() {
		t.Errorf("same client flow after publishing: %q, %v", got, err)
	}
}

// A restarted container is attached again under the same id (new process, same address and
// ports); another container can never take an attached address.
func TestAttachAgainPrivileged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.container("first", "172.19.0.2", Port{HostPort: 8085, ContainerPort: 80, Proto: "tcp"})
	e.attach(first)
	first.close() // the container stops; its namespace (and its veth) goes
	second := e.container("second", "172.19.0.2")
	ep := first.ep
	ep.PID = second.tid
	if err := e.m.Attach(ctx, &ep); err != nil {
		t.Fatalf("Attach again: %v", err)
	}
	if got, err := e.host.tcpHello("127.0.0.1:8085"); err != nil || got != "second 172.19.0.1" {
		t.Errorf("after re-attach: %q, %v", got, err)
	}
	other := e.container("other", "172.19.0.2")
	if err := e.m.Attach(ctx, &other.ep); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Attach onto an attached address: %v", err)
	}
	if a, err := e.m.Allocate(nil, netip.MustParseAddr("172.19.0.2")); err != nil || a != netip.MustParseAddr("172.19.0.3") {
		t.Errorf("Allocate(preferring an attached address) = %s, %v", a, err)
	}
	if n := e.portRuleCount(); n != 1 {
		t.Errorf("%d port rules, want 1", n)
	}
}

// The daemon's case: no Config.NetNS, everything in the caller's own namespace (here a
// thread's, so the test still leaves the real host alone).
func TestOwnNamespacePrivileged(t *testing.T) {
	testutil.RequirePrivileged(t, testutil.NetAdmin, testutil.Nftables)
	h := newNS(t, "host")
	c := newNS(t, "c")
	c.serve(t, "c", 80, 0)
	ctx := context.Background()
	h.do(func() {
		m, err := New(Config{Bridge: "mbt" + randHex(6), Table: "mbtest" + randHex(6)}, nil)
		if err != nil {
			t.Errorf("New: %v", err)
			return
		}
		defer m.Close()
		ep := Endpoint{ID: randID(), PID: c.tid, Addr: netip.MustParseAddr("172.19.0.2"),
			Ports: []Port{{HostPort: 8087, ContainerPort: 80, Proto: "tcp"}}}
		if err := m.Attach(ctx, &ep); err != nil {
			t.Errorf("Attach: %v", err)
			return
		}
		if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(b)) != "1" {
			t.Errorf("ip_forward = %q in the manager's namespace", b)
		}
		conn, err := net.DialTimeout("tcp4", "127.0.0.1:8087", 2*time.Second)
		if err != nil {
			t.Errorf("published port: %v", err)
			return
		}
		conn.Close()
		if err := m.Detach(ctx, ep.ID); err != nil {
			t.Errorf("Detach: %v", err)
		}
	})
}
