package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkNetworkCreateRemove: `network create` + `network rm` of a user-defined network
// (bridge, address, rules, record, and back), CLI and daemon included, beside its peer: the
// bridge and its address made and removed with iproute2 (`ip link add`, `ip addr add`,
// `ip link del`: three processes, no rules, no record). Medians of 30 each, interleaved.
// Beside them, for the parts: the same create + rm through the API from this process (no
// CLI process), and one CLI call that asks the daemon next to nothing (`network ls -q`).
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
	const n = 30
	var mb, ip, apiT, cli []time.Duration
	for i := 0; b.Loop(); i++ {
		for j := 0; j < n; j++ {
			name := "bn" + strconv.Itoa(i*n+j)
			mb = append(mb, timed(mbCmd(b, d, "network", "create", "--subnet", "10.234.9.0/24", name), mbCmd(b, d, "network", "rm", name)))
			ip = append(ip, timed(exec.Command("ip", "link", "add", "mbbench0", "type", "bridge"),
				exec.Command("ip", "addr", "add", "10.234.10.1/24", "dev", "mbbench0"),
				exec.Command("ip", "link", "del", "mbbench0")))
			apiT = append(apiT, viaAPI("ba"+strconv.Itoa(i*n+j)))
			cli = append(cli, timed(mbCmd(b, d, "network", "ls", "-q")))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(mb)), "ms-create+rm")
	b.ReportMetric(ms(median(ip)), "ms-iproute2")
	b.ReportMetric(float64(median(mb))/float64(median(ip)), "minibox/iproute2")
	b.ReportMetric(ms(median(apiT)), "ms-api-create+rm")
	b.ReportMetric(ms(median(cli)), "ms-cli-call")
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
