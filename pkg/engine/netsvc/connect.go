package netsvc

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// usedAddrs is the addresses running containers but id have on network netID.
func (s *Service) usedAddrs(netID, id string) []netip.Addr {
	var out []netip.Addr
	s.ctrs.Visit(true, func(c *Container) {
		if c.ID == id {
			return
		}
		for _, ep := range c.Endpoints {
			if ep.NetworkID == netID {
				if a, err := netip.ParseAddr(ep.IP); err == nil {
					out = append(out, a)
				}
			}
		}
	})
	return out
}

// bridgeAddrs is the addresses of every running container but id that may be on the
// default bridge.
func (s *Service) bridgeAddrs(id string) []netip.Addr {
	var out []netip.Addr
	s.ctrs.Visit(true, func(c *Container) {
		if c.ID == id {
			return
		}
		if a, err := netip.ParseAddr(c.IP); err == nil {
			out = append(out, a)
		}
		if c.Bridge != nil {
			if a, err := netip.ParseAddr(c.Bridge.IP); err == nil {
				out = append(out, a)
			}
		}
	})
	return out
}

// allocate picks the address of endpoint ep of container id: its --ip (a conflict when
// taken), else the one it had, else the lowest free one.
func (s *Service) allocate(un *userNet, m *network.Manager, id string, ep *Endpoint) (netip.Addr, error) {
	used := s.usedAddrs(un.rec.ID, id)
	if ep.StaticIP != "" {
		want, _ := netip.ParseAddr(ep.StaticIP)
		a, err := m.Allocate(used, want)
		if err != nil {
			return a, err
		}
		if a != want {
			m.Release(a)
			return netip.Addr{}, errdefs.Conflict(fmt.Sprintf("ip %s: already in use on network %s", want, un.rec.Name))
		}
		return a, nil
	}
	prev, _ := netip.ParseAddr(ep.IP)
	return m.Allocate(used, prev)
}

// Connect puts a container on a user-defined network, or a container of one on the
// default bridge as well; a running one gets the next ethN at once.
func (s *Service) Connect(ctx context.Context, o ConnectOptions) error {
	if o.Network == "" || o.Container == "" {
		return errdefs.Invalid("network and container are required")
	}
	if o.Network == "bridge" {
		return s.connectBridge(ctx, o)
	}
	un, err := s.find(o.Network)
	if err != nil {
		return err
	}
	var id string
	var ep Endpoint
	err = s.ctrs.Edit(o.Container, func(c *Container) (bool, error) {
		if err := checkAliases(o.Aliases); err != nil {
			return false, err
		}
		ep = Endpoint{NetworkID: un.rec.ID, Aliases: slices.Clone(o.Aliases)}
		if o.IP != "" {
			a, err := checkStaticIP(un, o.IP)
			if err != nil {
				return false, err
			}
			ep.StaticIP = a.String()
		}
		if mode := c.Mode; mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:") {
			return false, errdefs.Conflict(fmt.Sprintf("container %s uses network mode %s: it cannot join a network", c.Name, mode))
		}
		taken := map[string]bool{}
		if c.Mode == "bridge" {
			taken["eth0"] = true
		}
		if c.Bridge != nil {
			taken[c.Bridge.IfName] = true
		}
		for _, o := range c.Endpoints {
			if o.NetworkID == un.rec.ID {
				return false, errdefs.Conflict(fmt.Sprintf("container %s is already on network %s", c.Name, un.rec.Name))
			}
			taken[o.IfName] = true
		}
		ep.IfName = freeIfName(taken)
		if c.PID > 0 {
			m, err := s.manager(un)
			if err != nil {
				return false, err
			}
			addr, err := s.allocate(un, m, c.ID, &ep)
			if err != nil {
				return false, err
			}
			// The default route stays where it is; a container with no interface yet gets it.
			noRoute := un.rec.Internal || len(taken) > 0
			nep := network.Endpoint{ID: c.ID, PID: c.PID, Addr: addr, IfName: ep.IfName, NoRoute: noRoute}
			if err := m.Attach(ctx, &nep); err != nil {
				m.Release(addr)
				return false, err
			}
			ep.IP = addr.String()
		}
		c.Endpoints = append(c.Endpoints, ep)
		id = c.ID
		return true, nil
	})
	if err != nil {
		return err
	}
	s.log.Info("container connected", "id", id[:12], "network", un.rec.Name, "ip", ep.IP)
	s.publish("connect", un.rec.ID, map[string]string{"name": un.rec.Name, "container": id})
	s.NamesChanged()
	return nil
}

func freeIfName(taken map[string]bool) string {
	for i := 0; ; i++ {
		if n := "eth" + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}

// connectBridge puts a container of a user-defined network on the default bridge as well
// (docker network connect bridge): one more interface, without the default route while
// a user network gives one; its published ports stay where they are.
func (s *Service) connectBridge(ctx context.Context, o ConnectOptions) error {
	var id string
	var ep Endpoint
	err := s.ctrs.Edit(o.Container, func(c *Container) (bool, error) {
		switch {
		case len(o.Aliases) > 0:
			return false, errdefs.Invalid("network-scoped alias is supported only for containers in user defined networks")
		case o.IP != "":
			return false, errdefs.Invalid("user specified IP address is supported on user defined networks only")
		}
		if c.Mode == "bridge" || c.Bridge != nil {
			return false, errdefs.Conflict(fmt.Sprintf("container %s is already on network bridge", c.Name))
		}
		if !IsUserNetwork(c.Mode) {
			return false, errdefs.Conflict(fmt.Sprintf("container %s uses network mode %s: it cannot join a network", c.Name, c.Mode))
		}
		taken := map[string]bool{}
		routed := false
		for _, o := range c.Endpoints {
			taken[o.IfName] = true
			if un := s.byID(o.NetworkID); un != nil && !un.rec.Internal {
				routed = true
			}
		}
		ep = Endpoint{NetworkID: "bridge", IfName: freeIfName(taken)}
		if c.PID > 0 {
			m, err := s.defaultBridge(ctx, true)
			if err != nil {
				return false, err
			}
			addr, err := m.Allocate(s.bridgeAddrs(c.ID), netip.Addr{})
			if err != nil {
				return false, err
			}
			nep := network.Endpoint{ID: c.ID, PID: c.PID, Addr: addr, IfName: ep.IfName, NoRoute: routed}
			if err := m.Attach(ctx, &nep); err != nil {
				m.Release(addr)
				return false, err
			}
			ep.IP = addr.String()
		}
		c.Bridge = &ep
		id = c.ID
		return true, nil
	})
	if err != nil {
		return err
	}
	s.log.Info("container connected", "id", id[:12], "network", "bridge", "ip", ep.IP)
	s.publish("connect", "bridge", map[string]string{"name": "bridge", "container": id})
	s.NamesChanged()
	return nil
}

// disconnectBridge takes a container of a user-defined network off the default bridge it
// joined with connectBridge.
func (s *Service) disconnectBridge(ctx context.Context, ctrRef string, force bool) error {
	var id string
	err := s.ctrs.Edit(ctrRef, func(c *Container) (bool, error) {
		switch {
		case c.Mode == "bridge":
			return false, errdefs.Invalid("the default bridge network cannot be disconnected from a container created on it; create the container on a user-defined network instead")
		case c.Bridge == nil && force:
			return false, nil
		case c.Bridge == nil:
			return false, errdefs.Conflict(fmt.Sprintf("container %s is not on network bridge", c.Name))
		}
		if c.PID > 0 {
			m, err := s.defaultBridge(ctx, false)
			if err != nil {
				return false, err
			}
			if err := m.Detach(ctx, c.ID); err != nil {
				return false, err
			}
		}
		c.Bridge = nil
		id = c.ID
		return true, nil
	})
	if err != nil || id == "" {
		return err
	}
	s.log.Info("container disconnected", "id", id[:12], "network", "bridge")
	s.publish("disconnect", "bridge", map[string]string{"name": "bridge", "container": id})
	s.NamesChanged()
	return nil
}

// Disconnect takes a container off a network; it returns once the interface, its rules
// and its address are gone. force: a container that is not on it is no error.
func (s *Service) Disconnect(ctx context.Context, netRef, ctrRef string, force bool) error {
	if netRef == "bridge" {
		return s.disconnectBridge(ctx, ctrRef, force)
	}
	un, err := s.find(netRef)
	if err != nil {
		return err
	}
	var id string
	err = s.ctrs.Edit(ctrRef, func(c *Container) (bool, error) {
		i := slices.IndexFunc(c.Endpoints, func(ep Endpoint) bool { return ep.NetworkID == un.rec.ID })
		if i < 0 {
			if force {
				return false, nil
			}
			return false, errdefs.Conflict(fmt.Sprintf("container %s is not on network %s", c.Name, un.rec.Name))
		}
		s.mu.RLock()
		m := un.m
		s.mu.RUnlock()
		if m != nil {
			if err := m.Detach(ctx, c.ID); err != nil {
				return false, err
			}
		}
		c.Endpoints = slices.Delete(c.Endpoints, i, i+1)
		id = c.ID
		return true, nil
	})
	if err != nil || id == "" {
		return err
	}
	s.log.Info("container disconnected", "id", id[:12], "network", un.rec.Name)
	s.publish("disconnect", un.rec.ID, map[string]string{"name": un.rec.Name, "container": id})
	s.NamesChanged()
	return nil
}

// IsUserNetwork reports whether a network mode names a user-defined network.
func IsUserNetwork(mode string) bool {
	switch mode {
	case "", "bridge", "host", "none", "default":
		return false
	}
	return !strings.HasPrefix(mode, "container:")
}

func checkStaticIP(un *userNet, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, errdefs.Invalid(fmt.Sprintf("ip %q: expected an IPv4 address", s))
	}
	if !network.IsHostAddr(un.rec.Subnet, a) || a == un.rec.Gateway {
		return netip.Addr{}, errdefs.Invalid(fmt.Sprintf("ip %s: not a free host address of network %s (%s, gateway %s)", a, un.rec.Name, un.rec.Subnet, un.rec.Gateway))
	}
	return a, nil
}

func checkAliases(aliases []string) error {
	for _, a := range aliases {
		if !dnsName(a) {
			return errdefs.Invalid(fmt.Sprintf("network alias %q: expected a DNS name", a))
		}
	}
	return nil
}

// dnsName: dot-separated labels of [A-Za-z0-9_-], at most 253 bytes (container names may
// have underscores and dots, and resolve too).
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, c := range l {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
