package network

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/network/connhook"
	"github.com/minibox/minibox/pkg/testutil"
)

// The connect hook rewrites a TCP connect to a mapped address (or, for a wildcard entry, to
// any 127.0.0.0/8 address) in its own namespace only, leaves sockets bound before connect
// and other namespaces alone, and goes when closed.
func TestConnRedirectPrivileged(t *testing.T) {
	testutil.RequirePrivileged(t)
	host, other := newNS(t, "host"), newNS(t, "other")
	for _, n := range []*nsThread{host, other} {
		n.serve(t, n.name, 7100, 0)
	}
	var cookie uint64
	var err error
	host.do(func() { cookie, err = connhook.NetnsCookie() })
	if err != nil {
		t.Fatal(err)
	}
	r, err := connhook.New(cookie)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lo, any := netip.MustParseAddr("127.0.0.1"), netip.IPv4Unspecified()
	to := netip.MustParseAddrPort("127.0.0.1:7100")
	if err := r.Set(lo, 7200, to); err != nil {
		t.Fatal(err)
	}
	if err := r.Set(any, 7201, to); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:7200", "127.0.0.1:7201", "127.0.0.9:7201"} {
		if got, err := host.tcpHello(addr); err != nil || !strings.HasPrefix(got, "host") {
			t.Errorf("%s from the hook's namespace: %q, %v; want the server on 7100", addr, got, err)
		}
		var peer string
		host.do(func() {
			if c, err := net.Dial("tcp4", addr); err == nil {
				peer = c.RemoteAddr().String()
				c.Close()
			}
		})
		if peer != addr {
			t.Errorf("getpeername of a redirected connection to %s: %q", addr, peer)
		}
	}
	for _, addr := range []string{"127.0.0.2:7200", "127.0.0.1:7202"} {
		if got, err := host.tcpHello(addr); err == nil {
			t.Errorf("%s is not mapped, yet answered %q", addr, got)
		}
	}
	if got, err := other.tcpHello("127.0.0.1:7200"); err == nil {
		t.Errorf("another namespace's connect was redirected: %q", got)
	}
	host.do(func() {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
		if c, err := d.Dial("tcp4", "127.0.0.1:7200"); err == nil {
			c.Close()
			t.Error("a socket bound to 127.0.0.1 before connect was redirected")
		}
		d = net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = unix.BindToDevice(int(fd), "lo") })
			return errors.Join(err, serr)
		}}
		if c, err := d.Dial("tcp4", "127.0.0.1:7200"); err == nil {
			c.Close()
			t.Error("a socket bound to lo before connect was redirected")
		} else if !errors.Is(err, unix.ECONNREFUSED) {
			t.Errorf("dial bound to lo: %v; want refused", err)
		}
	})
	if err := r.Unset(lo, 7200); err != nil {
		t.Fatal(err)
	}
	if err := r.Unset(lo, 7200); err != nil {
		t.Errorf("unset of a missing entry: %v", err)
	}
	if got, err := host.tcpHello("127.0.0.1:7200"); err == nil {
		t.Errorf("unset entry still redirects: %q", got)
	}
	r.Close()
	if got, err := host.tcpHello("127.0.0.1:7201"); err == nil {
		t.Errorf("closed hook still redirects: %q", got)
	}
}

func TestRedirectKeyOf(t *testing.T) {
	for _, c := range []struct {
		p    Port
		want string
		ok   bool
	}{
		{Port{HostPort: 80, Proto: "tcp"}, "0.0.0.0", true},
		{Port{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: 80, Proto: "tcp"}, "0.0.0.0", true},
		{Port{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 80, Proto: "tcp"}, "127.0.0.1", true},
		{Port{HostPort: 53, Proto: "udp"}, "", false},
		{Port{HostIP: netip.MustParseAddr("::1"), HostPort: 80, Proto: "tcp"}, "", false},
	} {
		got, ok := redirectKeyOf(c.p)
		if ok != c.ok || (ok && got.String() != c.want) {
			t.Errorf("redirectKeyOf(%v) = %v, %v; want %s, %v", c.p, got, ok, c.want, c.ok)
		}
	}
}
