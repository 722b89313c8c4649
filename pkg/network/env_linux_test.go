package network

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/testutil"
)

// nsThread is a locked OS thread in a network namespace of its own: a stand-in host, or a
// container (its TID is the "PID" Attach takes). Sockets made inside do() live in it. When
// closed the thread exits, and the namespace dies with its last reference.
type nsThread struct {
	name string
	tid  int
	fns  chan func()
	done chan struct{}
}

func newNS(t testing.TB, name string) *nsThread {
	t.Helper()
	n := &nsThread{name: name, fns: make(chan func()), done: make(chan struct{})}
	ready := make(chan error)
	go func() {
		defer close(n.done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		n.tid = unix.Gettid()
		ready <- nil
		for fn := range n.fns {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("%s: unshare netns: %v", name, err)
	}
	t.Cleanup(n.close)
	n.do(func() { // lo up, as any host or container has it
		c, err := rtnetlink.Dial(nil)
		if err == nil {
			c.Link.Set(&rtnetlink.LinkMessage{Index: 1, Flags: unix.IFF_UP, Change: unix.IFF_UP})
			c.Close()
		}
	})
	return n
}

func (n *nsThread) close() {
	select {
	case <-n.done:
		return
	default:
	}
	close(n.fns)
	<-n.done
}

// do runs fn on the namespace's thread and waits for it.
func (n *nsThread) do(fn func()) {
	ch := make(chan struct{})
	n.fns <- func() { defer close(ch); fn() }
	<-ch
}

func (n *nsThread) path() string { return fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), n.tid) }

func (n *nsThread) rtnl(t testing.TB) *rtnetlink.Conn {
	t.Helper()
	f, err := os.Open(n.path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nft runs the nft binary (tests only) in the namespace.
func (n *nsThread) nft(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + n.path(), "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randID() string { return randHex(64) }

// env is a stand-in host with minibox's Manager in it and an external host X on a veth:
//
//	X (198.18.0.2) --veth-- H (198.18.0.1, bridge 172.19.0.1/24) --veths-- containers
type env struct {
	t      testing.TB
	host   *nsThread
	ext    *nsThread
	m      *Manager
	cfg    Config
	hostIP netip.Addr // H's address on the external link
	extIP  netip.Addr
}

const apiPort = 9999

func newEnv(t testing.TB) *env {
	t.Helper()
	testutil.RequirePrivileged(t, testutil.NetAdmin, testutil.Nftables)
	suffix := randHex(6)
	e := &env{t: t, host: newNS(t, "host"), ext: newNS(t, "ext"),
		hostIP: netip.MustParseAddr("198.18.0.1"), extIP: netip.MustParseAddr("198.18.0.2")}
	// The external link: hx<suffix> in H, eth0 in X.
	hc, xc := e.host.rtnl(t), e.ext.rtnl(t)
	xf, err := os.Open(e.ext.path())
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	err = hc.Link.New(&rtnetlink.LinkMessage{Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: "hx" + suffix, Info: &rtnetlink.LinkInfo{Kind: "veth",
			Data: &driver.Veth{PeerInfo: &rtnetlink.LinkMessage{
				Attributes: &rtnetlink.LinkAttributes{Name: "eth0", NetNS: rtnetlink.NetNSForFD(uint32(xf.Fd()))}}}}}})
	if err != nil {
		t.Fatalf("external veth: %v", err)
	}
	addAddr(t, hc, "hx"+suffix, netip.MustParsePrefix("198.18.0.1/24"))
	addAddr(t, xc, "eth0", netip.MustParsePrefix("198.18.0.2/24"))
	if x, err := linkByName(xc, "eth0"); err != nil {
		t.Fatal(err)
	} else if err := xc.Link.Set(&rtnetlink.LinkMessage{Index: x.Index, Flags: unix.IFF_UP, Change: unix.IFF_UP}); err != nil {
		t.Fatal(err)
	}
	e.cfg = Config{Bridge: "mbt" + suffix, Table: "mbtest" + suffix, APIPort: apiPort, NetNS: e.host.path()}
	e.m, err = New(e.cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.m.Close() })
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func addAddr(t testing.TB, c *rtnetlink.Conn, link string, p netip.Prefix) {
	t.Helper()
	l, err := linkByName(c, link)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Address.New(&rtnetlink.AddressMessage{Family: unix.AF_INET, PrefixLength: uint8(p.Bits()), Index: l.Index,
		Attributes: &rtnetlink.AddressAttributes{Address: p.Addr().AsSlice(), Local: p.Addr().AsSlice()}}); err != nil {
		t.Fatalf("address %s on %s: %v", p, link, err)
	}
}

// container is a thread in its own network namespace with a TCP and a UDP server that
// answer "<name> <client address>".
type container struct {
	*nsThread
	ep Endpoint
}

func (e *env) container(name string, addr string, ports ...Port) *container {
	e.t.Helper()
	c := &container{nsThread: newNS(e.t, name)}
	c.ep = Endpoint{ID: randID(), PID: c.tid, Addr: netip.MustParseAddr(addr), Ports: ports}
	c.serve(e.t, name, 80, 53)
	return c
}

// serve starts a TCP server on tcpPort and a UDP one on udpPort in the namespace; each
// answers "<name> <client ip>".
func (n *nsThread) serve(t testing.TB, name string, tcpPort, udpPort int) {
	var ln net.Listener
	var pc net.PacketConn
	var err error
	n.do(func() {
		if ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", tcpPort)); err != nil {
			return
		}
		if udpPort > 0 {
			pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", udpPort))
		}
	})
	if err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				ip := c.RemoteAddr().(*net.TCPAddr).IP
				fmt.Fprintf(c, "%s %s\n", name, ip)
				io.Copy(c, c) // echo, for throughput
			}()
		}
	}()
	if pc == nil {
		return
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(fmt.Sprintf("%s %s\n", name, from.(*net.UDPAddr).IP)), from)
		}
	}()
}

// tcpHello connects from inside n to addr and returns the server's first line.
func (n *nsThread) tcpHello(addr string) (string, error) {
	var line string
	var err error
	n.do(func() {
		var c net.Conn
		if c, err = net.DialTimeout("tcp4", addr, 2*time.Second); err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		line, err = bufio.NewReader(c).ReadString('\n')
		line = strings.TrimSpace(line)
	})
	return line, err
}

// udpOnce sends one datagram from local port lport and waits briefly for an answer.
func (n *nsThread) udpOnce(lport int, addr string, wait time.Duration) (string, error) {
	var line string
	var err error
	n.do(func() {
		var c *net.UDPConn
		raddr, _ := net.ResolveUDPAddr("udp4", addr)
		if c, err = net.DialUDP("udp4", &net.UDPAddr{Port: lport}, raddr); err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1500)
		c.Write([]byte("hi"))
		c.SetReadDeadline(time.Now().Add(wait))
		var k int
		if k, err = c.Read(buf); err == nil {
			line = strings.TrimSpace(string(buf[:k]))
		}
	})
	return line, err
}

// udpHello sends a datagram from inside n to addr, retrying to a deadline (the first may
// race ARP), and returns the answer.
func (n *nsThread) udpHello(addr string) (string, error) {
	var line string
	var err error
	n.do(func() {
		var c net.Conn
		if c, err = net.Dial("udp4", addr); err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1500)
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			c.Write([]byte("hi"))
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			var k int
			if k, err = c.Read(buf); err == nil {
				line = strings.TrimSpace(string(buf[:k]))
				return
			}
		}
	})
	return line, err
}

func (e *env) attach(c *container) {
	e.t.Helper()
	if err := e.m.Attach(context.Background(), &c.ep); err != nil {
		e.t.Fatalf("attach %s: %v", c.name, err)
	}
}

// mbLinks lists the mb* veths in H.
func (e *env) mbLinks() []string {
	e.t.Helper()
	e.m.mu.Lock()
	e.m.waitDeletes()
	e.m.mu.Unlock()
	links, err := e.host.rtnl(e.t).Link.List()
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		if isVethName(l.Attributes.Name) {
			names = append(names, l.Attributes.Name)
		}
	}
	return names
}

// portRuleCount counts the rules of the ports chain.
func (e *env) portRuleCount() int {
	e.t.Helper()
	rules, err := e.m.nft.GetRules(e.m.tableRef(), e.m.chainRef(chainPorts))
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rules)
}

// foreignTable adds a table of "someone else" in H, to prove minibox leaves it alone.
func (e *env) foreignTable() {
	e.t.Helper()
	f, err := os.Open(e.host.path())
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		e.t.Fatal(err)
	}
	tb := c.AddTable(&nftables.Table{Name: "other" + randHex(4), Family: nftables.TableFamilyINet})
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{Name: "input", Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	c.AddRule(&nftables.Rule{Table: tb, Chain: ch, Exprs: []expr.Any{&expr.Counter{}}})
	if err := c.Flush(); err != nil {
		e.t.Fatal(err)
	}
}

// rulesetWithout is `nft list ruleset` in H minus minibox's table, counters zeroed.
func (e *env) rulesetWithout() string {
	out := e.host.nft(e.t, "list", "ruleset")
	var keep []string
	skip := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "table ip "+e.cfg.Table+" ") {
			skip = true
		}
		if !skip {
			if i := strings.Index(l, "counter packets"); i >= 0 {
				l = l[:i] + "counter"
			}
			keep = append(keep, l)
		}
		if skip && l == "}" {
			skip = false
		}
	}
	return strings.Join(keep, "\n")
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
