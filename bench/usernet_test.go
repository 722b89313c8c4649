package bench

import (
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkNetworkCreateRemove: `network create` + `network rm` of a user-defined network
// (bridge, address, rules, record, and back), CLI and daemon included.
func BenchmarkNetworkCreateRemove(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d := startNetDaemon(b)
	for i := 0; b.Loop(); i++ {
		name := "bn" + strconv.Itoa(i)
		for _, args := range [][]string{{"network", "create", "--subnet", "10.234.9.0/24", name}, {"network", "rm", name}} {
			if out, err := mbCmd(b, d, args...).CombinedOutput(); err != nil {
				b.Fatalf("minibox %v: %v %s", args, err, out)
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

// BenchmarkDNSAnswer: 10 000 lookups of a container's name from the host's side of the
// network, against the embedded resolver on the gateway: p50 and p99.
func BenchmarkDNSAnswer(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d := startNetDaemon(b)
	mb := func(args ...string) {
		if out, err := mbCmd(b, d, args...).CombinedOutput(); err != nil {
			b.Fatalf("minibox %v: %v %s", args, err, out)
		}
	}
	mb("network", "create", "--subnet", "10.234.7.0/24", "dnsbench")
	b.Cleanup(func() { mbCmd(b, d, "network", "rm", "dnsbench").Run() })
	mb("run", "-d", "--name", "named", "--network", "dnsbench", "busybox", "sleep", "1000")
	b.Cleanup(func() { mbCmd(b, d, "rm", "-f", "named").Run() })
	// The resolver answers its own subnet only: ask from the gateway address itself.
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second,
		Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.IPv4(10, 234, 7, 1)}}}
	q := new(dns.Msg)
	q.SetQuestion("named.", dns.TypeA)
	const n = 10000
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for i := 0; i < n; i++ {
			t := time.Now()
			in, _, err := c.Exchange(q, "10.234.7.1:53")
			if err != nil || len(in.Answer) != 1 {
				b.Fatalf("lookup %d: %v %v", i, in, err)
			}
			lat = append(lat, time.Since(t))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}
