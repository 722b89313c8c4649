package netsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// record is one user-defined network as networks/<id>.json keeps it.
type record struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Driver   string            `json:"driver"`
	Subnet   netip.Prefix      `json:"subnet"`
	Gateway  netip.Addr        `json:"gateway"`
	Internal bool              `json:"internal,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Created  time.Time         `json:"created_at"`
	Bridge   string            `json:"bridge"`
}

// Endpoint is a container's place on a network, kept in the container's record.
type Endpoint struct {
	NetworkID string   `json:"network_id"`
	Aliases   []string `json:"aliases,omitempty"`
	StaticIP  string   `json:"static_ip,omitempty"` // --ip
	IP        string   `json:"ip,omitempty"`        // while running; the preferred one next time
	IfName    string   `json:"ifname"`              // eth0, eth1, ...
}

// Network is a network as inspected and listed: a user-defined one, or one of the
// predefined bridge, host and none.
type Network struct {
	ID, Name   string
	Driver     string // bridge, host, null
	Created    time.Time
	Internal   bool
	Predefined bool
	Subnet     netip.Prefix // zero for host and none
	Gateway    netip.Addr
	Bridge     string // the host's bridge device
	Labels     map[string]string
	// Containers are the containers on it, by id.
	Containers map[string]Member
}

// Member is a container on a network.
type Member struct {
	Name string
	// Addr is its address with the network's prefix length, while it runs.
	Addr    netip.Prefix
	MAC     net.HardwareAddr // while it runs
	Aliases []string
}

// CreateOptions is a network to create, as the user gave it.
type CreateOptions struct {
	Name     string
	Driver   string // "" or bridge
	Subnet   string // IPv4 prefix; "": one from the pool
	Gateway  string // "": the subnet's first address
	Internal bool
	Labels   map[string]string
}

// ConnectOptions puts a container on a network.
type ConnectOptions struct {
	Network, Container string
	Aliases            []string
	IP                 string // --ip; "": the lowest free one
}

// userNet is a network in memory: its record and its Manager (bridge, veths, rules).
type userNet struct {
	rec record
	m   *network.Manager
}

// load reads networks/*.json.
func (s *Service) load() error {
	s.nets, s.names = map[string]*userNet{}, map[string]string{}
	ents, err := os.ReadDir(s.dir())
	if err != nil {
		return err
	}
	for _, ent := range ents {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || !isHexID(id) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir(), ent.Name()))
		if err != nil {
			return err
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil || r.ID != id || !r.Subnet.IsValid() {
			s.log.Warn("network record unreadable; ignored", "file", ent.Name(), "err", err)
			continue
		}
		s.nets[id] = &userNet{rec: r}
		s.names[r.Name] = id
	}
	return nil
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// netConfig is the Manager configuration of a user-defined network.
func (s *Service) netConfig(r *record) network.Config {
	return network.Config{
		Bridge: r.Bridge, Subnet: r.Subnet, Gateway: r.Gateway, APIPort: s.cfg.APIPort,
		VethKey: r.ID, Alias: network.BridgeAlias(s.cfg.Root, r.ID), Isolate: true,
		PeerBridge: network.DefaultBridge, Internal: r.Internal,
	}
}

// manager returns the network's Manager, opening it when first needed.
func (s *Service) manager(un *userNet) (*network.Manager, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if un.m == nil {
		m, err := s.newManager(s.netConfig(&un.rec), s.log.With("area", "network", "network", un.rec.Name))
		if err != nil {
			return nil, err
		}
		un.m = m
	}
	return un.m, nil
}

// find resolves a user-defined network by name, id or unique id prefix.
func (s *Service) find(ref string) (*userNet, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id, ok := s.names[ref]; ok {
		return s.nets[id], nil
	}
	var found *userNet
	if len(ref) >= 4 {
		for id, un := range s.nets {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return nil, errdefs.Invalid(fmt.Sprintf("network id prefix %q is ambiguous", ref))
				}
				found = un
			}
		}
	}
	if found == nil {
		return nil, errdefs.NotFound(fmt.Sprintf("network %q not found", ref))
	}
	return found, nil
}

func (s *Service) byID(id string) *userNet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nets[id]
}

// checkCreate validates o: the subnet and gateway as given (zero when not).
func checkCreate(o *CreateOptions) (subnet netip.Prefix, gw netip.Addr, err error) {
	if err := ctrconfig.NetworkName(o.Name); err != nil {
		return subnet, gw, err
	}
	if o.Driver != "" && o.Driver != "bridge" {
		return subnet, gw, errdefs.Invalid(fmt.Sprintf("driver %q: only bridge is supported", o.Driver))
	}
	if o.Subnet != "" {
		if subnet, err = network.ParseSubnet(o.Subnet); err != nil {
			return subnet, gw, err
		}
	}
	if o.Gateway != "" {
		if o.Subnet == "" {
			return subnet, gw, errdefs.Invalid("gateway: needs --subnet")
		}
		if gw, err = network.CheckGateway(subnet, o.Gateway); err != nil {
			return subnet, gw, err
		}
	}
	for k := range o.Labels {
		if k == "" {
			return subnet, gw, errdefs.Invalid("labels: empty key")
		}
	}
	return subnet, gw, nil
}

// Create makes a user-defined network: its bridge, address and rules on the host, then
// its record. On any error nothing of it is left.
func (s *Service) Create(ctx context.Context, o CreateOptions) (*Network, error) {
	subnet, gw, err := checkCreate(&o)
	if err != nil {
		return nil, err
	}
	s.op.Lock()
	defer s.op.Unlock()
	s.mu.RLock()
	_, dup := s.names[o.Name]
	s.mu.RUnlock()
	if dup {
		return nil, errdefs.Conflict(fmt.Sprintf("network %q already exists", o.Name))
	}
	host, err := s.defaultBridge(ctx, false)
	if err != nil {
		return nil, err
	}
	used, err := s.usedSubnets(host, "")
	if err != nil {
		return nil, err
	}
	auto := !subnet.IsValid()
	if !auto {
		if o, ok := overlap(host, subnet, used); ok {
			return nil, errdefs.Conflict(fmt.Sprintf("subnet %s overlaps %s", subnet, o))
		}
	}
	seed := fnv.New32a()
	seed.Write([]byte(s.cfg.Root))
	for try := 0; ; try++ {
		if auto {
			if subnet, err = network.PickSubnet(s.pool(), network.PoolBits, seed.Sum32()+uint32(try), prefixes(used)); err != nil {
				return nil, err
			}
		}
		rec := record{ID: newID(), Name: o.Name, Driver: "bridge", Subnet: subnet, Gateway: gw,
			Internal: o.Internal, Labels: o.Labels, Created: time.Now().UTC()}
		if !rec.Gateway.IsValid() {
			rec.Gateway = network.Gateway(subnet)
		}
		rec.Bridge = network.BridgeName(s.cfg.Root, rec.ID)
		un, err := s.make(ctx, rec)
		var lost *subnetTaken
		if errors.As(err, &lost) && auto && try < 8 {
			used = append(used, hostSubnet{p: lost.p, what: lost.what})
			continue // another daemon took it meanwhile: the next one
		}
		if err != nil {
			return nil, err
		}
		s.set(un, true)
		s.log.Info("network created", "name", rec.Name, "id", rec.ID[:12], "subnet", rec.Subnet.String(), "bridge", rec.Bridge)
		s.publish("create", rec.ID, map[string]string{"name": rec.Name})
		// The resolver learns of the network in the background (~1 ms, more when it has to
		// be started): nothing asks it before a container joins, and a container's start
		// publishes the names again, waiting for this, before its process runs.
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			s.NamesChanged()
		}()
		return s.info(un), nil
	}
}

// subnetTaken says the subnet showed up elsewhere on the host after our bridge got it.
type subnetTaken struct {
	p    netip.Prefix
	what string
}

func (e *subnetTaken) Error() string {
	return fmt.Sprintf("subnet %s overlaps %s", e.p, e.what)
}

func (e *subnetTaken) Is(t error) bool { return t == errdefs.ErrConflict }

// make sets up rec's bridge and rules and writes its record; on error it takes them
// away again. The caller puts the network in the books.
func (s *Service) make(ctx context.Context, rec record) (_ *userNet, err error) {
	m, err := s.newManager(s.netConfig(&rec), s.log.With("area", "network", "network", rec.Name))
	if err != nil {
		return nil, err
	}
	// The record is written while the kernel makes the bridge, and before the rules (which
	// wait for it): a daemon killed before the answer finds it and makes what is missing
	// (as for any network at start), one killed before the record finds a bridge of its
	// root that no record names and removes it, and no rules of it.
	// No fsync, the rename suffices: a power cut right after the create may lose the
	// record (load skips an unreadable one), as it loses the bridge; the fsync cost more
	// than the rest of the create.
	b, _ := json.MarshalIndent(rec, "", "  ")
	saved := make(chan error, 1)
	go func() { saved <- atomicfile.Replace(s.recordPath(rec.ID), b, 0o600) }()
	var saveOnce sync.Once
	var saveErr error
	recorded := func() error {
		saveOnce.Do(func() { saveErr = <-saved })
		return saveErr
	}
	defer func() {
		if serr := recorded(); err == nil {
			err = serr
		}
		if err != nil {
			if rerr := m.Remove(context.Background(), nil); rerr != nil {
				s.log.Warn("undo network", "name", rec.Name, "err", rerr)
			}
			m.Close()
			if rerr := os.Remove(s.recordPath(rec.ID)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				s.log.Warn("undo network record", "name", rec.Name, "err", rerr)
			}
		}
	}()
	if err := m.CreateBridge(ctx, recorded); err != nil {
		return nil, fmt.Errorf("network %s: %w", rec.Name, err)
	}
	// Two daemons may pick one free subnet at once: whoever sees another device with it
	// now backs off.
	h, taken, err := m.ForeignOverlap()
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, &subnetTaken{p: rec.Subnet, what: h.Prefix.String() + " on " + m.LinkName(h.Index)}
	}
	return &userNet{rec: rec, m: m}, nil
}

type hostSubnet struct {
	p    netip.Prefix
	what string
	link uint32 // the host's link it is on; named only for a message
}

func prefixes(hs []hostSubnet) []netip.Prefix {
	out := make([]netip.Prefix, len(hs))
	for i, h := range hs {
		out[i] = h.p
	}
	return out
}

func overlap(host *network.Manager, p netip.Prefix, used []hostSubnet) (string, bool) {
	for _, u := range used {
		if u.p.Overlaps(p) {
			if n := host.LinkName(u.link); n != "" {
				return u.what + " on " + n, true
			}
			return u.what, true
		}
	}
	return "", false
}

// usedSubnets is what a new network's subnet must not overlap: the host's addresses and
// routes, the default bridge's subnet, and the other networks' (but skip's).
func (s *Service) usedSubnets(host *network.Manager, skip string) ([]hostSubnet, error) {
	hs, err := host.HostSubnets()
	if err != nil {
		return nil, err
	}
	var used []hostSubnet
	for _, h := range hs {
		used = append(used, hostSubnet{p: h.Prefix, what: h.Prefix.String(), link: h.Index})
	}
	used = append(used, hostSubnet{p: s.cfg.BridgeSubnet, what: s.cfg.BridgeSubnet.String() + " of the default bridge network"})
	s.mu.RLock()
	for id, un := range s.nets {
		if id != skip {
			used = append(used, hostSubnet{p: un.rec.Subnet, what: un.rec.Subnet.String() + " of network " + un.rec.Name})
		}
	}
	s.mu.RUnlock()
	return used, nil
}

func (s *Service) pool() netip.Prefix {
	if s.cfg.Pool.IsValid() {
		return s.cfg.Pool
	}
	return network.DefaultPool
}

// users names the containers whose records put them on network id.
func (s *Service) users(id string) []string {
	var out []string
	s.ctrs.Visit(false, func(c *Container) {
		for _, ep := range c.Endpoints {
			if ep.NetworkID == id {
				out = append(out, c.Name)
			}
		}
	})
	sort.Strings(out)
	return out
}

// Remove removes a user-defined network no container is on (a conflict otherwise).
func (s *Service) Remove(ctx context.Context, ref string) error {
	switch ref {
	case "bridge", "host", "none":
		return errdefs.Invalid(fmt.Sprintf("network %s is predefined and cannot be removed", ref))
	}
	s.op.Lock()
	defer s.op.Unlock()
	un, err := s.find(ref)
	if err != nil {
		return err
	}
	if users := s.users(un.rec.ID); len(users) > 0 {
		return errdefs.Conflict(fmt.Sprintf("network %s is in use by container(s) %s", un.rec.Name, strings.Join(users, ", ")))
	}
	return s.remove(ctx, un)
}

func (s *Service) remove(ctx context.Context, un *userNet) error {
	m, err := s.manager(un)
	if err != nil {
		return err
	}
	// Out of the books first: the name table without it is written while the kernel tears
	// the bridge down (most of a removal's time), and nothing new joins it meanwhile. The
	// record goes once the rules are gone, while the kernel still works on the bridge: a
	// daemon killed before finds it and makes bridge and rules again, one killed after
	// finds at most the bridge, which no record names then, and removes it.
	s.set(un, false)
	names := make(chan struct{})
	go func() { defer close(names); s.NamesChanged() }()
	var recErr error
	recorded := true
	err = m.Remove(ctx, func() {
		if recErr = os.Remove(s.recordPath(un.rec.ID)); recErr == nil || errors.Is(recErr, os.ErrNotExist) {
			recErr, recorded = nil, false
		}
	})
	err = errors.Join(err, recErr)
	<-names
	if err != nil {
		// The network stays: its record with it.
		if !recorded {
			b, _ := json.MarshalIndent(un.rec, "", "  ")
			if werr := atomicfile.Replace(s.recordPath(un.rec.ID), b, 0o600); werr != nil {
				s.log.Warn("network record", "name", un.rec.Name, "err", werr)
			}
		}
		s.set(un, true)
		s.NamesChanged()
		return fmt.Errorf("network %s: %w", un.rec.Name, err)
	}
	// Close waits for the kernel to finish releasing the bridge, which need not hold up the
	// answer; a daemon's shutdown waits for it (Close).
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		m.Close()
	}()
	s.log.Info("network removed", "name", un.rec.Name, "id", un.rec.ID[:12])
	s.publish("destroy", un.rec.ID, map[string]string{"name": un.rec.Name})
	return nil
}

// set puts a network in the books (by id and name) or takes it out.
func (s *Service) set(un *userNet, in bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in {
		s.nets[un.rec.ID] = un
		s.names[un.rec.Name] = un.rec.ID
		return
	}
	delete(s.nets, un.rec.ID)
	if s.names[un.rec.Name] == un.rec.ID {
		delete(s.names, un.rec.Name)
	}
}

// Prune removes every user-defined network no container is on and names them.
func (s *Service) Prune(ctx context.Context) ([]string, error) {
	s.op.Lock()
	defer s.op.Unlock()
	removed := []string{}
	var errs []error
	for _, un := range s.userNets() {
		if len(s.users(un.rec.ID)) > 0 {
			continue
		}
		if err := s.remove(ctx, un); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, un.rec.Name)
	}
	return removed, errors.Join(errs...)
}

// userNets lists the networks, by name.
func (s *Service) userNets() []*userNet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*userNet, 0, len(s.nets))
	for _, un := range s.nets {
		out = append(out, un)
	}
	slices.SortFunc(out, func(a, b *userNet) int { return strings.Compare(a.rec.Name, b.rec.Name) })
	return out
}

// List is the predefined networks, then the user-defined ones by name.
func (s *Service) List() []Network {
	out := s.predefined()
	for _, un := range s.userNets() {
		out = append(out, *s.info(un))
	}
	return out
}

func (s *Service) predefined() []Network {
	sub := s.cfg.BridgeSubnet
	bridge := Network{ID: "bridge", Name: "bridge", Driver: "bridge", Predefined: true,
		Subnet: sub, Gateway: network.Gateway(sub), Bridge: network.DefaultBridge,
		Labels: map[string]string{}, Containers: map[string]Member{}}
	s.ctrs.Visit(false, func(c *Container) {
		ip := c.IP
		if c.Bridge != nil {
			ip = c.Bridge.IP
		}
		if c.Mode != "bridge" && c.Bridge == nil {
			return
		}
		mb := Member{Name: c.Name}
		if c.PID > 0 && ip != "" {
			if a, err := netip.ParseAddr(ip); err == nil {
				mb.Addr, mb.MAC = netip.PrefixFrom(a, sub.Bits()), network.MAC(a)
			}
		}
		bridge.Containers[c.ID] = mb
	})
	return []Network{bridge,
		{ID: "host", Name: "host", Driver: "host", Predefined: true, Labels: map[string]string{}, Containers: map[string]Member{}},
		{ID: "none", Name: "none", Driver: "null", Predefined: true, Labels: map[string]string{}, Containers: map[string]Member{}},
	}
}

// Inspect is one network by name or id (a predefined one by name).
func (s *Service) Inspect(ref string) (*Network, error) {
	switch ref {
	case "bridge", "host", "none":
		for _, p := range s.predefined() {
			if p.Name == ref {
				return &p, nil
			}
		}
	}
	un, err := s.find(ref)
	if err != nil {
		return nil, err
	}
	return s.info(un), nil
}

func (s *Service) info(un *userNet) *Network {
	r := un.rec
	n := &Network{ID: r.ID, Name: r.Name, Driver: r.Driver, Created: r.Created, Internal: r.Internal,
		Subnet: r.Subnet, Gateway: r.Gateway, Bridge: r.Bridge,
		Labels: map[string]string{}, Containers: map[string]Member{}}
	for k, v := range r.Labels {
		n.Labels[k] = v
	}
	s.ctrs.Visit(false, func(c *Container) {
		for _, ep := range c.Endpoints {
			if ep.NetworkID != r.ID {
				continue
			}
			mb := Member{Name: c.Name, Aliases: slices.Clone(ep.Aliases)}
			if c.PID > 0 && ep.IP != "" {
				if a, err := netip.ParseAddr(ep.IP); err == nil {
					mb.Addr, mb.MAC = netip.PrefixFrom(a, r.Subnet.Bits()), network.MAC(a)
				}
			}
			n.Containers[c.ID] = mb
		}
	})
	return n
}
