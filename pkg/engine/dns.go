package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/dnstable"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/reexec"
)

// publishNames writes the name table (networks/names.json) for the embedded resolver and
// makes sure one runs (or tells the running one to reload). The resolver is a process of
// its own, so names keep resolving while no daemon runs.
func (e *Engine) publishNames() {
	want := e.namesReq.Add(1)
	e.namesMu.Lock()
	defer e.namesMu.Unlock()
	if e.namesDone >= want {
		return // a table built after this caller's change was written while it waited
	}
	covers := e.namesReq.Load()
	t := e.nameTable()
	b, _ := json.MarshalIndent(t, "", "  ")
	if old, err := os.ReadFile(dnstable.Path(e.Root)); err != nil || !bytes.Equal(old, b) {
		// No fsync: every daemon start writes the table again, and a start or stop on
		// the default bridge should not wait for the disk.
		if err := atomicfile.Replace(dnstable.Path(e.Root), b, 0o600); err != nil {
			e.Log.Warn("write name table", "err", err)
			return
		}
	}
	e.namesDone = covers
	e.ensureResolver(len(t.Networks) > 0)
}

// nameTable lists, per network (the default bridge while this daemon has it set up, and
// each user-defined one), the running containers' names, aliases and short ids with their
// addresses on it.
func (e *Engine) nameTable() *dnstable.Table {
	t := &dnstable.Table{Networks: []dnstable.Network{}, Upstream: e.upstreamDNS()}
	byID := map[string]int{}
	bridge := -1
	if e.bridgeReady() {
		// The resolver listens on the gateway address, which only a set-up bridge has.
		bridge = len(t.Networks)
		t.Networks = append(t.Networks, dnstable.Network{ID: "bridge", Gateway: network.Gateway(e.Cfg.BridgeSubnet),
			Subnet: e.Cfg.BridgeSubnet, Names: map[string][]netip.Addr{}})
	}
	for _, un := range e.userNets() {
		byID[un.rec.ID] = len(t.Networks)
		t.Networks = append(t.Networks, dnstable.Network{ID: un.rec.ID, Gateway: un.rec.Gateway, Subnet: un.rec.Subnet, Names: map[string][]netip.Addr{}})
	}
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	if bridge >= 0 {
		e.linkNames(&t.Networks[bridge])
	}
	for _, c := range e.ctrs {
		if c.shim == nil {
			continue
		}
		var addrs []netip.Addr
		defer func() {
			if len(addrs) > 1 {
				t.Hosts = append(t.Hosts, addrs)
			}
		}()
		if a, err := netip.ParseAddr(c.rec.IP); err == nil && bridge >= 0 && c.rec.Conf.Network == "bridge" {
			addrs = append(addrs, a)
			n := &t.Networks[bridge]
			n.Add(c.rec.Name, a)
			n.Add(c.rec.ID[:12], a)
		}
		for _, ep := range c.rec.Endpoints {
			i, ok := byID[ep.NetworkID]
			a, err := netip.ParseAddr(ep.IP)
			if !ok || err != nil {
				continue
			}
			addrs = append(addrs, a)
			n := &t.Networks[i]
			n.Add(c.rec.Name, a)
			n.Add(c.rec.ID[:12], a)
			for _, al := range ep.Aliases {
				n.Add(al, a)
			}
		}
	}
	return t
}

// upstreamDNS is MINIBOX_DNS_UPSTREAM, else the host's resolv.conf servers. The resolver
// runs on the host: its loopback servers are reachable.
func (e *Engine) upstreamDNS() []string {
	if len(e.Cfg.DNSUpstream) > 0 {
		return e.Cfg.DNSUpstream
	}
	b, _ := os.ReadFile("/etc/resolv.conf")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				out = append(out, netip.AddrPortFrom(a.Unmap(), 53).String())
			}
		}
	}
	return out
}

// ensureResolver starts minibox-dns (when start) unless one holds the data root's resolver
// lock; a running one is sent SIGHUP to read the table at once (it exits when the table
// lists no network).
func (e *Engine) ensureResolver(start bool) {
	dir := e.netDir()
	lock, err := os.OpenFile(filepath.Join(dir, dnstable.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		e.Log.Warn("resolver lock", "err", err)
		return
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		// Running: the pid file names it (checked, since pids are reused).
		b, _ := os.ReadFile(filepath.Join(dir, dnstable.PIDFile))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			if cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); bytes.HasPrefix(cmd, []byte("minibox-dns\x00")) {
				syscall.Kill(pid, syscall.SIGHUP)
			}
		}
		return
	}
	unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	if !start {
		return
	}
	logf, err := os.OpenFile(filepath.Join(dir, "dns.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.Log.Warn("resolver log", "err", err)
		return
	}
	defer logf.Close()
	// It closes its end of the pipe once it listens: the first containers may ask at once.
	rd, wr, err := os.Pipe()
	if err != nil {
		e.Log.Warn("start resolver", "err", err)
		return
	}
	defer rd.Close()
	cmd := reexec.Command("minibox-dns", []string{"--root", e.Root, "--ready-fd", "3"}, wr)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: it outlives the daemon, like the shims.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		e.Log.Warn("start resolver", "err", err)
		return
	}
	go cmd.Wait()
	rd.SetReadDeadline(time.Now().Add(resolverReadyWait))
	if _, err := rd.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		e.Log.Warn("resolver not ready", "pid", cmd.Process.Pid, "err", err)
		return
	}
	e.Log.Info("resolver started", "pid", cmd.Process.Pid)
}

// resolverReadyWait bounds the wait for a new resolver to listen.
const resolverReadyWait = 5 * time.Second

// bridgeReady reports whether this daemon has set the default bridge up.
func (e *Engine) bridgeReady() bool {
	e.netMu.Lock()
	m := e.net
	e.netMu.Unlock()
	return m != nil && m.Ready()
}

// dnsServers is a container's nameservers: --dns, else the embedded resolver at the
// gateway of its first network (the default bridge's, or a user-defined one's), else nil
// (the host's).
func (e *Engine) dnsServers(r *Record) []string {
	if len(r.Conf.DNS) > 0 {
		return r.Conf.DNS
	}
	if r.Conf.Network == "bridge" {
		return []string{network.Gateway(e.Cfg.BridgeSubnet).String()}
	}
	if !isUserNetMode(r.Conf.Network) || len(r.Endpoints) == 0 {
		return r.Conf.DNS
	}
	if un := e.netByID(r.Endpoints[0].NetworkID); un != nil {
		return []string{un.rec.Gateway.String()}
	}
	return r.Conf.DNS
}

// linkNames adds each running container's --link aliases on the default bridge: the
// alias resolves to the linked container while both run there. Called with cmu held.
func (e *Engine) linkNames(n *dnstable.Network) {
	for _, c := range e.ctrs {
		if c.shim == nil || c.rec.Conf.Network != "bridge" {
			continue
		}
		for _, l := range c.rec.Conf.Links {
			name, alias := ctrconfig.ParseLink(l)
			id, ok := e.names[strings.TrimPrefix(name, "/")]
			if !ok {
				id = name
			}
			t := e.ctrs[id]
			if t == nil || t.shim == nil || t.rec.Conf.Network != "bridge" {
				continue
			}
			if a, err := netip.ParseAddr(t.rec.IP); err == nil {
				n.Add(alias, a)
			}
		}
	}
}
