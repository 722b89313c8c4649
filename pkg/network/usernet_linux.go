package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// HostSubnet is an IPv4 prefix the host already uses: an interface's address or a route.
type HostSubnet struct {
	Prefix netip.Prefix
	Index  uint32 // the link's index (LinkName names it), 0 when unknown
}

// HostSubnets lists the managed namespace's IPv4 interface prefixes and main-table routes
// (the default route left out): a new network's subnet must overlap none of them. The links
// are not looked up for their names: only an error message needs one (LinkName), and a
// lookup per link cost as much as the rest of a network's creation. The routes are dumped
// on a second socket while the first dumps the addresses.
func (m *Manager) HostSubnets() ([]HostSubnet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type dumped struct {
		routes []rtnetlink.RouteMessage
		err    error
	}
	rc := make(chan dumped, 1)
	go func() {
		routes, err := m.ipv4Routes()
		rc <- dumped{routes, err}
	}()
	var out []HostSubnet
	addrs, err := ipv4Addrs(m.rt)
	rd := <-rc
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if a.Family != unix.AF_INET || a.Attributes == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.Attributes.Address.To4())
		if !ok || ip.IsLoopback() {
			continue
		}
		out = append(out, HostSubnet{Prefix: netip.PrefixFrom(ip, int(a.PrefixLength)).Masked(), Index: a.Index})
	}
	if rd.err != nil {
		return nil, rd.err
	}
	for _, r := range rd.routes {
		if r.Family != unix.AF_INET || r.Table != unix.RT_TABLE_MAIN || r.DstLength == 0 || r.Type != unix.RTN_UNICAST {
			continue
		}
		ip, ok := netip.AddrFromSlice(r.Attributes.Dst.To4())
		if !ok {
			continue
		}
		out = append(out, HostSubnet{Prefix: netip.PrefixFrom(ip, int(r.DstLength)).Masked(), Index: r.Attributes.OutIface})
	}
	return out, nil
}

// ipv4Routes lists the namespace's IPv4 routes (only those: the kernel dumps one family's
// when asked), on the Manager's second rtnetlink socket.
func (m *Manager) ipv4Routes() ([]rtnetlink.RouteMessage, error) {
	c, err := m.rawRoute()
	if err != nil {
		return nil, err
	}
	req, err := (&rtnetlink.RouteMessage{Family: unix.AF_INET}).MarshalBinary()
	if err != nil {
		return nil, err
	}
	msgs, err := c.Execute(netlink.Message{Header: netlink.Header{Type: unix.RTM_GETROUTE,
		Flags: netlink.Request | netlink.Dump}, Data: req})
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	out := make([]rtnetlink.RouteMessage, 0, len(msgs))
	for _, msg := range msgs {
		var r rtnetlink.RouteMessage
		if msg.Header.Type == unix.RTM_NEWROUTE && r.UnmarshalBinary(msg.Data) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// rawRoute is the Manager's second rtnetlink socket (for requests rtnetlink.Conn cannot
// make, and dumps beside m.rt's), dialled when first needed.
func (m *Manager) rawRoute() (*netlink.Conn, error) {
	if m.rl == nil {
		c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: m.nsfd()})
		if err != nil {
			return nil, fmt.Errorf("dial rtnetlink: %w", err)
		}
		m.rl = c
	}
	return m.rl, nil
}

// ipv4Addrs lists the namespace's IPv4 addresses: the kernel dumps one family's when
// asked (a host's IPv6 ones, a link-local address per veth, are most of the full list).
func ipv4Addrs(c *rtnetlink.Conn) ([]rtnetlink.AddressMessage, error) {
	msgs, err := c.Execute(&rtnetlink.AddressMessage{Family: unix.AF_INET}, unix.RTM_GETADDR, netlink.Request|netlink.Dump)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	out := make([]rtnetlink.AddressMessage, 0, len(msgs))
	for _, msg := range msgs {
		if a, ok := msg.(*rtnetlink.AddressMessage); ok {
			out = append(out, *a)
		}
	}
	return out, nil
}

// LinkName names the link with index i ("" when unknown or gone).
func (m *Manager) LinkName(i uint32) string {
	if i == 0 {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, err := m.rt.Link.Get(i); err == nil && l.Attributes != nil {
		return l.Attributes.Name
	}
	return ""
}

// ForeignOverlap returns an IPv4 address prefix on a link other than this Manager's bridge
// that overlaps its subnet: another daemon that picked the same free subnet at the same
// time. Right after CreateBridge it is what CreateBridge saw once the bridge had its
// address (it looks while the rules are committed).
func (m *Manager) ForeignOverlap() (HostSubnet, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.overlapSeen; r != nil {
		m.overlapSeen = nil
		return r.h, r.taken, r.err
	}
	index := m.brIndex
	if index == 0 {
		br, err := linkByName(m.rt, m.cfg.Bridge)
		if err != nil {
			return HostSubnet{}, false, err
		}
		index = br.Index
	}
	return m.foreignOverlap(index)
}

// overlap is a ForeignOverlap answer kept for later.
type overlap struct {
	h     HostSubnet
	taken bool
	err   error
}

func (m *Manager) foreignOverlap(index uint32) (HostSubnet, bool, error) {
	addrs, err := ipv4Addrs(m.rt)
	if err != nil {
		return HostSubnet{}, false, err
	}
	for _, a := range addrs {
		if a.Family != unix.AF_INET || a.Attributes == nil || a.Index == index {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.Attributes.Address.To4())
		if p := netip.PrefixFrom(ip, int(a.PrefixLength)).Masked(); ok && p.Overlaps(m.cfg.Subnet) {
			return HostSubnet{Prefix: p, Index: a.Index}, true, nil
		}
	}
	return HostSubnet{}, false, nil
}

// CreateBridge is EnsureBridge for a network made just now, in fewer round trips and with
// the independent steps overlapped. Two strands run at once: the bridge (created outright,
// echoed back by the kernel so no lookup follows; its alias and route_localnet in one
// request; its address added without listing the host's first; then other links'
// addresses looked at, for ForeignOverlap), and the rules (the table's listed, then the
// network's committed, the table and the chains the listing showed not declared again;
// ip_forward checked). The rules match the bridge by name, so they need not wait for it;
// rtnetlink and nf_tables take locks of their own, so neither waits behind the other.
// beforeRules, when set, runs on the rules' strand before the commit (the caller's record
// of the network: a daemon killed after the rules finds the record and makes what is
// missing, one killed before has no rules to leave) and its error stops the rules. A
// bridge that exists already takes EnsureBridge's path once the rules are in.
func (m *Manager) CreateBridge(ctx context.Context, beforeRules func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rules := make(chan error, 1)
	go func() { rules <- m.writeNetworkRules(beforeRules) }()
	index, err := m.createBridgeLink()
	if err == nil {
		m.brIndex = index
		err = m.addBridgeAddress(index)
	}
	var o overlap
	if err == nil {
		o.h, o.taken, o.err = m.foreignOverlap(index)
	}
	rerr := <-rules // the rules' sockets are free again past this point
	if errors.Is(err, unix.EEXIST) && rerr == nil {
		_, err = m.ensureBridge()
		return err
	}
	if err = errors.Join(err, rerr); err != nil {
		return err
	}
	m.overlapSeen = &o
	m.ready = true
	return nil
}

// writeNetworkRules is CreateBridge's rules strand: the table's rules listed, beforeRules,
// the network's rules committed, ip_forward set.
func (m *Manager) writeNetworkRules(beforeRules func() error) error {
	have, err := m.listRules()
	if err == nil && beforeRules != nil {
		if err = beforeRules(); err != nil {
			return err
		}
	}
	if err == nil {
		err = m.writeTableFrom(have, false)
	}
	if errors.Is(err, unix.ENOENT) { // another daemon changed the shared rules meanwhile
		err = m.writeTable()
	} else if err != nil {
		err = fmt.Errorf("write nftables table %s: %w", m.cfg.Table, err)
	}
	if err != nil {
		return err
	}
	return m.sysctl("net/ipv4/ip_forward", "1")
}

// createBridgeLink creates the bridge, up, with its fixed MAC (see newBridge), and sets
// its alias and route_localnet; it returns the bridge's index, from the kernel's echo of
// the link it made. An existing link of that name is an error wrapping EEXIST.
func (m *Manager) createBridgeLink() (uint32, error) {
	rl, err := m.rawRoute()
	if err != nil {
		return 0, err
	}
	req, err := (&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Flags: unix.IFF_UP, Change: unix.IFF_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: m.cfg.Bridge, Address: MAC(m.cfg.gateway()),
			Info: &rtnetlink.LinkInfo{Kind: "bridge"}}}).MarshalBinary()
	if err != nil {
		return 0, err
	}
	sent, err := rl.Send(netlink.Message{Header: netlink.Header{Type: unix.RTM_NEWLINK,
		Flags: netlink.Request | netlink.Create | netlink.Excl | netlink.Acknowledge | netlink.Echo}, Data: req})
	if err != nil {
		return 0, fmt.Errorf("create bridge %s: %w", m.cfg.Bridge, err)
	}
	// The echo comes before the acknowledgement (an error comes alone).
	var index uint32
	for acked := false; !acked; {
		msgs, err := rl.Receive()
		if err != nil {
			return 0, fmt.Errorf("create bridge %s: %w", m.cfg.Bridge, err)
		}
		for _, msg := range msgs {
			var l rtnetlink.LinkMessage
			switch {
			case msg.Header.Sequence != sent.Header.Sequence:
			case msg.Header.Type == netlink.Error:
				acked = true
			case msg.Header.Type == unix.RTM_NEWLINK && l.UnmarshalBinary(msg.Data) == nil && l.Attributes != nil &&
				l.Attributes.Name == m.cfg.Bridge:
				index = l.Index
			}
		}
	}
	if index == 0 { // a kernel without echo for RTM_NEWLINK (before 6.3)
		br, err := linkByName(m.rt, m.cfg.Bridge)
		if err != nil {
			return 0, err
		}
		index = br.Index
	}
	m.log.Info("bridge created", "bridge", m.cfg.Bridge, "subnet", m.cfg.Subnet.String())
	// RTM_NEWLINK leaves IFLA_IFALIAS and IFLA_AF_SPEC out: they are set on the link made.
	set := &rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: index, Attributes: &rtnetlink.LinkAttributes{}}
	if m.cfg.Alias != "" {
		alias := m.cfg.Alias
		set.Attributes.Alias = &alias
	}
	b, err := set.MarshalBinary()
	if err == nil {
		b = append(b, routeLocalnetAttr()...)
		_, err = rl.Execute(netlink.Message{Header: netlink.Header{Type: unix.RTM_SETLINK,
			Flags: netlink.Request | netlink.Acknowledge}, Data: b})
	}
	if err != nil {
		deleteLink(m.rt, m.cfg.Bridge)
		return 0, fmt.Errorf("set alias and route_localnet of bridge %s: %w", m.cfg.Bridge, err)
	}
	return index, nil
}

// routeLocalnetAttr is IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { ROUTE_LOCALNET: 1 } } }:
// the bridge's net.ipv4.conf.<bridge>.route_localnet (see bridgeSysctls) set through
// rtnetlink with the alias, instead of a write to /proc/sys once the bridge exists.
func routeLocalnetAttr() []byte {
	const ipv4DevconfRouteLocalnet = 26 // IPV4_DEVCONF_ROUTE_LOCALNET
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.IFLA_AF_SPEC, func(ae *netlink.AttributeEncoder) error {
		ae.Nested(unix.AF_INET, func(ae *netlink.AttributeEncoder) error {
			ae.Nested(unix.IFLA_INET_CONF, func(ae *netlink.AttributeEncoder) error {
				ae.Uint32(ipv4DevconfRouteLocalnet, 1)
				return nil
			})
			return nil
		})
		return nil
	})
	b, _ := ae.Encode()
	return b
}

// OwnedBridge is a user-defined network's bridge found on the host.
type OwnedBridge struct {
	Name    string
	ID      string       // the network id from its alias
	Subnet  netip.Prefix // from its address; invalid when it has none
	Gateway netip.Addr
}

// OwnedBridges lists the bridges whose alias says they belong to data root root.
func (m *Manager) OwnedBridges(root string) ([]OwnedBridge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	links, err := m.rt.Link.List()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	addrs, err := m.rt.Address.List()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var out []OwnedBridge
	for _, l := range links {
		a := l.Attributes
		if a == nil || a.Info == nil || a.Info.Kind != "bridge" || a.Alias == nil {
			continue
		}
		id, ok := ParseBridgeAlias(root, *a.Alias)
		if !ok {
			continue
		}
		b := OwnedBridge{Name: a.Name, ID: id}
		for _, ad := range addrs {
			if ad.Index == l.Index && ad.Family == unix.AF_INET && ad.Attributes != nil {
				if ip, ok := netip.AddrFromSlice(ad.Attributes.Address.To4()); ok {
					b.Gateway, b.Subnet = ip, netip.PrefixFrom(ip, int(ad.PrefixLength)).Masked()
				}
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// DeleteLink removes a link of the managed namespace by name (a bridge without address
// that no network record names); a missing one is fine.
func (m *Manager) DeleteLink(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return deleteLink(m.rt, name)
}

// Remove takes a user-defined network off the host: its veths (waiting for them), its port
// rules and static rules (those tagged with its subnet) in one transaction, and its bridge.
// It returns once nothing on the host carries the bridge's name or subnet: the bridge,
// without ports (the veths a lost container left on it are deleted first), is retired
// (retireBridge) and deleted in the background (Close waits for it). rulesGone, when set,
// is called once the rules are gone and the bridge's removal is under way (not at all when
// the rules could not be removed): the caller removes the network's record there. A
// daemon killed before finds the record and makes bridge and rules again; one killed after
// finds at most a bridge of its root that no record names, and removes it. What is already
// gone is fine. The Manager stays usable only for Close.
func (m *Manager) Remove(ctx context.Context, rulesGone func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	// Veths still being released (containers that left) need not hold up the bridge's
	// removal: they are off it once unlisted, which Detach waited for.
	for id := range m.attached {
		unlisted, err := m.detach(id)
		<-unlisted
		errs = append(errs, err)
	}
	if m.bareOwnBridge() {
		errs = append(errs, m.retireBridge(m.brIndex, rulesGone))
		m.ready, m.overlapSeen = false, nil
		return errors.Join(errs...)
	}
	br, err := linkByName(m.rt, m.cfg.Bridge)
	switch {
	case err == nil:
		if m.cfg.Alias != "" && (br.Attributes.Alias == nil || *br.Attributes.Alias != m.cfg.Alias) {
			errs = append(errs, m.deleteOwnRulesThen(rulesGone))
			break // not ours (any more): leave it
		}
		// Veths left on it (a container the records lost) go with the network. The kernel
		// lists only the bridge's ports (a dump filtered by IFLA_MASTER).
		master := br.Index
		msgs, lerr := m.rt.Execute(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC,
			Attributes: &rtnetlink.LinkAttributes{Master: &master}}, unix.RTM_GETLINK, netlink.Request|netlink.Dump)
		if lerr == nil {
			for _, msg := range msgs {
				if l, ok := msg.(*rtnetlink.LinkMessage); ok && l.Attributes != nil && l.Attributes.Master != nil &&
					*l.Attributes.Master == br.Index && m.cfg.ownVethName(l.Attributes.Name) {
					errs = append(errs, deleteLink(m.rt, l.Attributes.Name))
				}
			}
		}
		errs = append(errs, m.retireBridge(br.Index, rulesGone))
	case errors.Is(err, errdefs.ErrNotFound):
		errs = append(errs, m.deleteOwnRulesThen(rulesGone))
	default:
		errs = append(errs, err)
	}
	m.ready, m.overlapSeen = false, nil
	return errors.Join(errs...)
}

// deleteBridge removes the bridge and, while the kernel tears it down, the network's rules
// (then calls rulesGone); it returns once the bridge is unlisted.
func (m *Manager) deleteBridge(rulesGone func()) error {
	unlisted := m.deleteLinkLater(m.cfg.Bridge)
	err := m.deleteOwnRulesThen(rulesGone)
	if announced := <-unlisted; !announced { // the kernel's word was missed (or the removal failed): ask it
		err = errors.Join(err, m.bridgeGone())
	}
	return err
}

// retiredBridgePrefix starts the name a removed network's bridge carries while the kernel
// deletes it in the background (retireBridge).
const retiredBridgePrefix = "mbx-"

// retireBridge takes the bridge off the host at once and leaves its deletion to the
// background: the kernel unlists a bridge only after an RCU barrier (~20 ms here), which
// made a network's removal (and so `compose down`) wait for it. Set down, renamed out of
// the network's name and without its address, the bridge holds neither the name nor the
// subnet nor a route, nothing reaches it, and nothing of the network stays listed under its
// own name; the deletion under the new name runs on (Close waits for it; a daemon killed
// meanwhile finds a bridge of its root that no record names, and removes it). Then the
// rules go (and rulesGone is called). Any step refused falls back to deleteBridge. idx is
// the bridge's index.
func (m *Manager) retireBridge(idx uint32, rulesGone func()) error {
	hidden := retiredBridgePrefix + strings.TrimPrefix(m.cfg.Bridge, UserBridgePrefix)
	if len(hidden) > unix.IFNAMSIZ-1 || hidden == m.cfg.Bridge {
		return m.deleteBridge(rulesGone)
	}
	if err := m.rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: idx, Change: unix.IFF_UP}); err != nil {
		return m.deleteBridge(rulesGone)
	}
	if err := m.rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: idx,
		Attributes: &rtnetlink.LinkAttributes{Name: hidden}}); err != nil {
		return m.deleteBridge(rulesGone)
	}
	gw := m.cfg.gateway()
	err := m.rt.Address.Delete(&rtnetlink.AddressMessage{Family: unix.AF_INET,
		PrefixLength: uint8(m.cfg.Subnet.Bits()), Index: idx,
		Attributes: &rtnetlink.AddressAttributes{Address: gw.AsSlice(), Local: gw.AsSlice()}})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		// Still holding the subnet: unlisted before the answer, as deleteBridge does.
		unlisted := m.deleteLinkLater(hidden)
		rerr := m.deleteOwnRulesThen(rulesGone)
		<-unlisted
		return rerr
	}
	m.deleteLinkLater(hidden)
	return m.deleteOwnRulesThen(rulesGone)
}

// bareOwnBridge reports, from sysfs, that the bridge is still the one this Manager made or
// checked (same name, same index: the kernel does not hand an index out again soon) and
// has no port left, so Remove may delete it without asking rtnetlink first. A link query
// waits for the RTNL lock, which any removal of a bridge on the host holds for an RCU
// barrier (~15 ms); sysfs does not. Anything else (a managed namespace other than the
// daemon's, whose links this /sys does not show) takes the rtnetlink path.
func (m *Manager) bareOwnBridge() bool {
	if m.brIndex == 0 || m.ns != nil || m.cfg.Alias == "" {
		return false
	}
	dir := "/sys/class/net/" + m.cfg.Bridge
	b, err := os.ReadFile(dir + "/ifindex")
	if err != nil || strings.TrimSpace(string(b)) != strconv.FormatUint(uint64(m.brIndex), 10) {
		return false
	}
	ports, err := os.ReadDir(dir + "/brif")
	return err == nil && len(ports) == 0
}

// deleteOwnRulesThen is deleteOwnRules, then rulesGone (if set) when that succeeded.
func (m *Manager) deleteOwnRulesThen(rulesGone func()) error {
	err := m.deleteOwnRules()
	if err == nil && rulesGone != nil {
		rulesGone()
	}
	return err
}

// deleteOwnRules removes, in one transaction, the port rules that DNAT to this Manager's
// subnet and the static rules tagged with it. A rule someone else removed meanwhile fails
// the transaction as a whole: it is listed and tried again.
func (m *Manager) deleteOwnRules() error {
	t := m.tableRef()
	own := subnetTag(m.cfg.Subnet)
	var err error
	for try := 0; try < 5; try++ {
		var rules []ruleRef
		if rules, err = m.listRules(); err != nil {
			return err
		}
		n := 0
		for _, r := range rules {
			c := r.comment()
			if r.chain == chainPorts {
				if _, addr, _, ok := parseComment(c); !ok || !m.cfg.Subnet.Contains(addr) {
					continue
				}
			} else if c != own {
				continue
			}
			if err = m.nft.DelRule(r.rule(t)); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return nil
		}
		if err = m.nft.Flush(); err == nil || !errors.Is(err, unix.ENOENT) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("delete rules of %s: %w", m.cfg.Subnet, err)
	}
	return nil
}

// bridgeGone checks that the kernel has unlisted the bridge (its name and subnet are free
// then). Unregistering a bridge waits for RCU grace periods twice: once before it is
// unlisted (~17 ms here, the bridge's own teardown) and once after (another ~17 ms, releasing the
// device); the second is left to the background (waitDeleted and Close wait for it).
func (m *Manager) bridgeGone() error {
	if _, err := linkByName(m.rt, m.cfg.Bridge); !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("bridge %s is still there after its removal (see the log): %v", m.cfg.Bridge, err)
	}
	return nil
}
