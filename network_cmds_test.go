package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// netCmd is the testscript command `net <sub> args...` of the network scripts
// (testdata/script/network_*.txtar):
//
//	net ext-ns                        make a stand-in external host: a netns joined to the
//	                                  host by a veth pair in 198.18.0.0/15; sets EXT_NS,
//	                                  EXT_IP (its address) and HOST_IP (the host's end)
//	net listen [-ext] tcp|udp PORT    a server here (or in EXT_NS) answering "peer <addr>";
//	                                  PORT 0 = a free one; sets LISTEN_PORT
//	net dial [-ext] [-w SECS] tcp|udp HOST:PORT [PAYLOAD]
//	                                  sends PAYLOAD (a line) and prints the reply; retried
//	                                  until SECS (default 10) pass; with !, one try must fail
//	net netecho                       builds a static helper (tcp/udp echo servers, a sink)
//	                                  into a directory; sets NETECHO to it (mount it with -v)
//	net nft-others FILE               writes `nft list ruleset` without minibox's table
//	net leftovers [-w SECS] SUBNET    prints every mb* veth whose address is in SUBNET and
//	                                  every port rule of minibox's table for SUBNET; with -w,
//	                                  waits up to SECS for there to be none
//	net veth-exists NAME              succeeds when the link exists
//	net subnet-traces SUBNET          prints what a daemon adds to the host for SUBNET: its
//	                                  claim, an address of SUBNET on any link, the table's
//	                                  rules tagged for SUBNET and its port rules
//	net port-taken tcp|udp PORT       holds 0.0.0.0:PORT (0: a free one) until the script
//	                                  ends; sets TAKEN_PORT
//	net own-subnet SUBNET             when the script ends (after its containers), removes
//	                                  what a daemon leaves by design for SUBNET: the gateway
//	                                  address on minibox0 and the table's rules for SUBNET
//	net free-port VAR...              sets each VAR to a currently free TCP port
//	net stdout-var VAR REGEXP         sets VAR to the first group of REGEXP in the last stdout
//	net dns-upstream                  a DNS server on 127.0.0.1 (UDP and TCP) answering
//	                                  <anything>.upstream.test A 192.0.2.77, NXDOMAIN else;
//	                                  sets DNS_UPSTREAM to its ip:port (no query leaves the host)
//
// Everything it makes is removed when the script ends.
func netCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: net ext-ns|listen|dial|netecho|nft-others|leftovers|veth-exists|port-taken ...")
	}
	sub, args := args[0], args[1:]
	if sub != "stdout-var" {
		ts.Stdout() // a builtin that writes nothing would leave the previous command's stdout
	}
	switch sub {
	case "ext-ns":
		netExtNS(ts)
	case "listen":
		netListen(ts, args)
	case "dial":
		netDial(ts, neg, args)
		return
	case "netecho":
		netEcho(ts)
	case "nft-others":
		if len(args) != 1 {
			ts.Fatalf("usage: net nft-others FILE")
		}
		out, err := exec.Command("nft", "list", "ruleset").Output()
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(withoutTable(string(out), "ip", "minibox")), 0o644))
	case "leftovers":
		wait := time.Duration(0)
		if len(args) == 3 && args[0] == "-w" {
			s, err := strconv.ParseFloat(args[1], 64)
			ts.Check(err)
			wait, args = time.Duration(s*float64(time.Second)), args[2:]
		}
		if len(args) != 1 {
			ts.Fatalf("usage: net leftovers [-w SECS] SUBNET")
		}
		// Veths go in the background after a container ends: poll for an empty answer.
		deadline := time.Now().Add(wait)
		for {
			left := netLeftovers(ts, args[0])
			if left == "" || time.Now().After(deadline) {
				ts.Stdout().Write([]byte(left))
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	case "subnet-traces":
		if len(args) != 1 {
			ts.Fatalf("usage: net subnet-traces SUBNET")
		}
		ts.Stdout().Write([]byte(subnetTraces(ts, args[0])))
	case "veth-exists":
		err := exec.Command("ip", "link", "show", "dev", args[0]).Run()
		if (err == nil) == neg {
			ts.Fatalf("link %s exists: %v", args[0], err == nil)
		}
		return
	case "port-taken":
		netPortTaken(ts, args)
	case "own-subnet":
		if len(args) != 1 {
			ts.Fatalf("usage: net own-subnet SUBNET")
		}
		pfx, err := netip.ParsePrefix(args[0])
		ts.Check(err)
		ts.Defer(func() { forgetSubnet(pfx.Masked()) })
	case "free-port":
		for _, v := range args {
			ln, err := net.Listen("tcp4", "0.0.0.0:0")
			ts.Check(err)
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			ts.Setenv(v, strconv.Itoa(port))
		}
	case "dns-upstream":
		netDNSUpstream(ts)
	case "stdout-var":
		if len(args) != 2 {
			ts.Fatalf("usage: net stdout-var VAR REGEXP")
		}
		m := regexp.MustCompile(`(?m)` + args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
		if len(m) < 2 {
			ts.Fatalf("stdout-var: %q does not match stdout", args[1])
		}
		ts.Setenv(args[0], m[1])
	default:
		ts.Fatalf("net: unknown subcommand %q", sub)
	}
	if neg {
		ts.Fatalf("net %s: unexpected success", sub)
	}
}

// netExtNS makes netns p8x-<rand> with eth0 = 198.18.R.(4k+2)/30, joined to the host's
// p8h-<rand> = 198.18.R.(4k+1)/30. The external namespace has no route beyond its /30: a
// container's connection only comes back if it was masqueraded to HOST_IP.
func netExtNS(ts *testscript.TestScript) {
	suffix := fmt.Sprintf("%06x", rand.IntN(1<<24))
	ns, hostIf := "p8x-"+suffix, "p8h-"+suffix
	base := netip.AddrFrom4([4]byte{198, 18, byte(rand.IntN(256)), byte(4 * rand.IntN(64))})
	hostIP, extIP := base.Next(), base.Next().Next()
	run := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			ts.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("netns", "add", ns)
	ts.Defer(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", ns)
	ts.Defer(func() { exec.Command("ip", "link", "del", hostIf).Run() })
	run("addr", "add", hostIP.String()+"/30", "dev", hostIf)
	run("link", "set", hostIf, "up")
	run("-n", ns, "addr", "add", extIP.String()+"/30", "dev", "eth0")
	run("-n", ns, "link", "set", "eth0", "up")
	run("-n", ns, "link", "set", "lo", "up")
	ts.Setenv("EXT_NS", ns)
	ts.Setenv("EXT_IP", extIP.String())
	ts.Setenv("HOST_IP", hostIP.String())
	ts.Setenv("HOST_IF", hostIf)
}

// inNS runs fn on a thread in netns name ("" = here). The thread is not returned to the
// pool afterwards: it dies with the goroutine, so no other goroutine inherits the namespace.
func inNS(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", name))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Unshare(unix.CLONE_FS); err != nil { // setns needs an unshared fs
			errc <- err
			return
		}
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func extFlag(ts *testscript.TestScript, args []string) (string, []string) {
	if len(args) > 0 && args[0] == "-ext" {
		ns := ts.Getenv("EXT_NS")
		if ns == "" {
			ts.Fatalf("-ext without `net ext-ns`")
		}
		return ns, args[1:]
	}
	return "", args
}

// netListen serves "peer <remote addr> <first line or datagram>\n" on 0.0.0.0:PORT.
func netListen(ts *testscript.TestScript, args []string) {
	ns, args := extFlag(ts, args)
	if len(args) != 2 {
		ts.Fatalf("usage: net listen [-ext] tcp|udp PORT")
	}
	proto, addr := args[0], ":"+args[1]
	switch proto {
	case "tcp":
		var ln net.Listener
		ts.Check(inNS(ns, func() (err error) { ln, err = net.Listen("tcp4", addr); return err }))
		ts.Defer(func() { ln.Close() })
		ts.Setenv("LISTEN_PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(10 * time.Second))
					line, _ := bufio.NewReader(c).ReadString('\n')
					fmt.Fprintf(c, "peer %s %s\n", c.RemoteAddr(), strings.TrimSpace(line))
				}()
			}
		}()
	case "udp":
		var pc net.PacketConn
		ts.Check(inNS(ns, func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }))
		ts.Defer(func() { pc.Close() })
		ts.Setenv("LISTEN_PORT", strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(fmt.Appendf(nil, "peer %s %s\n", from, strings.TrimSpace(string(buf[:n]))), from)
			}
		}()
	default:
		ts.Fatalf("net listen: protocol %q", proto)
	}
}

// netDial sends one line and prints the reply. Servers in containers take a moment to
// listen, so it retries to a deadline; negated, one try of two seconds must fail.
func netDial(ts *testscript.TestScript, neg bool, args []string) {
	ns, args := extFlag(ts, args)
	wait := 10 * time.Second
	if len(args) > 1 && args[0] == "-w" {
		s, err := strconv.ParseFloat(args[1], 64)
		ts.Check(err)
		wait, args = time.Duration(s*float64(time.Second)), args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: net dial [-ext] [-w SECS] tcp|udp HOST:PORT [PAYLOAD]")
	}
	proto, addr, payload := args[0], args[1], "hello"
	if len(args) == 3 {
		payload = args[2]
	}
	try := func() (string, error) {
		var reply string
		err := inNS(ns, func() error {
			c, err := net.DialTimeout(proto+"4", addr, 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write([]byte(payload + "\n")); err != nil {
				return err
			}
			if proto == "udp" {
				buf := make([]byte, 2048)
				n, err := c.Read(buf)
				reply = string(buf[:n])
				return err
			}
			b := make([]byte, 0, 4096)
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				b = append(b, buf[:n]...)
				if err != nil {
					if len(b) == 0 {
						return err
					}
					break
				}
			}
			reply = string(b)
			return nil
		})
		return reply, err
	}
	if neg {
		if reply, err := try(); err == nil {
			ts.Fatalf("net dial %s %s: answered %q", proto, addr, reply)
		}
		return
	}
	deadline := time.Now().Add(wait)
	for {
		reply, err := try()
		if err == nil {
			ts.Stdout().Write([]byte(reply))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("net dial %s %s: %v", proto, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// netPortTaken binds 127.0.0.1:PORT (or a free port when PORT is 0) and sets TAKEN_PORT.
func netPortTaken(ts *testscript.TestScript, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: net port-taken tcp|udp PORT")
	}
	addr := "0.0.0.0:" + args[1]
	var port int
	switch args[0] {
	case "tcp":
		ln, err := net.Listen("tcp4", addr)
		ts.Check(err)
		ts.Defer(func() { ln.Close() })
		port = ln.Addr().(*net.TCPAddr).Port
	case "udp":
		pc, err := net.ListenPacket("udp4", addr)
		ts.Check(err)
		ts.Defer(func() { pc.Close() })
		port = pc.LocalAddr().(*net.UDPAddr).Port
	default:
		ts.Fatalf("net port-taken: protocol %q", args[0])
	}
	ts.Setenv("TAKEN_PORT", strconv.Itoa(port))
}

// withoutTable drops one table's block from `nft list ruleset` output.
func withoutTable(ruleset, family, name string) string {
	var b strings.Builder
	skip := false
	for _, l := range strings.SplitAfter(ruleset, "\n") {
		if !skip && strings.TrimSpace(l) == "table "+family+" "+name+" {" {
			skip = true
			continue
		}
		if skip {
			if strings.TrimRight(l, "\n") == "}" {
				skip = false
			}
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

var commentRE = regexp.MustCompile(`comment "([0-9a-f]{64}) (\S+) (\S+)"`)

// netLeftovers prints what minibox left for SUBNET: mb* veths whose host side carries an
// address of SUBNET in its MAC (06:42 + IPv4, see pkg/network.HostMAC) and rules of the
// ports chain mapping to an address of SUBNET. Other daemons' (other subnets') are ignored.
func netLeftovers(ts *testscript.TestScript, subnet string) string {
	var b strings.Builder
	pfx, err := netip.ParsePrefix(subnet)
	ts.Check(err)
	ifs, err := net.Interfaces()
	ts.Check(err)
	for _, i := range ifs {
		if !(strings.HasPrefix(i.Name, "mb") || strings.HasPrefix(i.Name, "mn")) || len(i.Name) != 14 {
			continue
		}
		hw := i.HardwareAddr
		if len(hw) == 6 && hw[0] == 0x06 && hw[1] == 0x42 && pfx.Contains(netip.AddrFrom4([4]byte(hw[2:6]))) {
			fmt.Fprintf(&b, "veth %s %s\n", i.Name, hw)
		}
	}
	out, err := exec.Command("nft", "list", "chain", "ip", "minibox", "ports").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No such file") {
			return b.String()
		}
		ts.Fatalf("nft list chain: %v %s", err, out)
	}
	for _, m := range commentRE.FindAllStringSubmatch(string(out), -1) {
		if ap, err := netip.ParseAddrPort(m[3]); err == nil && pfx.Contains(ap.Addr()) {
			fmt.Fprintf(&b, "rule %s\n", m[0])
		}
	}
	return b.String()
}

// subnetTraces lists the claim, addresses, static rules and port rules of subnet.
func subnetTraces(ts *testscript.TestScript, subnet string) string {
	pfx, err := netip.ParsePrefix(subnet)
	ts.Check(err)
	var b strings.Builder
	if owner, err := os.ReadFile("/run/minibox/subnets/" + strings.ReplaceAll(pfx.String(), "/", "_")); err == nil {
		fmt.Fprintf(&b, "claim %s\n", strings.TrimSpace(string(owner)))
	}
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	ts.Check(err)
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[2] == "inet" {
			if p, err := netip.ParsePrefix(f[3]); err == nil && pfx.Overlaps(p) {
				fmt.Fprintf(&b, "address %s dev %s\n", f[3], strings.TrimSuffix(f[1], ":"))
			}
		}
	}
	out, err = exec.Command("nft", "list", "table", "ip", "minibox").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such file") {
		ts.Fatalf("nft list table: %v %s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, `comment "minibox subnet `+pfx.String()+`"`) {
			fmt.Fprintf(&b, "rule %s\n", strings.TrimSpace(l))
		}
	}
	for _, m := range commentRE.FindAllStringSubmatch(string(out), -1) {
		if ap, err := netip.ParseAddrPort(m[3]); err == nil && pfx.Contains(ap.Addr()) {
			fmt.Fprintf(&b, "port rule %s\n", m[0])
		}
	}
	return b.String()
}

// forgetSubnet removes the gateway address of subnet from minibox0 and the static rules
// minibox tagged "minibox subnet <subnet>" (pkg/network's subnetTag): the daemon leaves
// both on purpose, the test removes them so the host ends as it began. Only this script
// uses the subnet. The bridge, the table and every other rule stay: other daemons use them.
func forgetSubnet(subnet netip.Prefix) {
	gw := subnet.Addr().Next()
	exec.Command("ip", "addr", "del", netip.PrefixFrom(gw, subnet.Bits()).String(), "dev", "minibox0").Run()
	// The daemon's claim on the subnet (pkg/network.ClaimDir).
	os.Remove("/run/minibox/subnets/" + strings.ReplaceAll(subnet.String(), "/", "_"))
	out, err := exec.Command("nft", "-a", "list", "table", "ip", "minibox").Output()
	if err != nil {
		return
	}
	chain := ""
	tag := `comment "minibox subnet ` + subnet.String() + `"`
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "chain" {
			chain = f[1]
		}
		if i := strings.Index(l, "# handle "); i > 0 && strings.Contains(l, tag) && chain != "" {
			exec.Command("nft", "delete", "rule", "ip", "minibox", chain, "handle", strings.TrimSpace(l[i+len("# handle "):])).Run()
		}
	}
}

// netEcho builds the helper into $WORK/netecho (go's build cache makes repeats cheap).
func netEcho(ts *testscript.TestScript) {
	dir := ts.MkAbs("netecho")
	ts.Check(os.MkdirAll(dir, 0o755))
	src, _ := filepath.Abs("testdata/netecho/main.go")
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "netecho"), src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Fatalf("go build netecho: %v\n%s", err, out)
	}
	ts.Setenv("NETECHO", dir)
}

// netDNSUpstream serves the scripts' upstream DNS on one port of 127.0.0.1, UDP and TCP.
func netDNSUpstream(ts *testscript.TestScript) {
	// A free UDP port may be a TCP port in use (another test's connection): try others.
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		pc, err = net.ListenPacket("udp4", "127.0.0.1:0")
		ts.Check(err)
		port := pc.LocalAddr().(*net.UDPAddr).Port
		if ln, err = net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
		pc.Close()
		if try == 20 {
			ts.Fatalf("dns-upstream: %v", err)
		}
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if len(q.Question) == 1 && strings.HasSuffix(strings.ToLower(q.Question[0].Name), ".upstream.test.") {
			if q.Question[0].Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, 77)})
			}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	udp, tcp := &dns.Server{PacketConn: pc, Handler: h}, &dns.Server{Listener: ln, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	ts.Defer(func() { udp.Shutdown(); tcp.Shutdown() })
	ts.Setenv("DNS_UPSTREAM", ln.Addr().String())
}
