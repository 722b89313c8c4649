// Package dnsd is minibox-dns: the embedded resolver of minibox's networks (the default
// bridge and the user-defined ones), one detached process per data root. It serves the name table the daemon writes
// (networks/names.json) on each network's gateway, port 53, UDP and TCP, and forwards other
// names upstream. It outlives the daemon, so names resolve while no daemon runs; it exits
// when the table lists no network.
package dnsd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/dnstable"
)

// poll is how often the table's file is looked at besides the daemon's SIGHUP.
const poll = 500 * time.Millisecond

// Main runs the resolver: minibox-dns --root <data root> [--ready-fd N]. The fd, when
// given, is closed once the resolver listens on the table's networks (or leaves).
func Main(ctx context.Context, args []string) error {
	usage := errors.New("usage: minibox-dns --root <absolute data root> [--ready-fd N]")
	if (len(args) != 2 && len(args) != 4) || args[0] != "--root" || !filepath.IsAbs(args[1]) {
		return usage
	}
	var ready *os.File
	if len(args) == 4 {
		fd, err := strconv.Atoi(args[3])
		if args[2] != "--ready-fd" || err != nil || fd < 3 {
			return usage
		}
		ready = os.NewFile(uintptr(fd), "ready")
		defer ready.Close()
	}
	root := args[1]
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	dir := filepath.Join(root, "networks")
	lock, err := os.OpenFile(filepath.Join(dir, dnstable.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil // another resolver serves this data root
	}
	if err := os.WriteFile(filepath.Join(dir, dnstable.PIDFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	r := &resolver{log: log, root: root, servers: map[netip.Addr]*listener{}}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var last time.Time
	for {
		fi, err := os.Stat(dnstable.Path(root))
		changed := err == nil && !fi.ModTime().Equal(last)
		if changed || err != nil {
			if err == nil {
				last = fi.ModTime()
			}
			if n := r.reload(); n == 0 {
				// Nothing to serve: hand over. The lock goes first, then the table is read
				// once more, so a daemon that wrote it meanwhile either sees the lock free
				// (and starts a resolver) or this one sees its networks.
				r.closeAll()
				os.Remove(filepath.Join(dir, dnstable.PIDFile))
				unix.Flock(int(lock.Fd()), unix.LOCK_UN)
				if t, err := dnstable.Read(root); err != nil || len(t.Networks) == 0 {
					return nil
				}
				if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
					return nil
				}
				os.WriteFile(filepath.Join(dir, dnstable.PIDFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
				last = time.Time{}
				continue
			}
		}
		if ready != nil {
			ready.Close()
			ready = nil
		}
		select {
		case <-hup:
			last = time.Time{}
		case <-tick.C:
		case <-term:
			r.closeAll()
			os.Remove(filepath.Join(dir, dnstable.PIDFile))
			return nil
		case <-ctx.Done():
			r.closeAll()
			return ctx.Err()
		}
	}
}

type resolver struct {
	log    *slog.Logger
	root   string
	loadMu sync.Mutex // one reading of the table's file at a time, so an older never wins
	mu     sync.RWMutex
	table  *dnstable.Table
	raw    []byte                           // the file table was decoded from
	nets   map[netip.Addr]*dnstable.Network // by gateway
	// servers are the listeners, one per network: the main loop's alone.
	servers map[netip.Addr]*listener
}

// load reads the table's file and, when it differs from the one read last, makes it the
// names served; it returns the table and its networks by gateway.
func (r *resolver) load() (*dnstable.Table, map[netip.Addr]*dnstable.Network, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	b, err := os.ReadFile(dnstable.Path(r.root))
	if os.IsNotExist(err) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	r.mu.RLock()
	t, nets, same := r.table, r.nets, r.table != nil && bytes.Equal(b, r.raw)
	r.mu.RUnlock()
	if same {
		return t, nets, nil
	}
	t = &dnstable.Table{}
	if b != nil {
		if t, err = dnstable.Parse(b); err != nil {
			return nil, nil, err
		}
	}
	nets = map[netip.Addr]*dnstable.Network{}
	for i := range t.Networks {
		n := &t.Networks[i]
		nets[n.Gateway] = n
	}
	r.mu.Lock()
	r.table, r.raw, r.nets = t, b, nets
	r.mu.Unlock()
	return t, nets, nil
}

type listener struct {
	udp, tcp *dns.Server
}

// reload reads the table, listens on new gateways and stops listening on gone ones; it
// returns how many networks the table has.
func (r *resolver) reload() int {
	t, nets, err := r.load()
	if err != nil {
		r.log.Warn("read name table", "err", err)
		r.mu.RLock()
		defer r.mu.RUnlock()
		if r.table == nil {
			return 0
		}
		return len(r.table.Networks)
	}
	for gw, l := range r.servers {
		if _, ok := nets[gw]; !ok {
			l.close()
			delete(r.servers, gw)
		}
	}
	for gw := range nets {
		if _, ok := r.servers[gw]; ok {
			continue
		}
		l, err := r.listen(gw)
		if err != nil {
			r.log.Warn("listen", "addr", gw.String(), "err", err)
			continue // tried again at the next reload
		}
		r.servers[gw] = l
	}
	return len(t.Networks)
}

func (r *resolver) listen(gw netip.Addr) (*listener, error) {
	addr := netip.AddrPortFrom(gw, 53).String()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		pc.Close()
		return nil, err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) { r.serve(gw, w, q) })
	l := &listener{udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: ln, Handler: h}}
	go l.udp.ActivateAndServe()
	go l.tcp.ActivateAndServe()
	return l, nil
}

func (l *listener) close() {
	l.udp.Shutdown()
	l.tcp.Shutdown()
}

func (r *resolver) closeAll() {
	for gw, l := range r.servers {
		l.close()
		delete(r.servers, gw)
	}
}

// serve answers a query that reached network gw's address: its names from its own table,
// to its own subnet only; any other name from upstream.
func (r *resolver) serve(gw netip.Addr, w dns.ResponseWriter, q *dns.Msg) {
	// The daemon writes the table before it answers the change (a rename, a connect or
	// disconnect, a stop): a query made right after must see it, whether or not the
	// daemon's SIGHUP has been handled yet (on a loaded machine it was not, once). The
	// file is a few KB, decoded only when it changed.
	if _, _, err := r.load(); err != nil {
		r.log.Warn("read name table", "err", err)
	}
	r.mu.RLock()
	n := r.nets[gw]
	var upstream []string
	if r.table != nil {
		upstream = r.table.Upstream
	}
	r.mu.RUnlock()
	m := new(dns.Msg)
	m.SetReply(q)
	src, _ := netip.ParseAddrPort(w.RemoteAddr().String())
	if n == nil || !n.Subnet.Contains(src.Addr().Unmap()) || len(q.Question) != 1 {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	qq := q.Question[0]
	addrs, ok := n.Names[dnstable.Key(qq.Name)]
	if !ok {
		addrs, ok = r.viaOtherNetworks(src.Addr().Unmap(), dnstable.Key(qq.Name))
	}
	if ok && qq.Qclass == dns.ClassINET {
		m.Authoritative = true
		if qq.Qtype == dns.TypeA || qq.Qtype == dns.TypeANY {
			for _, a := range addrs {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0}, A: a.AsSlice()})
			}
		}
		w.WriteMsg(m) // other types: no data, no error
		return
	}
	w.WriteMsg(r.forward(q, upstream, w.RemoteAddr().Network()))
}

// viaOtherNetworks looks name up on the other networks the asking container is on.
func (r *resolver) viaOtherNetworks(src netip.Addr, name string) ([]netip.Addr, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.table == nil {
		return nil, false
	}
	for _, h := range r.table.Hosts {
		if !slices.Contains(h, src) {
			continue
		}
		for _, a := range h {
			for _, n := range r.nets {
				if n.Subnet.Contains(a) {
					if addrs, ok := n.Names[name]; ok {
						return addrs, true
					}
				}
			}
		}
	}
	return nil, false
}

// forward asks each upstream in turn; none answering is SERVFAIL.
func (r *resolver) forward(q *dns.Msg, upstream []string, network string) *dns.Msg {
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	if network == "tcp" {
		c.Net = "tcp"
	}
	for _, u := range upstream {
		in, _, err := c.Exchange(q, u)
		if err == nil && in.Truncated && c.Net == "udp" {
			tc := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
			if tin, _, terr := tc.Exchange(q, u); terr == nil {
				in = tin
			}
		}
		if err == nil {
			in.Id = q.Id
			return in
		}
		r.log.Debug("upstream", "server", u, "err", err)
	}
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeServerFailure)
	return m
}
