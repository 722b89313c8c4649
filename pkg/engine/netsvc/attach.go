package netsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// EndpointsFor turns a create's networks into the container's endpoints: its network
// mode (when a user-defined network) first, then its other networks. Aliases and --ip go
// with the first.
func (s *Service) EndpointsFor(cfg *ctrconfig.Config) ([]Endpoint, error) {
	var names []string
	if IsUserNetwork(cfg.Network) {
		names = append(names, cfg.Network)
	} else if len(cfg.NetworkAlias) > 0 || cfg.IPAddress != "" {
		if cfg.Network != "bridge" || len(cfg.Networks) == 0 {
			return nil, errdefs.Invalid("network_aliases and ip_address: need a user-defined network")
		}
	}
	if len(cfg.Networks) > 0 && (cfg.Network == "host" || cfg.Network == "none" || strings.HasPrefix(cfg.Network, "container:")) {
		return nil, errdefs.Invalid(fmt.Sprintf("networks: network mode %s cannot be combined with other networks", cfg.Network))
	}
	names = append(names, cfg.Networks...)
	first := 0
	if cfg.Network == "bridge" {
		first = 1 // eth0 is the default bridge's
	}
	var eps []Endpoint
	seen := map[string]bool{}
	for i, n := range names {
		if !IsUserNetwork(n) {
			return nil, errdefs.Invalid(fmt.Sprintf("networks: %q is not a user-defined network", n))
		}
		un, err := s.find(n)
		if err != nil {
			return nil, err
		}
		if seen[un.rec.ID] {
			return nil, errdefs.Invalid(fmt.Sprintf("networks: %s given twice", n))
		}
		seen[un.rec.ID] = true
		ep := Endpoint{NetworkID: un.rec.ID, IfName: "eth" + strconv.Itoa(first+i)}
		if i == 0 {
			ep.Aliases = slices.Clone(cfg.NetworkAlias)
			if cfg.IPAddress != "" {
				a, err := checkStaticIP(un, cfg.IPAddress)
				if err != nil {
					return nil, err
				}
				ep.StaticIP = a.String()
			}
		}
		if err := checkAliases(ep.Aliases); err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	if len(cfg.Publish) > 0 && cfg.Network != "bridge" && len(eps) > 0 && s.byID(eps[0].NetworkID).rec.Internal {
		return nil, errdefs.Invalid(fmt.Sprintf("publish: network %s is internal: ports cannot be published", names[0]))
	}
	return eps, nil
}

// Attachment is one interface a start wires on a user-defined network, its address
// allocated.
type Attachment struct {
	NetworkID, NetworkName string
	// Endpoint is the interface to make; the start sets its PID (and Ports on the
	// primary one).
	Endpoint network.Endpoint
	// Index is the endpoint's in the container's Endpoints.
	Index int
	// Primary: the container's published ports go on this one.
	Primary bool
	m       *network.Manager
}

// Attach makes the interface in the namespace of a.Endpoint.PID.
func (a *Attachment) Attach(ctx context.Context) error {
	if err := a.m.Attach(ctx, &a.Endpoint); err != nil {
		return fmt.Errorf("network %s: %w", a.NetworkName, err)
	}
	return nil
}

// Detach removes what Attach made.
func (a *Attachment) Detach(ctx context.Context) error {
	return a.m.Detach(ctx, a.Endpoint.ID)
}

// Release gives the attachments' addresses back.
func Release(atts []Attachment) {
	for _, a := range atts {
		a.m.Release(a.Endpoint.Addr)
	}
}

// Attachments allocates an address on each of the container's user-defined networks.
// The default route goes through the first interface that may have one (the default
// bridge's when onBridge).
func (s *Service) Attachments(id, name string, eps []Endpoint, onBridge bool) ([]Attachment, error) {
	var atts []Attachment
	routed := onBridge
	for i := range eps {
		ep := eps[i]
		un := s.byID(ep.NetworkID)
		if un == nil {
			Release(atts)
			return nil, errdefs.NotFound(fmt.Sprintf("container %s: its network %.12s no longer exists; disconnect it", name, ep.NetworkID))
		}
		m, err := s.manager(un)
		if err != nil {
			Release(atts)
			return nil, err
		}
		a, err := s.allocate(un, m, id, &ep)
		if err != nil {
			Release(atts)
			return nil, fmt.Errorf("network %s: %w", un.rec.Name, err)
		}
		noRoute := routed || un.rec.Internal
		if !noRoute {
			routed = true
		}
		atts = append(atts, Attachment{NetworkID: un.rec.ID, NetworkName: un.rec.Name, m: m, Index: i,
			Primary:  i == 0 && !onBridge && !un.rec.Internal,
			Endpoint: network.Endpoint{ID: id, Addr: a, IfName: ep.IfName, NoRoute: noRoute}})
	}
	return atts, nil
}

// detachBegin starts taking a container that ended off its user-defined networks: the
// waits it returns wait for each veth to go (and log what failed).
func (s *Service) detachBegin(id string, eps []Endpoint) (waits []func()) {
	for _, ep := range eps {
		un := s.byID(ep.NetworkID)
		if un == nil {
			continue
		}
		s.mu.RLock()
		m := un.m
		s.mu.RUnlock()
		if m == nil {
			continue
		}
		wait, name := m.DetachBegin(id), un.rec.Name
		waits = append(waits, func() {
			if err := wait(); err != nil {
				s.log.Warn("detach from network", "id", id[:12], "network", name, "err", err)
			}
		})
	}
	return waits
}

// EndpointView is a container's place on one network as inspect shows it.
type EndpointView struct {
	NetworkID string
	// Addr, Gateway and MAC are set while the container runs.
	Addr      netip.Prefix
	Gateway   netip.Addr
	MAC       net.HardwareAddr
	Aliases   []string
	Interface string
}

// InspectEndpoints is a container's networks by name, with its address, the gateway and
// its MAC on each while it runs.
func (s *Service) InspectEndpoints(c *Container, running bool) map[string]EndpointView {
	out := map[string]EndpointView{}
	sub := s.cfg.BridgeSubnet
	view := func(netID, ifName, ip string, subnet netip.Prefix, gw netip.Addr, aliases []string) EndpointView {
		v := EndpointView{NetworkID: netID, Aliases: append([]string{}, aliases...), Interface: ifName}
		if running && ip != "" {
			if a, err := netip.ParseAddr(ip); err == nil {
				v.Addr, v.Gateway, v.MAC = netip.PrefixFrom(a, subnet.Bits()), gw, network.MAC(a)
			}
		}
		return v
	}
	if c.Mode == "bridge" {
		out["bridge"] = view("bridge", "eth0", c.IP, sub, network.Gateway(sub), nil)
	}
	if b := c.Bridge; b != nil {
		out["bridge"] = view("bridge", b.IfName, b.IP, sub, network.Gateway(sub), nil)
	}
	for _, ep := range c.Endpoints {
		un := s.byID(ep.NetworkID)
		if un == nil {
			continue
		}
		out[un.rec.Name] = view(un.rec.ID, ep.IfName, ep.IP, un.rec.Subnet, un.rec.Gateway, ep.Aliases)
	}
	return out
}

// Open runs at daemon start with the running containers' endpoints by network id: each
// network's bridge and rules are made again where missing, stale veths and rules go, and
// bridges of this data root without a record (a create or remove cut short) are removed.
// adopt takes what the host holds for the running containers on one network into their
// records (see network.Manager.AdoptLive). From Open on, the name table is kept.
func (s *Service) Open(ctx context.Context, running map[string][]network.Endpoint,
	adopt func(m *network.Manager, netID string, eps []network.Endpoint) []network.Endpoint) error {
	if len(s.nets) == 0 {
		s.publishing.Store(true)
		// Only the bridge listing, to find leftovers; no netlink work at all when there
		// is nothing to find (a fresh root without networks dir entries has none).
		if ents, _ := os.ReadDir(s.dir()); len(ents) == 0 && !s.cfg.BridgeOnStartup {
			return nil
		}
	}
	host, err := s.defaultBridge(ctx, false)
	if err != nil {
		return err
	}
	var errs []error
	for _, un := range s.userNets() {
		m, err := s.manager(un)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := m.EnsureBridge(ctx); err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", un.rec.Name, err))
			continue
		}
		if err := m.Reconcile(ctx, adopt(m, un.rec.ID, running[un.rec.ID])); err != nil {
			s.log.Warn("network reconcile", "network", un.rec.Name, "err", err)
		}
	}
	s.publishing.Store(true)
	owned, err := host.OwnedBridges(s.cfg.Root)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, b := range owned {
		if un := s.byID(b.ID); un != nil && un.rec.Bridge == b.Name {
			continue
		}
		s.log.Info("removing a bridge no network record names", "bridge", b.Name)
		if !b.Subnet.IsValid() {
			errs = append(errs, host.DeleteLink(b.Name))
			continue
		}
		rec := record{ID: b.ID, Name: "orphan", Subnet: b.Subnet, Gateway: b.Gateway, Bridge: b.Name}
		m, err := s.newManager(s.netConfig(&rec), s.log.With("area", "network"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, m.Remove(ctx, nil))
		m.Close()
	}
	return errors.Join(errs...)
}

// Close releases the Managers, and this root's claim on the default bridge when no
// container is on it (ReleaseBridge); bridges, veths and rules stay.
func (s *Service) Close() {
	s.background.Wait()
	s.mu.Lock()
	for _, un := range s.nets {
		if un.m != nil {
			un.m.Close()
			un.m = nil
		}
	}
	s.mu.Unlock()
	s.ReleaseBridge(context.Background())
	s.closeBridge()
	s.namesMu.Lock()
	s.forgetResolver()
	s.namesMu.Unlock()
}
