package netsvc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// StartRequest is a container about to start, as its networks see it.
type StartRequest struct {
	ID, Name string
	// Mode is its network mode; IP its primary address of its last run (kept when free).
	Mode, IP string
	// Bridge is the default bridge joined after the create (network connect bridge).
	Bridge    *Endpoint
	Endpoints []Endpoint
	// Publish is the ports its create asked for.
	Publish []network.Port
}

// StartPlan is what a start holds for the container's networks: the addresses allocated
// before its shim exists, then (Attach) its interfaces.
type StartPlan struct {
	s  *Service
	id string
	// nm is the default bridge's Manager when the container is on it (mode bridge).
	nm *network.Manager
	// Addr is the container's primary address (zero: none); Ports its published ports,
	// as bound once attached.
	Addr  netip.Addr
	Ports []network.Port
	// Atts are its user-network attachments.
	Atts []Attachment
	// bnm and bridge are the default bridge's endpoint of a user-network container that
	// joined it (StartRequest.Bridge).
	bnm    *network.Manager
	bridge network.Endpoint
}

// PlanStart allocates the container's addresses; on failure nothing stays held.
func (s *Service) PlanStart(ctx context.Context, req StartRequest) (*StartPlan, error) {
	p := &StartPlan{s: s, id: req.ID}
	var err error
	if req.Mode == "bridge" {
		if p.nm, err = s.defaultBridge(ctx, true); err != nil {
			return nil, err
		}
		prev, _ := netip.ParseAddr(req.IP)
		if p.Addr, err = p.nm.Allocate(s.bridgeAddrs(req.ID), prev); err != nil {
			return nil, err
		}
		p.Ports = slices.Clone(req.Publish)
	}
	if p.Atts, err = s.Attachments(req.ID, req.Name, req.Endpoints, p.nm != nil); err != nil {
		if p.nm != nil {
			p.nm.Release(p.Addr)
		}
		return nil, err
	}
	if len(p.Atts) > 0 && p.nm == nil {
		// The first user-defined network is the container's primary one: its address goes
		// into /etc/hosts and its published ports (none on an internal network).
		p.Addr = p.Atts[0].Endpoint.Addr
		if p.Atts[0].Primary {
			p.Atts[0].Endpoint.Ports = slices.Clone(req.Publish)
		}
	}
	if b := req.Bridge; b != nil && p.nm == nil {
		bnm, err := s.defaultBridge(ctx, true)
		var addr netip.Addr
		if err == nil {
			prev, _ := netip.ParseAddr(b.IP)
			addr, err = bnm.Allocate(s.bridgeAddrs(req.ID), prev)
		}
		if err != nil {
			p.Release()
			return nil, fmt.Errorf("network bridge: %w", err)
		}
		// The default route stays with the user networks unless none of them gives one.
		routed := slices.ContainsFunc(p.Atts, func(a Attachment) bool { return !a.Endpoint.NoRoute })
		p.bnm, p.bridge = bnm, network.Endpoint{ID: req.ID, Addr: addr, IfName: b.IfName, NoRoute: routed}
	}
	return p, nil
}

// Release gives back what PlanStart allocated, before anything was attached.
func (p *StartPlan) Release() {
	if p.nm != nil {
		p.nm.Release(p.Addr)
	}
	if p.bnm != nil {
		p.bnm.Release(p.bridge.Addr)
	}
	Release(p.Atts)
}

// Attach wires the network namespace of process pid (the container's init) to the
// default bridge and the user networks; Ports becomes the ports as published.
func (p *StartPlan) Attach(ctx context.Context, pid int) error {
	return p.AttachIn(ctx, pid, nil)
}

// AttachIn is Attach of the network namespace netns (nil: pid's), which the caller opened
// as process pid's.
func (p *StartPlan) AttachIn(ctx context.Context, pid int, netns *os.File) error {
	if p.nm != nil {
		ep := network.Endpoint{ID: p.id, PID: pid, Addr: p.Addr, Ports: p.Ports, NetNS: netns}
		if err := p.nm.Attach(ctx, &ep); err != nil {
			return p.s.namePortHolder(err, p.id, p.Ports)
		}
		p.Ports = ep.Ports
	}
	for i := range p.Atts {
		a := &p.Atts[i]
		a.Endpoint.PID, a.Endpoint.NetNS = pid, netns
		err := a.Attach(ctx)
		a.Endpoint.NetNS = nil // the caller's, closed once wired
		if err != nil {
			return err
		}
		if a.Primary {
			p.Ports = a.Endpoint.Ports
		}
	}
	if p.bnm != nil {
		p.bridge.PID, p.bridge.NetNS = pid, netns
		err := p.bnm.Attach(ctx, &p.bridge)
		p.bridge.NetNS = nil
		if err != nil {
			return fmt.Errorf("network bridge: %w", err)
		}
	}
	return nil
}

// Undo takes off what Attach made (whatever part of it it got to) and releases the
// addresses: the start failed.
func (p *StartPlan) Undo() {
	ctx := context.Background()
	if p.nm != nil {
		p.nm.Detach(ctx, p.id)
		p.nm.Release(p.Addr)
	}
	for _, a := range p.Atts {
		a.Detach(ctx)
	}
	Release(p.Atts)
	if p.bnm != nil {
		p.bnm.Detach(ctx, p.id)
		p.bnm.Release(p.bridge.Addr)
	}
}

// BridgeIP is the address on the default bridge of a user-network container that joined
// it, "" when none.
func (p *StartPlan) BridgeIP() string {
	if p.bnm == nil {
		return ""
	}
	return p.bridge.Addr.String()
}

// Wired reports whether the container got an interface on any network (the name table
// changes then).
func (p *StartPlan) Wired() bool { return len(p.Atts) > 0 || p.nm != nil || p.bnm != nil }

// EndRun takes a container whose run ended off the default bridge and its user networks:
// it starts the veths' removals and returns the rest, to be called once the container no
// longer counts as running, which writes the name table (it lists running containers
// only, whatever their veths) while the kernel unlists the veths, then waits for them to
// go (`rm -f`, `run --rm` and a `network rm` right after must find them gone).
func (s *Service) EndRun(c *Container) (finish func()) {
	bridge := s.openedBridge()
	onBridge := bridge != nil && (c.Mode == "bridge" || c.Bridge != nil)
	var waits []func()
	if onBridge {
		wait := bridge.DetachBegin(c.ID)
		waits = append(waits, func() {
			if err := wait(); err != nil {
				s.log.Warn("detach from the bridge", "id", c.ID[:12], "err", err)
			}
		})
	}
	waits = append(waits, s.detachBegin(c.ID, c.Endpoints)...)
	return func() {
		if len(waits) > 0 {
			s.NamesChanged()
		}
		for _, wait := range waits {
			wait()
		}
	}
}

// namePortHolder adds to a port conflict the container that publishes the port, if one
// of ours does (the kernel only says the port is taken); another program otherwise.
func (s *Service) namePortHolder(err error, self string, want []network.Port) error {
	if !errors.Is(err, errdefs.ErrConflict) {
		return err
	}
	overlap := func(a, b network.Port) bool {
		return a.HostPort == b.HostPort && a.Proto == b.Proto &&
			(!a.HostIP.IsValid() || !b.HostIP.IsValid() || a.HostIP.IsUnspecified() || b.HostIP.IsUnspecified() || a.HostIP == b.HostIP)
	}
	var holder error
	s.ctrs.Visit(false, func(c *Container) {
		if c.ID == self || holder != nil {
			return
		}
		for _, held := range c.Ports {
			for _, w := range want {
				if w.HostPort != 0 && overlap(held, w) {
					holder = errdefs.Conflict(fmt.Sprintf("host port %s is already in use by container %s (%.12s); stop it or publish another port", w, c.Name, c.ID))
					return
				}
			}
		}
	})
	if holder != nil {
		return holder
	}
	return errdefs.Conflict(errdefs.Message(err) + " by another program on this host; publish another port")
}
