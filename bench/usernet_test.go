package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkNetworkCreateRemove: `network create` + `network rm` of a user-defined network
// (bridge, address, rules, record, and back), CLI and daemon included, beside its peers:
// the bridge and its address made and removed with iproute2 (`ip link add`, `ip addr add`,
// `ip link del`: three processes, no rules, no record), and the kernel's floor: the same
// bridge made up with its alias and address, and removed, from this process through
// rtnetlink, until the kernel announces it unlisted (what `network rm` waits for; `ip link
// del` waits longer, for the device's release). Medians of 30 each, interleaved. Beside
// them, for the parts: the same create + rm through the API from this process (no CLI
// process), one API call that asks the daemon next to nothing (the network list: what a
// request costs), and one CLI call doing the same (`network ls -q`: what a CLI process
// costs).
func BenchmarkNetworkCreateRemove(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d := startNetDaemon(b)
	timed := func(cmds ...*exec.Cmd) time.Duration {
		t := time.Now()
		for _, c := range cmds {
			if out, err := c.CombinedOutput(); err != nil {
				b.Fatalf("%v: %v %s", c.Args, err, out)
			}
		}
		return time.Since(t)
	}
	ctx := context.Background()
	viaAPI := func(name string) time.Duration {
		t := time.Now()
		if _, err := d.api.NetworkCreate(ctx, &api.NetworkCreateRequest{Name: name, Subnet: "10.234.9.0/24"}); err != nil {
			b.Fatalf("create %s: %v", name, err)
		}
		if err := d.api.NetworkRemove(ctx, name); err != nil {
			b.Fatalf("rm %s: %v", name, err)
		}
		return time.Since(t)
	}
	rt, err := rtnetlink.Dial(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	const n = 30
	var mb, ip, apiT, apiCall, cli, kern []time.Duration
	for i := 0; b.Loop(); i++ {
		for j := 0; j < n; j++ {
			name := "bn" + strconv.Itoa(i*n+j)
			mb = append(mb, timed(mbCmd(b, d, "network", "create", "--subnet", "10.234.9.0/24", name), mbCmd(b, d, "network", "rm", name)))
			ip = append(ip, timed(exec.Command("ip", "link", "add", "mbbench0", "type", "bridge"),
				exec.Command("ip", "addr", "add", "10.234.10.1/24", "dev", "mbbench0"),
				exec.Command("ip", "link", "del", "mbbench0")))
			apiT = append(apiT, viaAPI("ba"+strconv.Itoa(i*n+j)))
			t := time.Now()
			if _, err := d.api.NetworkList(ctx); err != nil {
				b.Fatal(err)
			}
			apiCall = append(apiCall, time.Since(t))
			cli = append(cli, timed(mbCmd(b, d, "network", "ls", "-q")))
			kern = append(kern, kernelBridge(b, rt, "mbbenchk0", netip.MustParsePrefix("10.234.11.1/24")))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(mb)), "ms-create+rm")
	b.ReportMetric(ms(median(ip)), "ms-iproute2")
	b.ReportMetric(float64(median(mb))/float64(median(ip)), "minibox/iproute2")
	b.ReportMetric(ms(median(apiT)), "ms-api-create+rm")
	b.ReportMetric(ms(median(apiCall)), "ms-api-call")
	b.ReportMetric(ms(median(cli)), "ms-cli-call")
	b.ReportMetric(ms(median(kern)), "ms-kernel-floor")
	b.ReportMetric(float64(median(apiT))/float64(median(kern)), "api/kernel-floor")
}

// kernelBridge makes bridge name up, with an alias and address gw, and removes it, through
// rtnetlink from this process; it returns once the kernel announced the bridge unlisted.
func kernelBridge(b *testing.B, rt *rtnetlink.Conn, name string, gw netip.Prefix) time.Duration {
	events, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{Groups: unix.RTMGRP_LINK})
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	t := time.Now()
	if err := rt.Link.New(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: name, Info: &rtnetlink.LinkInfo{Kind: "bridge"}}}); err != nil {
		b.Fatalf("create bridge %s: %v", name, err)
	}
	msgs, err := rt.Execute(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Attributes: &rtnetlink.LinkAttributes{Name: name}},
		unix.RTM_GETLINK, netlink.Request)
	if err != nil || len(msgs) != 1 {
		b.Fatalf("get bridge %s: %v", name, err)
	}
	index := msgs[0].(*rtnetlink.LinkMessage).Index
	alias := "minibox bench"
	if err := rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: index, Attributes: &rtnetlink.LinkAttributes{Alias: &alias}}); err != nil {
		b.Fatalf("alias of %s: %v", name, err)
	}
	a := gw.Addr().AsSlice()
	if err := rt.Address.New(&rtnetlink.AddressMessage{Family: unix.AF_INET, PrefixLength: uint8(gw.Bits()), Index: index,
		Attributes: &rtnetlink.AddressAttributes{Address: a, Local: a}}); err != nil {
		b.Fatalf("address of %s: %v", name, err)
	}
	deleted := make(chan error, 1)
	go func() {
		_, err := rt.Execute(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Attributes: &rtnetlink.LinkAttributes{Name: name}},
			unix.RTM_DELLINK, netlink.Request|netlink.Acknowledge)
		deleted <- err
	}()
	for {
		ms, err := events.Receive()
		if err != nil {
			b.Fatalf("link events: %v", err)
		}
		for _, m := range ms {
			var l rtnetlink.LinkMessage
			if m.Header.Type == unix.RTM_DELLINK && l.UnmarshalBinary(m.Data) == nil && l.Family == unix.AF_UNSPEC &&
				l.Attributes != nil && l.Attributes.Name == name {
				el := time.Since(t)
				if err := <-deleted; err != nil { // the next round reuses the name
					b.Fatalf("delete bridge %s: %v", name, err)
				}
				return el
			}
		}
	}
}

// BenchmarkRunUserNetwork: `run --rm busybox true` on a user-defined network beside the
// same on the default bridge, medians of 30 each, interleaved.
func BenchmarkRunUserNetwork(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d := startNetDaemon(b)
	run := func(args ...string) time.Duration {
		t := time.Now()
		if out, err := mbCmd(b, d, args...).CombinedOutput(); err != nil {
			b.Fatalf("minibox %v: %v %s", args, err, out)
		}
		return time.Since(t)
	}
	run("network", "create", "--subnet", "10.234.8.0/24", "benchnet")
	b.Cleanup(func() { mbCmd(b, d, "network", "rm", "benchnet").Run() })
	run("run", "--rm", "busybox", "true")
	const n = 30
	var user, bridge []time.Duration
	for b.Loop() {
		for i := 0; i < n; i++ {
			user = append(user, run("run", "--rm", "--network", "benchnet", "busybox", "true"))
			bridge = append(bridge, run("run", "--rm", "busybox", "true"))
		}
	}
	slices.Sort(user)
	slices.Sort(bridge)
	b.ReportMetric(float64(user[len(user)/2].Microseconds())/1000, "user-ms")
	b.ReportMetric(float64(bridge[len(bridge)/2].Microseconds())/1000, "bridge-ms")
	b.ReportMetric(float64(user[len(user)/2])/float64(bridge[len(bridge)/2]), "user/bridge")
}

// BenchmarkDNSAnswer: 10 000 lookups of a container's name seen from a container (from its
// network namespace, through its veth and the bridge), against the embedded resolver on
// the gateway, beside its peer: a bare miekg/dns server on the same gateway answering the
// same name from memory. Lookups alternate between the two; p50 and p99 of each.
func BenchmarkDNSAnswer(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d := startNetDaemon(b)
	mb := func(args ...string) string {
		out, err := mbCmd(b, d, args...).Output()
		if err != nil {
			b.Fatalf("minibox %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	mb("network", "create", "--subnet", "10.234.7.0/24", "dnsbench")
	b.Cleanup(func() { mbCmd(b, d, "network", "rm", "dnsbench").Run() })
	mb("run", "-d", "--name", "named", "--network", "dnsbench", "busybox", "sleep", "1000")
	b.Cleanup(func() { mbCmd(b, d, "rm", "-f", "named").Run() })
	mb("run", "-d", "--name", "asker", "--network", "dnsbench", "busybox", "sleep", "1000")
	b.Cleanup(func() { mbCmd(b, d, "rm", "-f", "asker").Run() })
	pid := mb("inspect", "-f", "{{.State.Pid}}", "asker")

	pc, err := net.ListenPacket("udp4", "10.234.7.1:5354")
	if err != nil {
		b.Fatal(err)
	}
	peer := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(10, 234, 7, 2)})
		w.WriteMsg(m)
	})}
	go peer.ActivateAndServe()
	defer peer.Shutdown()

	const n = 10000
	var ours, bare []time.Duration
	for b.Loop() {
		ours, bare = ours[:0], bare[:0]
		err := inNetNS("/proc/"+pid+"/ns/net", func() error {
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			q := new(dns.Msg)
			q.SetQuestion("named.", dns.TypeA)
			for i := 0; i < n; i++ {
				for _, s := range []struct {
					addr string
					lat  *[]time.Duration
				}{{"10.234.7.1:53", &ours}, {"10.234.7.1:5354", &bare}} {
					t := time.Now()
					in, _, err := c.Exchange(q, s.addr)
					if err != nil || len(in.Answer) != 1 {
						return fmt.Errorf("lookup %d at %s: %v %v", i, s.addr, in, err)
					}
					*s.lat = append(*s.lat, time.Since(t))
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(ours)
	slices.Sort(bare)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	b.ReportMetric(us(ours[n/2]), "p50-us")
	b.ReportMetric(us(ours[n*99/100]), "p99-us")
	b.ReportMetric(us(bare[n/2]), "peer-p50-us")
	b.ReportMetric(us(bare[n*99/100]), "peer-p99-us")
	b.ReportMetric(float64(ours[n*99/100])/float64(bare[n*99/100]), "p99/peer")
}

// inNetNS runs fn on a thread that joined the network namespace at path; the thread is
// not handed back to the scheduler (it ends with the goroutine), so nothing else runs there.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
