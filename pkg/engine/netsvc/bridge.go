package netsvc

import (
	"context"
	"fmt"

	"github.com/minibox/minibox/pkg/network"
)

// DefaultBridge returns the default bridge's Manager, made when first needed; with setUp
// the bridge (its subnet claimed for this root) is set up first.
func (s *Service) DefaultBridge(ctx context.Context, setUp bool) (*network.Manager, error) {
	return s.defaultBridge(ctx, setUp)
}

// openDefaultBridge is DefaultBridge's own work (tests stand in for it).
func (s *Service) openDefaultBridge(ctx context.Context, setUp bool) (*network.Manager, error) {
	s.bridgeMu.Lock()
	defer s.bridgeMu.Unlock()
	if s.bridge == nil {
		m, err := s.newManager(network.Config{Subnet: s.cfg.BridgeSubnet, APIPort: s.cfg.APIPort}, s.log.With("area", "network"))
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		s.bridge = m
	}
	// Once set up, each start need not check it all again (~5 ms of netlink and nftables
	// round trips): Attach finds a missing or downed bridge and redoes the setup.
	if setUp && !s.bridge.Ready() {
		if err := s.bridge.ClaimSubnet(s.cfg.Root); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
		if err := s.bridge.EnsureBridge(ctx); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
	}
	return s.bridge, nil
}

// openedBridge is the default bridge's Manager if one was made, else nil.
func (s *Service) openedBridge() *network.Manager {
	s.bridgeMu.Lock()
	defer s.bridgeMu.Unlock()
	return s.bridge
}

// defaultBridgeReady reports whether this daemon has set the default bridge up.
func (s *Service) defaultBridgeReady() bool {
	m := s.openedBridge()
	return m != nil && m.Ready()
}

// BridgeCounters is a container's traffic on the default bridge (none before the bridge
// was made).
func (s *Service) BridgeCounters(id string) (rx, tx uint64, err error) {
	m := s.openedBridge()
	if m == nil {
		return 0, 0, nil
	}
	return m.Counters(id)
}

// bridgeInUse reports whether a container of this root is (or is being) on the default
// bridge: running, paused or restarting.
func (s *Service) bridgeInUse() bool {
	used := false
	s.ctrs.Visit(false, func(c *Container) {
		used = used || c.Mode == "bridge" && (c.Active || c.PID != 0)
	})
	return used
}

// ReleaseBridge takes this root's address, rules and claim off the shared default bridge
// when no container of the root is on it (at shutdown, at a start after a kill, at
// `system prune`). A later start on the bridge sets them up again.
func (s *Service) ReleaseBridge(ctx context.Context) {
	// Only a subnet claimed for this root: the same subnet may be another root's, if this
	// daemon never set its bridge up (claims are made then).
	if network.ClaimedBy(s.cfg.BridgeSubnet) != s.cfg.Root || s.bridgeInUse() {
		return
	}
	m, err := s.defaultBridge(ctx, false)
	if err != nil {
		s.log.Warn("release default bridge", "err", err)
		return
	}
	if err := m.ReleaseSubnet(s.cfg.Root); err != nil {
		s.log.Warn("release default bridge", "err", err)
		return
	}
	s.log.Info("default bridge released", "subnet", s.cfg.BridgeSubnet.String())
	s.NamesChanged()
}

// closeBridge releases the default bridge's Manager; the bridge stays.
func (s *Service) closeBridge() {
	s.bridgeMu.Lock()
	defer s.bridgeMu.Unlock()
	if s.bridge != nil {
		s.bridge.Close()
	}
}
