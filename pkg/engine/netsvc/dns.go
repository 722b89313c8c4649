package netsvc

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

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/dnstable"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/reexec"
)

// NamesChanged tells the name table's keeper that names or addresses changed (nothing
// before Open).
func (s *Service) NamesChanged() {
	if s.publishing.Load() {
		s.PublishNames()
	}
}

// PublishNames writes the name table (networks/names.json) for the embedded resolver and
// makes sure one runs (or tells the running one to reload). The resolver is a process of
// its own, so names keep resolving while no daemon runs.
func (s *Service) PublishNames() {
	want := s.namesReq.Add(1)
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if s.namesDone >= want {
		return // a table built after this caller's change was written while it waited
	}
	covers := s.namesReq.Load()
	t := s.nameTable()
	b, _ := json.MarshalIndent(t, "", "  ")
	if old, err := os.ReadFile(dnstable.Path(s.cfg.Root)); err != nil || !bytes.Equal(old, b) {
		// No fsync: every daemon start writes the table again, and a start or stop on
		// the default bridge should not wait for the disk.
		if err := s.replaceTable(dnstable.Path(s.cfg.Root), b); err != nil {
			s.log.Warn("write name table", "err", err)
			return
		}
	}
	s.namesDone = covers
	s.ensureResolver(len(t.Networks) > 0)
}

// replaceTable puts b at path as atomically as atomicfile.Replace, but swaps the new file
// with the old one (renameat2 RENAME_EXCHANGE) and removes the old one in the background.
// Renamed over, the old table would be freed within the rename, which on a file system
// mounted with discard waits for the device (2-3 ms here), and ext4 would first write the
// new table out (auto_da_alloc): a start publishes the table before its workload runs,
// holding namesMu, which the starts beside it wait for.
func (s *Service) replaceTable(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b) // CreateTemp made it 0600
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_EXCHANGE)
	if err != nil { // no table yet (ENOENT), or a file system without exchange
		if err = os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
		}
		return err
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		os.Remove(tmp) // the old table now
	}()
	return nil
}

// nameTable lists, per network (the default bridge while this daemon has it set up, and
// each user-defined one), the running containers' names, aliases and short ids with their
// addresses on it.
func (s *Service) nameTable() *dnstable.Table {
	t := &dnstable.Table{Networks: []dnstable.Network{}, Upstream: s.upstreamDNS()}
	byID := map[string]int{}
	bridge := -1
	if s.bridgeReady() {
		// The resolver listens on the gateway address, which only a set-up bridge has.
		bridge = len(t.Networks)
		sub := s.cfg.BridgeSubnet
		t.Networks = append(t.Networks, dnstable.Network{ID: "bridge", Gateway: network.Gateway(sub),
			Subnet: sub, Names: map[string][]netip.Addr{}})
	}
	for _, un := range s.userNets() {
		byID[un.rec.ID] = len(t.Networks)
		t.Networks = append(t.Networks, dnstable.Network{ID: un.rec.ID, Gateway: un.rec.Gateway, Subnet: un.rec.Subnet, Names: map[string][]netip.Addr{}})
	}
	// --link aliases on the default bridge resolve to the linked container while both
	// run there: the running ones there, by name and id, and their links.
	type link struct{ target, alias string }
	var links []link
	onBridge := map[string]netip.Addr{}
	s.ctrs.Visit(true, func(c *Container) {
		var addrs []netip.Addr
		if a, err := netip.ParseAddr(c.IP); err == nil && bridge >= 0 && c.Mode == "bridge" {
			addrs = append(addrs, a)
			n := &t.Networks[bridge]
			n.Add(c.Name, a)
			n.Add(c.ID[:12], a)
			onBridge[c.Name], onBridge[c.ID] = a, a
		}
		if bridge >= 0 && c.Mode == "bridge" {
			for _, l := range c.Links {
				name, alias := ctrconfig.ParseLink(l)
				links = append(links, link{strings.TrimPrefix(name, "/"), alias})
			}
		}
		for _, ep := range c.Endpoints {
			i, ok := byID[ep.NetworkID]
			a, err := netip.ParseAddr(ep.IP)
			if !ok || err != nil {
				continue
			}
			addrs = append(addrs, a)
			n := &t.Networks[i]
			n.Add(c.Name, a)
			n.Add(c.ID[:12], a)
			for _, al := range ep.Aliases {
				n.Add(al, a)
			}
		}
		if len(addrs) > 1 {
			t.Hosts = append(t.Hosts, addrs)
		}
	})
	for _, l := range links {
		if a, ok := onBridge[l.target]; ok {
			t.Networks[bridge].Add(l.alias, a)
		}
	}
	return t
}

// upstreamDNS is MINIBOX_DNS_UPSTREAM, else the host's resolv.conf servers. The resolver
// runs on the host: its loopback servers are reachable.
func (s *Service) upstreamDNS() []string {
	if len(s.cfg.DNSUpstream) > 0 {
		return s.cfg.DNSUpstream
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
func (s *Service) ensureResolver(start bool) {
	dir := s.dir()
	lock, err := os.OpenFile(filepath.Join(dir, dnstable.LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		s.log.Warn("resolver lock", "err", err)
		return
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		s.signalResolver()
		return
	}
	unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	if !start {
		return
	}
	logf, err := os.OpenFile(filepath.Join(dir, "dns.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.log.Warn("resolver log", "err", err)
		return
	}
	defer logf.Close()
	// It closes its end of the pipe once it listens: the first containers may ask at once.
	rd, wr, err := os.Pipe()
	if err != nil {
		s.log.Warn("start resolver", "err", err)
		return
	}
	defer rd.Close()
	cmd := reexec.Command("minibox-dns", []string{"--root", s.cfg.Root, "--ready-fd", "3"}, wr)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: it outlives the daemon, like the shims.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		s.log.Warn("start resolver", "err", err)
		return
	}
	// A pidfd on it, taken while it is our child and cannot be reaped: the next tables are
	// announced through it.
	s.forgetResolver()
	if fd, err := unix.PidfdOpen(cmd.Process.Pid, 0); err == nil {
		s.resolverFD = fd
	}
	go cmd.Wait()
	rd.SetReadDeadline(time.Now().Add(resolverReadyWait))
	if _, err := rd.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		s.log.Warn("resolver not ready", "pid", cmd.Process.Pid, "err", err)
		return
	}
	s.log.Info("resolver started", "pid", cmd.Process.Pid)
}

// signalResolver sends the running resolver SIGHUP: through the pidfd of the one last
// started or found while it lives, else the one the pid file names (checked, since pids
// are reused), whose pidfd is then kept. namesMu is held.
func (s *Service) signalResolver() {
	if s.resolverFD > 0 {
		if unix.PidfdSendSignal(s.resolverFD, unix.SIGHUP, nil, 0) == nil {
			return
		}
		s.forgetResolver() // it ended: another holds the lock now
	}
	b, _ := os.ReadFile(filepath.Join(s.dir(), dnstable.PIDFile))
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	fd, fdErr := unix.PidfdOpen(pid, 0)
	// Checked once the pidfd is open: it names the process that had that command line.
	if cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); !bytes.HasPrefix(cmd, []byte("minibox-dns\x00")) {
		if fdErr == nil {
			unix.Close(fd)
		}
		return
	}
	if fdErr != nil { // a kernel without pidfds
		syscall.Kill(pid, syscall.SIGHUP)
		return
	}
	s.resolverFD = fd
	unix.PidfdSendSignal(fd, unix.SIGHUP, nil, 0)
}

// forgetResolver closes the resolver's pidfd, if one is kept. namesMu is held.
func (s *Service) forgetResolver() {
	if s.resolverFD > 0 {
		unix.Close(s.resolverFD)
		s.resolverFD = 0
	}
}

// resolverReadyWait bounds the wait for a new resolver to listen.
const resolverReadyWait = 5 * time.Second

// Nameservers is the embedded resolver's address for a container on network mode and
// endpoints eps: the gateway of its first network (the default bridge's, or a
// user-defined one's); nil when it has none (the host's servers then).
func (s *Service) Nameservers(mode string, eps []Endpoint) []string {
	if mode == "bridge" {
		return []string{network.Gateway(s.cfg.BridgeSubnet).String()}
	}
	if !IsUserNetwork(mode) || len(eps) == 0 {
		return nil
	}
	if un := s.byID(eps[0].NetworkID); un != nil {
		return []string{un.rec.Gateway.String()}
	}
	return nil
}
