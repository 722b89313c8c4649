package dnsd

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/dnstable"
	"github.com/minibox/minibox/pkg/testutil"
)

// TestChangeSeenAtOnce: a query made right after the table's file changed gets the new
// answer, without the SIGHUP the daemon sends and before the resolver's own poll, as a
// rename or a disconnect right before a lookup needs.
func TestChangeSeenAtOnce(t *testing.T) {
	testutil.RequirePrivileged(t) // port 53
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "networks"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A loopback address of its own as the gateway: the test's queries come from
	// 127.0.0.1, inside the network's subnet.
	gw := netip.MustParseAddr("127.77.0.1")
	write := func(addr string) {
		n := dnstable.Network{ID: "test", Gateway: gw, Subnet: netip.MustParsePrefix("127.0.0.0/8")}
		n.Add("web", netip.MustParseAddr(addr))
		b, err := json.Marshal(&dnstable.Table{Networks: []dnstable.Network{n}})
		if err != nil {
			t.Fatal(err)
		}
		tmp := dnstable.Path(root) + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, dnstable.Path(root)); err != nil {
			t.Fatal(err)
		}
	}
	write("10.9.0.2")
	ready, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Close()
	// Main takes the ready fd by number: hand it a dup the resolver closes.
	fd, err := unix.Dup(int(readyW.Fd()))
	readyW.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Main(ctx, []string{"--root", root, "--ready-fd", strconv.Itoa(fd)}) }()
	defer func() {
		cancel()
		<-done
	}()
	if _, err := ready.Read(make([]byte, 1)); err == nil {
		t.Fatal("ready fd: read data, want EOF")
	}
	lookup := func() string {
		q := new(dns.Msg)
		q.SetQuestion("web.", dns.TypeA)
		c := &dns.Client{Timeout: 2 * time.Second}
		m, _, err := c.Exchange(q, netip.AddrPortFrom(gw, 53).String())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Answer) != 1 {
			t.Fatalf("answer %v", m.Answer)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	if got := lookup(); got != "10.9.0.2" {
		t.Fatalf("web: %s, want 10.9.0.2", got)
	}
	for _, addr := range []string{"10.9.0.3", "10.9.0.4", "10.9.0.5"} {
		write(addr)
		if got := lookup(); got != addr {
			t.Fatalf("web right after the table changed: %s, want %s", got, addr)
		}
	}
}
