package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network/connhook"
)

// reservation is how long an address returned by Allocate stays taken without an Attach, so
// two containers starting at once never get the same one.
const reservation = 2 * time.Minute

// Manager owns the bridge, the veths, minibox's nftables table and the port holds of one
// network namespace. Its methods are safe for concurrent use (they take turns).
type Manager struct {
	cfg Config
	log *slog.Logger
	ns  *os.File // the managed namespace when Config.NetNS is set; nil = the daemon's own

	mu       sync.Mutex
	rt       *rtnetlink.Conn
	nft      *nftables.Conn
	nfq      *netlink.Conn       // rule dumps (listRules); dialled when first needed
	rl       *netlink.Conn       // rawRoute: requests rtnetlink.Conn cannot make, dumps beside rt
	holds    map[string][]*hold  // by container id
	attached map[string]Endpoint // by container id; written under mu and addrMu both
	reserved map[netip.Addr]time.Time
	// addrMu guards reserved and the writes to attached, so that Allocate and Release
	// need not wait for mu, which an Attach holds while the kernel makes its veth (ms):
	// the starts of a burst would otherwise plan their addresses one veth at a time.
	// Taken inside mu, never the other way round.
	addrMu sync.Mutex
	ready  bool // EnsureBridge ran since New
	// overlapSeen is what CreateBridge's look at other links' addresses found, for the
	// ForeignOverlap that follows it.
	overlapSeen *overlap
	brIndex     uint32 // the bridge's index once this Manager made or found it
	// Unregistering a device waits for RCU grace periods (~20 ms here), so Detach leaves the
	// veth's removal to goroutines on a connection of their own; whatever needs the name
	// again (Attach of the same id, Reconcile, Close) waits for it first.
	deleting map[string]chan struct{} // by link name; closed once gone
	flushes  sync.WaitGroup           // UDP conntrack flushes in flight (they use m.ns)
	// redirect is the host's fast path to published TCP ports, made with the first one;
	// redirectTried says it was tried (a kernel without it leaves the nft rules alone at work).
	redirect      *connhook.Hook
	redirectTried bool
}

// New opens netlink connections into the managed namespace. Nothing on the host changes
// until EnsureBridge, Attach or Reconcile.
func New(cfg Config, log *slog.Logger) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, log: log, holds: map[string][]*hold{},
		attached: map[string]Endpoint{}, reserved: map[netip.Addr]time.Time{}, deleting: map[string]chan struct{}{}}
	nsfd := 0
	if cfg.NetNS != "" {
		if m.ns, err = os.Open(cfg.NetNS); err != nil {
			return nil, fmt.Errorf("open network namespace: %w", err)
		}
		nsfd = int(m.ns.Fd())
	}
	if m.rt, err = rtnetlink.Dial(&netlink.Config{NetNS: nsfd}); err != nil {
		m.Close()
		return nil, fmt.Errorf("dial rtnetlink: %w", err)
	}
	if m.nft, err = nftables.New(nftables.AsLasting(), nftables.WithNetNSFd(nsfd)); err != nil {
		m.Close()
		return nil, fmt.Errorf("dial nftables: %w", err)
	}
	return m, nil
}

// Close releases the netlink sockets and every port hold. Rules, veths and the bridge stay:
// published ports keep answering while the daemon is down.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waitDeletes()
	m.flushes.Wait()
	for id, hs := range m.holds {
		closeHolds(hs)
		delete(m.holds, id)
	}
	if m.rt != nil {
		m.rt.Close()
	}
	if m.nft != nil {
		m.nft.CloseLasting()
	}
	if m.redirect != nil {
		m.redirect.Close()
		m.redirect = nil
	}
	if m.nfq != nil {
		m.nfq.Close()
	}
	if m.rl != nil {
		m.rl.Close()
	}
	if m.ns != nil {
		m.ns.Close()
	}
	return nil
}

// Allocate returns preferred when free, else the lowest free address from .2. used are the
// addresses of the containers in state.json; addresses attached or recently allocated by this
// Manager count as used too. A full subnet is a conflict, "no free address".
func (m *Manager) Allocate(used []netip.Addr, preferred netip.Addr) (netip.Addr, error) {
	m.addrMu.Lock()
	defer m.addrMu.Unlock()
	taken := map[netip.Addr]bool{}
	for _, a := range used {
		taken[a] = true
	}
	for _, ep := range m.attached {
		taken[ep.Addr] = true
	}
	now := time.Now()
	for a, t := range m.reserved {
		if now.Sub(t) > reservation {
			delete(m.reserved, a)
		} else {
			taken[a] = true
		}
	}
	a, err := AllocateIn(m.cfg.Subnet, m.cfg.gateway(), func(a netip.Addr) bool { return taken[a] }, preferred)
	if err == nil {
		m.reserved[a] = now
	}
	return a, err
}

// Release gives back an address Allocate returned for a container that never attached.
func (m *Manager) Release(addr netip.Addr) {
	m.addrMu.Lock()
	defer m.addrMu.Unlock()
	delete(m.reserved, addr)
}

// EnsureBridge creates (or repairs) the bridge with the subnet's first address, turns on IPv4
// forwarding and route_localnet on the bridge, and writes minibox's nftables table. It is
// idempotent and leaves published ports' rules alone.
func (m *Manager) EnsureBridge(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.ensureBridge()
	return err
}

// Ready reports whether the bridge, its address, sysctls and table have been set up by
// this manager (Attach checks the bridge itself again and redoes it when it is gone).
func (m *Manager) Ready() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready
}

func (m *Manager) ensureBridge() (*rtnetlink.LinkMessage, error) {
	br, err := m.bridgeLink()
	if err != nil {
		return nil, err
	}
	if err := m.bridgeAddress(br.Index); err != nil {
		return nil, err
	}
	if err := m.bridgeSysctls(); err != nil {
		return nil, err
	}
	if err := m.writeTable(); err != nil {
		return nil, err
	}
	m.ready = true
	return br, nil
}

func (m *Manager) bridgeSysctls() error {
	if err := m.sysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	// route_localnet lets DNATed connections from 127.0.0.1 leave through the bridge; it is
	// set on the bridge only (the guard chain drops what it would otherwise let in).
	return m.sysctl("net/ipv4/conf/"+m.cfg.Bridge+"/route_localnet", "1")
}

// bridgeLink returns the bridge, created and up.
func (m *Manager) bridgeLink() (*rtnetlink.LinkMessage, error) {
	br, err := linkByName(m.rt, m.cfg.Bridge)
	if errors.Is(err, errdefs.ErrNotFound) {
		br, err = m.newBridge()
		if errors.Is(err, unix.EEXIST) { // made meanwhile (another daemon's minibox0)
			br, err = linkByName(m.rt, m.cfg.Bridge)
		}
	}
	if err != nil {
		return nil, err
	}
	if br.Attributes.Info == nil || br.Attributes.Info.Kind != "bridge" {
		return nil, errdefs.Conflict(fmt.Sprintf("link %s exists and is not a bridge", m.cfg.Bridge))
	}
	if m.cfg.Alias != "" && (br.Attributes.Alias == nil || *br.Attributes.Alias != m.cfg.Alias) {
		return nil, errdefs.Conflict(fmt.Sprintf("bridge %s exists and belongs to someone else", m.cfg.Bridge))
	}
	if br.Flags&unix.IFF_UP == 0 {
		if err := m.rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: br.Index,
			Flags: unix.IFF_UP, Change: unix.IFF_UP}); err != nil {
			return nil, fmt.Errorf("set bridge %s up: %w", m.cfg.Bridge, err)
		}
	}
	m.brIndex = br.Index
	return br, nil
}

// newBridge creates the bridge, up, with its alias; an existing link of that name is an
// error wrapping EEXIST. The link returned is as the kernel listed it before the alias.
func (m *Manager) newBridge() (*rtnetlink.LinkMessage, error) {
	req := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{
			Name: m.cfg.Bridge,
			// A fixed MAC: a bridge otherwise takes its lowest port's, and changes it (and
			// every container's ARP entry for the gateway) as containers come and go.
			Address: MAC(m.cfg.gateway()),
			Info:    &rtnetlink.LinkInfo{Kind: "bridge"},
		}}
	if err := m.rt.Link.New(req); err != nil {
		return nil, fmt.Errorf("create bridge %s: %w", m.cfg.Bridge, err)
	}
	m.log.Info("bridge created", "bridge", m.cfg.Bridge, "subnet", m.cfg.Subnet.String())
	br, err := linkByName(m.rt, m.cfg.Bridge)
	if err != nil {
		return nil, err
	}
	if m.cfg.Alias != "" {
		// RTM_NEWLINK leaves IFLA_IFALIAS out: it is set on the link made.
		alias := m.cfg.Alias
		if err := m.rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: br.Index,
			Attributes: &rtnetlink.LinkAttributes{Alias: &alias}}); err != nil {
			deleteLink(m.rt, m.cfg.Bridge)
			return nil, fmt.Errorf("set alias of bridge %s: %w", m.cfg.Bridge, err)
		}
		br.Attributes.Alias = &alias
	}
	m.brIndex = br.Index
	return br, nil
}

func (m *Manager) bridgeAddress(index uint32) error {
	gw := m.cfg.gateway()
	addrs, err := m.rt.Address.List()
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if a.Index == index && a.Family == unix.AF_INET && a.Attributes != nil &&
			a.Attributes.Address.Equal(net.IP(gw.AsSlice())) && int(a.PrefixLength) == m.cfg.Subnet.Bits() {
			return nil
		}
	}
	return m.addBridgeAddress(index)
}

// addBridgeAddress gives the bridge its gateway address; having it already is fine.
func (m *Manager) addBridgeAddress(index uint32) error {
	gw, bc := m.cfg.gateway(), broadcast(m.cfg.Subnet)
	err := m.rt.Address.New(&rtnetlink.AddressMessage{Family: unix.AF_INET,
		PrefixLength: uint8(m.cfg.Subnet.Bits()), Index: index,
		Attributes: &rtnetlink.AddressAttributes{Address: gw.AsSlice(), Local: gw.AsSlice(), Broadcast: bc.AsSlice()}})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s to bridge %s: %w", netip.PrefixFrom(gw, m.cfg.Subnet.Bits()), m.cfg.Bridge, err)
	}
	return nil
}

// writeTable creates the table and its chains if missing and replaces the static rules this
// Manager owns: the shared ones, its subnet's, and untagged ones (an older layout). Other
// subnets' rules and the ports chain stay. Two daemons may race on the shared rules (both
// delete the same handles): the loser's transaction fails as a whole and is retried.
func (m *Manager) writeTable() error {
	var err error
	for try := 0; try < 5; try++ {
		if err = m.writeTableOnce(); err == nil || !errors.Is(err, unix.ENOENT) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write nftables table %s: %w", m.cfg.Table, err)
	}
	return nil
}

func (m *Manager) writeTableOnce() error {
	have, err := m.listRules()
	if err != nil {
		return err
	}
	return m.writeTableFrom(have, true)
}

// writeTableFrom is writeTableOnce given the table's rules as listed. Unless all, the table
// and the chains the listing shows rules in are taken as they are (not declared again: a
// message and an acknowledgement less each); one deleted meanwhile fails the transaction
// with ENOENT, and the caller writes the whole table again.
func (m *Manager) writeTableFrom(have []ruleRef, all bool) error {
	p := tablePlan(m.cfg)
	own := subnetTag(m.cfg.Subnet)
	static := map[string]*nftables.Chain{}
	for _, c := range p.chains {
		if c.Name != chainPorts {
			static[c.Name] = c
		}
	}
	listed := map[string]bool{} // chains with rules, taken as they are unless all
	if !all {
		for _, r := range have {
			listed[r.chain] = true
		}
	}
	if len(listed) == 0 {
		m.nft.AddTable(p.table)
	}
	for _, c := range p.chains {
		if !listed[c.Name] {
			m.nft.AddChain(c)
		}
	}
	shared := map[string][]ruleRef{}
	for _, r := range have {
		if _, ok := static[r.chain]; !ok {
			continue
		}
		switch r.comment() {
		case sharedTag:
			shared[r.chain] = append(shared[r.chain], r)
		case "", own: // untagged: an older layout
			if err := m.nft.DelRule(r.rule(p.table)); err != nil {
				return err
			}
		}
	}
	for _, c := range p.chains {
		// The shared rules are alike for every Manager: a chain that has as many as the plan
		// keeps them (rewriting them at each start made two daemons race for their handles).
		// A chain the plan has none for keeps what an older daemon, still running, wrote
		// there and relies on.
		want := 0
		for _, tag := range p.tags[c.Name] {
			if tag == sharedTag {
				want++
			}
		}
		keepShared := want == 0 || len(shared[c.Name]) == want
		if !keepShared {
			for _, r := range shared[c.Name] {
				if err := m.nft.DelRule(r.rule(p.table)); err != nil {
					return err
				}
			}
		}
		for i, e := range p.rules[c.Name] {
			tag := p.tags[c.Name][i]
			if tag == sharedTag && keepShared {
				continue
			}
			m.nft.AddRule(&nftables.Rule{Table: p.table, Chain: c, Exprs: e,
				UserData: userdata.AppendString(nil, userdata.TypeComment, tag)})
		}
	}
	return m.nft.Flush()
}

// Attach wires a container: the veth pair (host side on the bridge, eth0 with ep.Addr, MAC,
// bridge MTU and default route in the namespace of ep.PID, lo up), a hold on each host port
// (HostPort 0 is replaced by the chosen port, in ep.Ports) and its DNAT rules. On error
// nothing of it is left.
func (m *Manager) Attach(ctx context.Context, ep *Endpoint) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.validate(ep); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, other := range m.attached {
		if other.Addr == ep.Addr && id != ep.ID {
			return errdefs.Conflict(fmt.Sprintf("address %s is in use by container %.12s", ep.Addr, id))
		}
	}
	if _, ok := m.attached[ep.ID]; ok { // attached again (a restart): start from scratch
		if _, err := m.detach(ep.ID); err != nil {
			return err
		}
	}
	m.waitDeleted(m.cfg.vethName(ep.ID))
	br, err := linkByName(m.rt, m.cfg.Bridge)
	if !m.ready || err != nil || br.Flags&unix.IFF_UP == 0 {
		if br, err = m.ensureBridge(); err != nil { // lazily, or recreated if someone removed it
			return err
		}
	}
	hs, err := m.acquire(ep.Ports)
	if err != nil {
		return err
	}
	ports := make([]Port, len(hs)) // with the chosen host ports
	for i, h := range hs {
		ports[i] = h.port
	}
	defer func() {
		if err != nil {
			closeHolds(hs)
			m.deleteVeth(m.rt, ep.ID)
		}
	}()
	if err := m.addVeth(ep, br); err != nil {
		return err
	}
	if err := m.addRules(ep.ID, ep.Addr, ports); err != nil {
		return err
	}
	m.flushUDP(ports)
	copy(ep.Ports, ports)
	m.holds[ep.ID] = hs
	m.addrMu.Lock()
	m.attached[ep.ID] = Endpoint{ID: ep.ID, PID: ep.PID, Addr: ep.Addr, Ports: ports, IfName: ep.IfName, NoRoute: ep.NoRoute}
	delete(m.reserved, ep.Addr)
	m.addrMu.Unlock()
	return nil
}

func (m *Manager) validate(ep *Endpoint) error {
	if len(ep.ID) < 12 || !isVethName(VethName(ep.ID)) {
		return errdefs.Invalid(fmt.Sprintf("endpoint id %q: expected hex container id", ep.ID))
	}
	if ep.PID <= 0 {
		return errdefs.Invalid(fmt.Sprintf("endpoint %.12s: no pid", ep.ID))
	}
	if n := ep.ifName(); len(n) > 15 || strings.ContainsAny(n, "/ \x00") {
		return errdefs.Invalid(fmt.Sprintf("endpoint %.12s: bad interface name %q", ep.ID, n))
	}
	sub := m.cfg.Subnet
	if !sub.Contains(ep.Addr) || ep.Addr == sub.Addr() || ep.Addr == m.cfg.gateway() || ep.Addr == broadcast(sub) {
		return errdefs.Invalid(fmt.Sprintf("endpoint %.12s: address %s is not a host address of %s", ep.ID, ep.Addr, sub))
	}
	for _, p := range ep.Ports {
		if p.ContainerPort == 0 || (p.Proto != "tcp" && p.Proto != "udp") || (p.HostIP.IsValid() && !p.HostIP.Is4()) {
			return errdefs.Invalid(fmt.Sprintf("endpoint %.12s: bad port mapping %+v", ep.ID, p))
		}
	}
	return nil
}

// addVeth creates the pair with its peer directly in the container's namespace (named eth0
// there), then configures the inside through a netlink socket opened in that namespace:
// no thread of ours stays in it. Each side's requests go in one batch (executeBatch): the
// pair and the host side's hairpin mode, then the peer's address, lo and the peer up and
// the default route; the kernel's echo of the host side names the peer's index.
func (m *Manager) addVeth(ep *Endpoint, br *rtnetlink.LinkMessage) error {
	nsf := ep.NetNS
	if nsf == nil {
		var err error
		if nsf, err = os.Open("/proc/" + strconv.Itoa(ep.PID) + "/ns/net"); err != nil {
			return fmt.Errorf("container %.12s: network namespace: %w", ep.ID, err)
		}
		defer nsf.Close()
	}
	name, mtu, master, ifname := m.cfg.vethName(ep.ID), br.Attributes.MTU, br.Index, ep.ifName()
	// The peer is brought up from inside: IFF_UP on a peer created in another namespace
	// fails with ENOTCONN.
	peer := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC,
		Attributes: &rtnetlink.LinkAttributes{Name: ifname, Address: MAC(ep.Addr), MTU: mtu,
			NetNS: rtnetlink.NetNSForFD(uint32(nsf.Fd()))}}
	req := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: name, MTU: mtu, Master: &master, Address: HostMAC(ep.Addr),
			Info: &rtnetlink.LinkInfo{Kind: "veth", Data: &oneQueueVeth{peer: peer}}}}
	peerIndex, err := m.newVeth(req)
	if errors.Is(err, unix.EEXIST) { // a leftover of the same container: replace it
		m.deleteVeth(m.rt, ep.ID)
		peerIndex, err = m.newVeth(req)
	}
	if err != nil {
		return err
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: int(nsf.Fd())})
	if err != nil {
		return fmt.Errorf("container %.12s: dial rtnetlink: %w", ep.ID, err)
	}
	defer c.Close()
	if peerIndex == 0 { // a kernel that does not echo a new link (before 6.1)
		rc, err := rtnetlink.Dial(&netlink.Config{NetNS: int(nsf.Fd())})
		if err != nil {
			return fmt.Errorf("container %.12s: dial rtnetlink: %w", ep.ID, err)
		}
		eth0, err := linkByName(rc, ifname)
		rc.Close()
		if err != nil {
			return fmt.Errorf("container %.12s: %w", ep.ID, err)
		}
		peerIndex = eth0.Index
	}
	return m.configurePeer(c, ep, peerIndex)
}

// configurePeer gives the container's end of the pair (index eth0 in the namespace c is
// in) its address, brings it and lo up, and adds the default route unless ep.NoRoute: one
// batch, in the order they depend on each other.
func (m *Manager) configurePeer(c *netlink.Conn, ep *Endpoint, eth0 uint32) error {
	type step struct {
		typ  uint16
		flag netlink.HeaderFlags
		msg  interface{ MarshalBinary() ([]byte, error) }
		what string
	}
	steps := []step{
		{unix.RTM_NEWADDR, netlink.Create | netlink.Excl, &rtnetlink.AddressMessage{Family: unix.AF_INET,
			PrefixLength: uint8(m.cfg.Subnet.Bits()), Index: eth0,
			Attributes: &rtnetlink.AddressAttributes{Address: ep.Addr.AsSlice(), Local: ep.Addr.AsSlice(),
				Broadcast: broadcast(m.cfg.Subnet).AsSlice()}}, "add address " + ep.Addr.String()},
		// Loopback is ifindex 1 in every network namespace (LOOPBACK_IFINDEX).
		{unix.RTM_NEWLINK, 0, &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: 1, Flags: unix.IFF_UP, Change: unix.IFF_UP}, "set link 1 up"},
		{unix.RTM_NEWLINK, 0, &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: eth0, Flags: unix.IFF_UP, Change: unix.IFF_UP},
			"set link " + strconv.Itoa(int(eth0)) + " up"},
	}
	if !ep.NoRoute {
		steps = append(steps, step{unix.RTM_NEWROUTE, netlink.Create | netlink.Excl, &rtnetlink.RouteMessage{Family: unix.AF_INET,
			Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST,
			Attributes: rtnetlink.RouteAttributes{Gateway: m.cfg.gateway().AsSlice(), OutIface: eth0}}, "add default route"})
	}
	msgs := make([]netlink.Message, len(steps))
	for i, st := range steps {
		b, err := st.msg.MarshalBinary()
		if err != nil {
			return err
		}
		msgs[i] = netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(st.typ), Flags: st.flag}, Data: b}
	}
	res, err := executeBatch(c, msgs)
	if err != nil {
		return fmt.Errorf("container %.12s: configure %s: %w", ep.ID, ep.ifName(), err)
	}
	for i, err := range res.errs {
		if err != nil {
			return fmt.Errorf("container %.12s: %s: %w", ep.ID, steps[i].what, err)
		}
	}
	return nil
}

// newVeth makes the pair req describes (its driver data oneQueueVeth) and readies its host
// side, in one batch: the pair, made down; the host side's hairpin mode and no IPv6
// link-local address; then the host side up. It returns the peer's index in its namespace
// (0: the kernel did not say).
//
// One transmit and one receive queue are asked for each end. Left to its default, the
// kernel gives each end a queue per possible CPU and cuts them to one once the pair is
// registered, and that cut waits for an expedited RCU grace period per end (2-3 ms on a
// busy host) while holding the RTNL lock, which every other container's veth, address and
// route waits for. Asked for one queue, both ends are made with it and nothing is cut.
//
// A bridge port's own addresses are never used (what it receives goes to the bridge), but
// an IPv6 link-local one costs its making and removal under the RTNL lock, and timers that
// send duplicate address detection, router solicitation and multicast listener reports
// into the bridge; its generation can only be turned off before the link is up (the
// kernel handles a request's flags before its IFLA_AF_SPEC), hence three requests.
func (m *Manager) newVeth(req *rtnetlink.LinkMessage) (uint32, error) {
	rl, err := m.rawRoute()
	if err != nil {
		return 0, err
	}
	name := req.Attributes.Name
	down := *req
	down.Flags, down.Change = 0, 0
	b, err := down.MarshalBinary()
	if err != nil {
		return 0, err
	}
	hp, err := hairpinRequest(name).MarshalBinary()
	if err != nil {
		return 0, err
	}
	up, err := (&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: name}}).MarshalBinary()
	if err != nil {
		return 0, err
	}
	// By name: the pair is made by then (or they fail with it).
	res, err := executeBatch(rl, []netlink.Message{
		{Header: netlink.Header{Type: unix.RTM_NEWLINK, Flags: netlink.Create | netlink.Excl | netlink.Echo},
			Data: append(b, oneQueueAttrs()...)},
		{Header: netlink.Header{Type: unix.RTM_NEWLINK}, Data: append(hp, noLinkLocalAttrs()...)},
		{Header: netlink.Header{Type: unix.RTM_NEWLINK}, Data: up},
	})
	if err != nil {
		// The socket may hold answers still to come: a new one for the next request.
		m.rl.Close()
		m.rl = nil
		return 0, fmt.Errorf("create veth %s: %w", name, err)
	}
	if err := res.errs[0]; err != nil {
		return 0, fmt.Errorf("create veth %s: %w", name, err)
	}
	if err := res.errs[1]; err != nil {
		return 0, fmt.Errorf("set hairpin on %s: %w", name, err)
	}
	if err := res.errs[2]; err != nil {
		return 0, fmt.Errorf("set link %s up: %w", name, err)
	}
	for _, msg := range res.echoed {
		if msg.Header.Type == unix.RTM_NEWLINK {
			if i := linkPeerIndex(msg.Data, name); i != 0 {
				return i, nil
			}
		}
	}
	return 0, nil
}

// noLinkLocalAttrs is IFLA_AF_SPEC asking for no IPv6 address of the link's own making
// (IFLA_INET6_ADDR_GEN_MODE IN6_ADDR_GEN_MODE_NONE).
func noLinkLocalAttrs() []byte {
	const addrGenModeNone = 1 // IN6_ADDR_GEN_MODE_NONE
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.IFLA_AF_SPEC, func(af *netlink.AttributeEncoder) error {
		af.Nested(unix.AF_INET6, func(in6 *netlink.AttributeEncoder) error {
			in6.Uint8(unix.IFLA_INET6_ADDR_GEN_MODE, addrGenModeNone)
			return nil
		})
		return nil
	})
	b, _ := ae.Encode()
	return b
}

// linkPeerIndex is IFLA_LINK of a link message about link name: for a veth, its peer's
// index in the peer's namespace. 0 when the message is another link's or has none.
func linkPeerIndex(data []byte, name string) uint32 {
	const ifinfomsgLen = 16
	if len(data) < ifinfomsgLen {
		return 0
	}
	ad, err := netlink.NewAttributeDecoder(data[ifinfomsgLen:])
	if err != nil {
		return 0
	}
	var got string
	var peer uint32
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			got = ad.String()
		case unix.IFLA_LINK:
			peer = ad.Uint32()
		}
	}
	if ad.Err() != nil || got != name {
		return 0
	}
	return peer
}

// oneQueueAttrs is IFLA_NUM_TX_QUEUES 1 and IFLA_NUM_RX_QUEUES 1.
func oneQueueAttrs() []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(unix.IFLA_NUM_TX_QUEUES, 1)
	ae.Uint32(unix.IFLA_NUM_RX_QUEUES, 1)
	b, _ := ae.Encode()
	return b
}

// oneQueueVeth is the veth driver's data (driver.Veth's) with one queue each way asked
// for the peer too (see newVeth).
type oneQueueVeth struct{ peer *rtnetlink.LinkMessage }

func (v *oneQueueVeth) New() rtnetlink.LinkDriver { return &oneQueueVeth{} }

func (v *oneQueueVeth) Encode(ae *netlink.AttributeEncoder) error {
	b, err := v.peer.MarshalBinary()
	if err != nil {
		return err
	}
	const vethInfoPeer = 1 // VETH_INFO_PEER
	ae.Bytes(vethInfoPeer, append(b, oneQueueAttrs()...))
	return nil
}

func (v *oneQueueVeth) Decode(*netlink.AttributeDecoder) error { return nil }

func (*oneQueueVeth) Kind() string { return "veth" }

// setHairpin turns on hairpin mode of a bridge port. With br_netfilter, a container's
// connection to its own published port is DNATed inside the bridge and must leave through
// the port it came in by.
func (m *Manager) setHairpin(name string) error {
	if err := m.rt.Link.Set(hairpinRequest(name)); err != nil {
		return fmt.Errorf("set hairpin on %s: %w", name, err)
	}
	return nil
}

// hairpinRequest is the RTM_NEWLINK (set) that turns on hairpin mode of bridge port name.
func hairpinRequest(name string) *rtnetlink.LinkMessage {
	on := driver.BridgeEnableEnabled
	return &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Attributes: &rtnetlink.LinkAttributes{
		Name: name, Info: &rtnetlink.LinkInfo{Kind: "veth", SlaveKind: "bridge", SlaveData: &driver.BridgePort{Mode: &on}}}}
}

// deleteVeth removes a container's veth pair (the peer goes with it); a missing one is fine.
func (m *Manager) deleteVeth(c *rtnetlink.Conn, id string) error {
	return deleteLink(c, m.cfg.vethName(id))
}

// deleteLink removes a link by name; a missing one is fine.
func deleteLink(c *rtnetlink.Conn, name string) error {
	_, err := c.Execute(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC,
		Attributes: &rtnetlink.LinkAttributes{Name: name}}, unix.RTM_DELLINK, netlink.Request|netlink.Acknowledge)
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// deleteLinkLater starts removing link name on a connection of its own and returns a
// channel that gets one value once the kernel has unlisted the link (true: its name and
// addresses are gone) or, failing that, once the removal ended (false). Unregistering a
// device waits for RCU grace periods; for a bridge about half of them come after the
// unlisting, which is left to the background (waitDeleted and Close wait for it).
//
// The kernel handles the request within the sender's sendmsg, release included, and
// acknowledges it only then; asked for an echo (NLM_F_ECHO), it sends the requester its
// RTM_DELLINK notification the moment the link is unlisted, which a second goroutine
// reads from the same socket meanwhile. Nothing is polled, and no socket of ours listens
// to every link event of the host.
func (m *Manager) deleteLinkLater(name string) <-chan bool {
	unlisted := make(chan bool, 1)
	if done, ok := m.deleting[name]; ok {
		go func() { <-done; unlisted <- false }()
		return unlisted
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: m.nsfd()})
	if err != nil {
		m.log.Warn("remove link", "link", name, "err", err)
		unlisted <- false
		return unlisted
	}
	req, err := (&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Attributes: &rtnetlink.LinkAttributes{Name: name}}).MarshalBinary()
	if err != nil {
		c.Close()
		unlisted <- false
		return unlisted
	}
	done := make(chan struct{})
	m.deleting[name] = done
	go func() {
		// A failed send gets no answer: closing the socket ends the reader.
		if _, err := c.Send(netlink.Message{Header: netlink.Header{Type: unix.RTM_DELLINK,
			Flags: netlink.Request | netlink.Acknowledge | netlink.Echo}, Data: req}); err != nil {
			m.log.Warn("remove link", "link", name, "err", err)
			c.Close()
		}
	}()
	go func() {
		announced := false
		for acked := false; !acked; {
			msgs, err := c.Receive()
			if err != nil {
				if !errors.Is(err, unix.ENODEV) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
					m.log.Warn("remove link", "link", name, "err", err)
				}
				break
			}
			for _, msg := range msgs {
				switch msg.Header.Type {
				case unix.RTM_DELLINK:
					if !announced {
						announced = true
						unlisted <- true
					}
				case netlink.Error:
					acked = true
				}
			}
		}
		c.Close()
		if !announced {
			unlisted <- false
		}
		close(done)
		// Off the books (a daemon removes thousands of containers in its life), unless
		// someone waiting took it off already and a new removal of the name came since.
		m.mu.Lock()
		if m.deleting[name] == done {
			delete(m.deleting, name)
		}
		m.mu.Unlock()
	}()
	return unlisted
}

// nsfd is the managed namespace's fd for netlink.Config (0: the daemon's own).
func (m *Manager) nsfd() int {
	if m.ns == nil {
		return 0
	}
	return int(m.ns.Fd())
}

// waitDeleted waits until a background removal of veth name (if any) is done.
func (m *Manager) waitDeleted(name string) {
	if done, ok := m.deleting[name]; ok {
		<-done
		delete(m.deleting, name)
	}
}

func (m *Manager) waitDeletes() {
	for name := range m.deleting {
		m.waitDeleted(name)
	}
}

func (m *Manager) addRules(id string, addr netip.Addr, ports []Port) error {
	if len(ports) == 0 {
		return nil
	}
	t, c := m.tableRef(), m.chainRef(chainPorts)
	for _, p := range ports {
		e, ud := portRule(id, addr, p)
		m.nft.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: e, UserData: ud})
	}
	if err := m.nft.Flush(); err != nil {
		return fmt.Errorf("container %.12s: add port rules: %w", id, err)
	}
	m.redirectPorts(addr, ports)
	return nil
}

// portRules lists the ports chain's rules that minibox wrote, by container id.
func (m *Manager) portRules() (map[string][]*nftables.Rule, error) {
	rules, err := m.listRules()
	if err != nil {
		return nil, err
	}
	byID := map[string][]*nftables.Rule{}
	for _, r := range rules {
		if r.chain != chainPorts {
			continue
		}
		if id, _, _, ok := parseComment(r.comment()); ok {
			byID[id] = append(byID[id], r.rule(m.tableRef()))
		}
	}
	return byID, nil
}

// deleteRules removes rules in one transaction and returns the ports they mapped.
func (m *Manager) deleteRules(rules []*nftables.Rule) ([]Port, error) {
	var ports []Port
	for _, r := range rules {
		r.Table, r.Chain = m.tableRef(), m.chainRef(chainPorts)
		if err := m.nft.DelRule(r); err != nil {
			return nil, err
		}
		c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
		if _, _, p, ok := parseComment(c); ok {
			ports = append(ports, p)
		}
	}
	if len(rules) == 0 {
		return nil, nil
	}
	if err := m.nft.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("delete port rules: %w", err)
	}
	m.unredirectPorts(ports)
	return ports, nil
}

// Detach removes a container's rules and port holds and its veth pair, and returns once the
// kernel has unlisted the veth: it is off the bridge, and the container's address (on the
// peer) is gone with it, so a network rm that follows finds nothing of it. The kernel's
// release of the device runs on in the background (~20 ms of RCU waits here, where the
// unlisting takes ~2 ms); a later use of the name, Reconcile and Close wait for it. It is
// idempotent.
func (m *Manager) Detach(ctx context.Context, id string) error {
	return m.DetachBegin(id)()
}

// DetachBegin is Detach that returns once the veth's removal is under way: the wait it
// returns waits for the kernel to unlist the veth and returns Detach's error. The caller
// does what does not depend on the veth meanwhile.
func (m *Manager) DetachBegin(id string) (wait func() error) {
	if len(id) < 12 {
		err := errdefs.Invalid(fmt.Sprintf("endpoint id %q: too short", id))
		return func() error { return err }
	}
	m.mu.Lock()
	unlisted, err := m.detach(id)
	m.mu.Unlock()
	// Waited for without the lock: other containers' starts and stops on the bridge go on.
	return func() error {
		<-unlisted
		return err
	}
}

// detach is Detach without the wait: the channel tells when the veth is unlisted.
func (m *Manager) detach(id string) (<-chan bool, error) {
	var errs []error
	var ports []Port
	if ep, ok := m.attached[id]; !ok || len(ep.Ports) > 0 { // unknown: look anyway
		byID, err := m.portRules()
		errs = append(errs, err)
		ports, err = m.deleteRules(m.inSubnet(byID[id]))
		errs = append(errs, err)
	}
	closeHolds(m.holds[id])
	delete(m.holds, id)
	unlisted := m.deleteLinkLater(m.cfg.vethName(id))
	m.flushUDP(ports)
	m.addrMu.Lock()
	delete(m.attached, id)
	m.addrMu.Unlock()
	return unlisted, errors.Join(errs...)
}

// inSubnet keeps the port rules that DNAT to this Manager's subnet: a container on several
// networks has its ports on one of them only.
func (m *Manager) inSubnet(rules []*nftables.Rule) []*nftables.Rule {
	var out []*nftables.Rule
	for _, r := range rules {
		c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
		if _, addr, _, ok := parseComment(c); ok && m.cfg.Subnet.Contains(addr) {
			out = append(out, r)
		}
	}
	return out
}

// AdoptLive returns running with what the host holds for each of them on this network:
// the address its veth carries (in the host side's MAC) and the ports its rules publish.
// The daemon saves a started container's record in the background, so one killed right
// after a start left a record without them (or with a previous run's); given that record,
// Reconcile would take the live container's veth and rules for stale ones. The host's
// state is what the container uses, so it wins; the record fills in what the host lacks.
func (m *Manager) AdoptLive(running []Endpoint) ([]Endpoint, error) {
	if len(running) == 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	links, err := m.rt.Link.List()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	veths := map[string]netip.Addr{}
	for _, l := range links {
		a := l.Attributes
		if a == nil || !m.cfg.ownVethName(a.Name) || a.Info == nil || a.Info.Kind != "veth" {
			continue
		}
		if addr, ok := hostMACAddr(a.Address); ok && m.cfg.Subnet.Contains(addr) {
			veths[a.Name] = addr
		}
	}
	byID, err := m.portRules()
	if err != nil {
		return nil, err
	}
	ports := map[string][]Port{}
	for id, rules := range byID {
		for _, r := range m.inSubnet(rules) {
			c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			if _, _, p, ok := parseComment(c); ok {
				ports[id] = append(ports[id], p)
			}
		}
	}
	return adoptLive(m.cfg, running, veths, ports), nil
}

// Reconcile runs at daemon start: every mb* veth, port rule and hold of a container not in
// running goes (only those of the Manager's subnet: a veth's host-side MAC and a rule's
// comment carry the container's address, and daemons with other subnets may share the
// bridge); those of running ones are restored (rules re-added if missing, holds
// re-acquired, a lost veth re-created while its process lives). A published port that
// something else took meanwhile is logged, and its rule kept, so the port keeps answering.
func (m *Manager) Reconcile(ctx context.Context, running []Endpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waitDeletes()
	keep := map[string]Endpoint{}
	for _, ep := range running {
		if len(ep.ID) < 12 || !isVethName(VethName(ep.ID)) || !m.cfg.Subnet.Contains(ep.Addr) {
			return errdefs.Invalid(fmt.Sprintf("running endpoint %q at %s: bad id or address", ep.ID, ep.Addr))
		}
		keep[m.cfg.vethName(ep.ID)] = ep
	}
	var br *rtnetlink.LinkMessage
	if len(running) > 0 {
		var err error
		if br, err = m.ensureBridge(); err != nil {
			return err
		}
	} else {
		br, _ = linkByName(m.rt, m.cfg.Bridge) // nil if gone: then orphans have no master
	}
	seen, errs, err := m.pruneVeths(keep, br)
	if err != nil {
		return err
	}
	errs = append(errs, m.restoreVeths(keep, seen, br)...)
	changed, err := m.reconcileRules(keep, running)
	errs = append(errs, err)
	m.flushUDP(changed)
	return errors.Join(errs...)
}

// pruneVeths removes the veths of this subnet on our bridge (or on none) that belong to
// no running endpoint, and returns the ones that do, by name.
func (m *Manager) pruneVeths(keep map[string]Endpoint, br *rtnetlink.LinkMessage) (map[string]*rtnetlink.LinkMessage, []error, error) {
	links, err := m.rt.Link.List()
	if err != nil {
		return nil, nil, fmt.Errorf("list links: %w", err)
	}
	var errs []error
	seen := map[string]*rtnetlink.LinkMessage{}
	for i, l := range links {
		a := l.Attributes
		if a == nil || !m.cfg.ownVethName(a.Name) || a.Info == nil || a.Info.Kind != "veth" {
			continue
		}
		onOurs := a.Master == nil || *a.Master == 0 || (br != nil && *a.Master == br.Index)
		if !onOurs { // another bridge's: not ours to judge
			continue
		}
		if addr, ok := hostMACAddr(a.Address); ok && !m.cfg.Subnet.Contains(addr) {
			continue // another subnet's: a daemon sharing the bridge (tests run several)
		}
		if _, ok := keep[a.Name]; ok {
			seen[a.Name] = &links[i]
			continue
		}
		m.log.Info("removing stale veth", "veth", a.Name)
		if err := deleteLink(m.rt, a.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return seen, errs, nil
}

// restoreVeths re-creates the veth of a running endpoint that lost it (while its process
// lives) and puts back on the bridge one whose bridge was re-created.
func (m *Manager) restoreVeths(keep map[string]Endpoint, seen map[string]*rtnetlink.LinkMessage, br *rtnetlink.LinkMessage) []error {
	var errs []error
	for name, ep := range keep {
		l, ok := seen[name]
		switch {
		case !ok && ep.PID > 0:
			if _, err := os.Stat("/proc/" + strconv.Itoa(ep.PID) + "/ns/net"); err != nil {
				m.log.Warn("container has no network namespace to restore", "id", ep.ID[:12], "pid", ep.PID)
				break
			}
			m.log.Info("restoring veth", "id", ep.ID[:12])
			if err := m.addVeth(&ep, br); err != nil {
				errs = append(errs, err)
			}
		case ok && (l.Attributes.Master == nil || *l.Attributes.Master != br.Index):
			// The bridge was re-created: put the container back on it.
			m.log.Info("re-attaching veth to the bridge", "veth", name)
			if err := m.rt.Link.SetMaster(l.Index, br.Index, nil); err != nil {
				errs = append(errs, fmt.Errorf("attach %s to %s: %w", name, m.cfg.Bridge, err))
			} else {
				errs = append(errs, m.setHairpin(name))
			}
		}
	}
	return errs
}

// reconcileRules deletes this subnet's port rules and holds of containers not running,
// and re-adds the missing rules and holds of running ones; it returns the ports whose
// rules changed.
func (m *Manager) reconcileRules(keep map[string]Endpoint, running []Endpoint) ([]Port, error) {
	byID, err := m.portRules()
	if err != nil {
		return nil, err
	}
	var stale []*nftables.Rule
	for id, rules := range byID {
		if _, ok := keep[m.cfg.vethName(id)]; ok && len(id) >= 12 {
			continue
		}
		for _, r := range rules {
			c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			if _, addr, _, ok := parseComment(c); ok && m.cfg.Subnet.Contains(addr) {
				stale = append(stale, r) // another subnet's rules belong to another daemon
			}
		}
	}
	changed, err := m.deleteRules(stale)
	errs := []error{err}
	for id, hs := range m.holds {
		if _, ok := keep[m.cfg.vethName(id)]; !ok {
			closeHolds(hs)
			delete(m.holds, id)
			m.addrMu.Lock()
			delete(m.attached, id)
			m.addrMu.Unlock()
		}
	}
	for _, ep := range running {
		have := map[string]bool{}
		for _, r := range byID[ep.ID] {
			c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			have[c] = true
		}
		var missing []Port
		for _, p := range ep.Ports {
			if p.HostPort != 0 && !have[ruleComment(ep.ID, ep.Addr, p)] {
				missing = append(missing, p)
			}
		}
		if err := m.addRules(ep.ID, ep.Addr, missing); err != nil {
			errs = append(errs, err)
		}
		m.redirectPorts(ep.Addr, ep.Ports) // the rules that stayed: a new daemon's map is empty
		changed = append(changed, missing...)
		if _, held := m.holds[ep.ID]; !held {
			m.holds[ep.ID] = m.holdPorts(ep)
		}
		m.addrMu.Lock()
		m.attached[ep.ID] = Endpoint{ID: ep.ID, PID: ep.PID, Addr: ep.Addr, Ports: append([]Port(nil), ep.Ports...),
			IfName: ep.IfName, NoRoute: ep.NoRoute}
		m.addrMu.Unlock()
	}
	return changed, errors.Join(errs...)
}

// holdPorts binds each published port of ep, so nothing else takes it; a port something
// else holds is logged and skipped.
func (m *Manager) holdPorts(ep Endpoint) []*hold {
	var hs []*hold
	for _, p := range ep.Ports {
		if p.HostPort == 0 {
			continue
		}
		h, err := m.bindHold(p)
		if err != nil {
			m.log.Warn("cannot hold published port", "id", ep.ID[:12], "port", p.String(), "err", err)
			continue
		}
		hs = append(hs, h)
	}
	return hs
}

// Counters returns a container's traffic as the container sees it: rx is what it received
// (what the host side of its veth sent).
func (m *Manager) Counters(id string) (rx, tx uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := linkByName(m.rt, m.cfg.vethName(id))
	if err != nil {
		return 0, 0, err
	}
	if s := l.Attributes.Stats64; s != nil {
		return s.TXBytes, s.RXBytes, nil
	}
	if s := l.Attributes.Stats; s != nil {
		return uint64(s.TXBytes), uint64(s.RXBytes), nil
	}
	return 0, 0, fmt.Errorf("veth %s: no statistics", m.cfg.vethName(id))
}

// linkByName asks the kernel for one link by name (RTM_GETLINK with IFLA_IFNAME): no dump.
func linkByName(c *rtnetlink.Conn, name string) (*rtnetlink.LinkMessage, error) {
	msgs, err := c.Execute(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC,
		Attributes: &rtnetlink.LinkAttributes{Name: name}}, unix.RTM_GETLINK, netlink.Request)
	if errors.Is(err, unix.ENODEV) {
		return nil, fmt.Errorf("link %s: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get link %s: %w", name, err)
	}
	for _, msg := range msgs {
		if l, ok := msg.(*rtnetlink.LinkMessage); ok && l.Attributes != nil && l.Attributes.Name == name {
			return l, nil
		}
	}
	return nil, fmt.Errorf("link %s: %w", name, errdefs.ErrNotFound)
}

// sysctl writes /proc/sys/<key> in the managed namespace when it differs.
func (m *Manager) sysctl(key, value string) error {
	return m.inNS(func() error {
		p := "/proc/sys/" + key
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == value {
			return nil
		}
		if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(key, "/", "."), value, err)
		}
		return nil
	})
}
