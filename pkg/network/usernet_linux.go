package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// HostSubnet is an IPv4 prefix the host already uses: an interface's address or a route.
type HostSubnet struct {
	Prefix netip.Prefix
	Dev    string // the link's name, when known
}

// HostSubnets lists the managed namespace's IPv4 interface prefixes and main-table routes
// (the default route left out): a new network's subnet must overlap none of them.
func (m *Manager) HostSubnets() ([]HostSubnet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	links, err := m.rt.Link.List()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := map[uint32]string{}
	for _, l := range links {
		if l.Attributes != nil {
			names[l.Index] = l.Attributes.Name
		}
	}
	var out []HostSubnet
	addrs, err := m.rt.Address.List()
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if a.Family != unix.AF_INET || a.Attributes == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.Attributes.Address.To4())
		if !ok || ip.IsLoopback() {
			continue
		}
		out = append(out, HostSubnet{Prefix: netip.PrefixFrom(ip, int(a.PrefixLength)).Masked(), Dev: names[a.Index]})
	}
	routes, err := m.rt.Route.List()
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		if r.Family != unix.AF_INET || r.Table != unix.RT_TABLE_MAIN || r.DstLength == 0 || r.Type != unix.RTN_UNICAST {
			continue
		}
		ip, ok := netip.AddrFromSlice(r.Attributes.Dst.To4())
		if !ok {
			continue
		}
		out = append(out, HostSubnet{Prefix: netip.PrefixFrom(ip, int(r.DstLength)).Masked(), Dev: names[r.Attributes.OutIface]})
	}
	return out, nil
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
// rules, its static rules (those tagged with its subnet) and its bridge. What is already
// gone is fine. The Manager stays usable only for Close.
func (m *Manager) Remove(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for id := range m.attached {
		errs = append(errs, m.detach(id))
	}
	m.waitDeletes()
	byID, err := m.portRules()
	errs = append(errs, err)
	var rules []*nftables.Rule
	for _, rs := range byID {
		rules = append(rules, m.inSubnet(rs)...)
	}
	_, err = m.deleteRules(rules)
	errs = append(errs, err)
	errs = append(errs, m.deleteStatic())
	br, err := linkByName(m.rt, m.cfg.Bridge)
	switch {
	case err == nil:
		if m.cfg.Alias != "" && (br.Attributes.Alias == nil || *br.Attributes.Alias != m.cfg.Alias) {
			break // not ours (any more): leave it
		}
		// Veths left on it (a container the records lost) go with the network.
		if links, lerr := m.rt.Link.List(); lerr == nil {
			for _, l := range links {
				if l.Attributes != nil && l.Attributes.Master != nil && *l.Attributes.Master == br.Index && m.cfg.ownVethName(l.Attributes.Name) {
					errs = append(errs, deleteLink(m.rt, l.Attributes.Name))
				}
			}
		}
		errs = append(errs, deleteLink(m.rt, m.cfg.Bridge))
	case !errors.Is(err, errdefs.ErrNotFound):
		errs = append(errs, err)
	}
	m.ready = false
	return errors.Join(errs...)
}

// deleteStatic removes the static rules tagged with this Manager's subnet.
func (m *Manager) deleteStatic() error {
	p := tablePlan(m.cfg)
	own := subnetTag(m.cfg.Subnet)
	n := 0
	for _, c := range p.chains {
		if c.Name == chainPorts {
			continue
		}
		rules, err := m.nft.GetRules(p.table, c)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("list rules of chain %s: %w", c.Name, err)
		}
		for _, r := range rules {
			if tag, _ := userdata.GetString(r.UserData, userdata.TypeComment); tag == own {
				r.Table, r.Chain = p.table, c
				if err := m.nft.DelRule(r); err != nil {
					return err
				}
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	if err := m.nft.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete rules of %s: %w", m.cfg.Subnet, err)
	}
	return nil
}
