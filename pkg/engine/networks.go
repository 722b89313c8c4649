package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/spec"
)

// netRecord is one user-defined network as networks/<id>.json keeps it.
type netRecord struct {
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

// EndpointRecord is a container's place on a user-defined network, kept in its record.
type EndpointRecord struct {
	NetworkID string   `json:"network_id"`
	Aliases   []string `json:"aliases,omitempty"`
	StaticIP  string   `json:"static_ip,omitempty"` // --ip
	IP        string   `json:"ip,omitempty"`        // while running; the preferred one next time
	IfName    string   `json:"ifname"`              // eth0, eth1, ...
}

// userNet is a network in memory: its record and its Manager (bridge, veths, rules).
type userNet struct {
	rec netRecord
	m   *network.Manager
}

// networksArea holds the user-defined networks. nmu guards the maps; netOp serialises
// create, remove and prune (each checks, then changes the host).
type networksArea struct {
	nmu      sync.RWMutex
	nets     map[string]*userNet // by id
	netNames map[string]string   // name -> id
	netOp    sync.Mutex
	// netBackground counts what network operations left running after their answer: the
	// Managers of removed networks closing, name tables of created ones being published.
	netBackground sync.WaitGroup
	// onNames is called after every change of who is on which network with which
	// address (the DNS name table); nil until the networks are open.
	onNames func()
	namesMu sync.Mutex // one writer of the name table at a time
	// namesReq counts publishNames calls; namesDone is the count the last table written
	// covered (namesMu): containers starting at once share one write.
	namesReq  atomic.Uint64
	namesDone uint64
}

func (e *Engine) netDir() string { return filepath.Join(e.Root, "networks") }

func (e *Engine) netRecordPath(id string) string {
	return filepath.Join(e.netDir(), id+".json")
}

// loadNetworks reads networks/*.json.
func (e *Engine) loadNetworks() error {
	e.nets, e.netNames = map[string]*userNet{}, map[string]string{}
	ents, err := os.ReadDir(e.netDir())
	if err != nil {
		return err
	}
	for _, ent := range ents {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || !isHexID(id) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(e.netDir(), ent.Name()))
		if err != nil {
			return err
		}
		var r netRecord
		if err := json.Unmarshal(b, &r); err != nil || r.ID != id || !r.Subnet.IsValid() {
			e.Log.Warn("network record unreadable; ignored", "file", ent.Name(), "err", err)
			continue
		}
		e.nets[id] = &userNet{rec: r}
		e.netNames[r.Name] = id
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

// netConfig is the Manager configuration of a user-defined network.
func (e *Engine) netConfig(r *netRecord) network.Config {
	return network.Config{
		Bridge: r.Bridge, Subnet: r.Subnet, Gateway: r.Gateway, APIPort: apiPort(e.Cfg.HTTPAddr),
		VethKey: r.ID, Alias: network.BridgeAlias(e.Root, r.ID), Isolate: true,
		PeerBridge: network.DefaultBridge, Internal: r.Internal,
	}
}

// userNetManager returns the network's Manager, opening it when first needed.
func (e *Engine) userNetManager(un *userNet) (*network.Manager, error) {
	e.nmu.Lock()
	defer e.nmu.Unlock()
	if un.m == nil {
		m, err := network.New(e.netConfig(&un.rec), e.Log.With("area", "network", "network", un.rec.Name))
		if err != nil {
			return nil, err
		}
		un.m = m
	}
	return un.m, nil
}

// findNetwork resolves a user-defined network by name, id or unique id prefix.
func (e *Engine) findNetwork(ref string) (*userNet, error) {
	e.nmu.RLock()
	defer e.nmu.RUnlock()
	if id, ok := e.netNames[ref]; ok {
		return e.nets[id], nil
	}
	var found *userNet
	if len(ref) >= 4 {
		for id, un := range e.nets {
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

func (e *Engine) netByID(id string) *userNet {
	e.nmu.RLock()
	defer e.nmu.RUnlock()
	return e.nets[id]
}

// CreateNetwork makes a user-defined network: its bridge, address and rules on the host,
// then its record. On any error nothing of it is left.
func (e *Engine) CreateNetwork(ctx context.Context, req api.NetworkCreateRequest) (*api.Network, error) {
	if err := ctrconfig.NetworkName(req.Name); err != nil {
		return nil, err
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return nil, errdefs.Invalid(fmt.Sprintf("driver %q: only bridge is supported", req.Driver))
	}
	var subnet netip.Prefix
	var gw netip.Addr
	var err error
	if req.Subnet != "" {
		if subnet, err = network.ParseSubnet(req.Subnet); err != nil {
			return nil, err
		}
	}
	if req.Gateway != "" {
		if req.Subnet == "" {
			return nil, errdefs.Invalid("gateway: needs --subnet")
		}
		if gw, err = network.CheckGateway(subnet, req.Gateway); err != nil {
			return nil, err
		}
	}
	for k := range req.Labels {
		if k == "" {
			return nil, errdefs.Invalid("labels: empty key")
		}
	}
	e.netOp.Lock()
	defer e.netOp.Unlock()
	e.nmu.RLock()
	_, dup := e.netNames[req.Name]
	e.nmu.RUnlock()
	if dup {
		return nil, errdefs.Conflict(fmt.Sprintf("network %q already exists", req.Name))
	}
	host, err := e.netManager(ctx, false)
	if err != nil {
		return nil, err
	}
	used, err := e.usedSubnets(host, "")
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
	seed.Write([]byte(e.Root))
	for try := 0; ; try++ {
		if auto {
			if subnet, err = network.PickSubnet(e.netPool(), network.PoolBits, seed.Sum32()+uint32(try), prefixes(used)); err != nil {
				return nil, err
			}
		}
		rec := netRecord{ID: newID(), Name: req.Name, Driver: "bridge", Subnet: subnet, Gateway: gw,
			Internal: req.Internal, Labels: req.Labels, Created: time.Now().UTC()}
		if !rec.Gateway.IsValid() {
			rec.Gateway = network.Gateway(subnet)
		}
		rec.Bridge = network.BridgeName(e.Root, rec.ID)
		un, err := e.makeNetwork(ctx, rec)
		var lost *subnetTaken
		if errors.As(err, &lost) && auto && try < 8 {
			used = append(used, hostSubnet{p: lost.p, what: lost.what})
			continue // another daemon took it meanwhile: the next one
		}
		if err != nil {
			return nil, err
		}
		e.setNet(un, true)
		e.Log.Info("network created", "name", rec.Name, "id", rec.ID[:12], "subnet", rec.Subnet.String(), "bridge", rec.Bridge)
		e.publish(Event{Type: EventNetwork, Action: "create", ID: rec.ID, Attributes: map[string]string{"name": rec.Name}})
		// The resolver learns of the network in the background (~1 ms, more when it has to
		// be started): nothing asks it before a container joins, and a container's start
		// publishes the names again, waiting for this, before its process runs.
		e.netBackground.Add(1)
		go func() {
			defer e.netBackground.Done()
			e.namesChanged()
		}()
		return e.networkInfo(un), nil
	}
}

// subnetTaken says the subnet showed up elsewhere on the host after our bridge got it.
type subnetTaken struct {
	p    netip.Prefix
	what string
}

func (s *subnetTaken) Error() string {
	return fmt.Sprintf("subnet %s overlaps %s", s.p, s.what)
}

func (s *subnetTaken) Is(t error) bool { return t == errdefs.ErrConflict }

// makeNetwork sets up rec's bridge and rules and writes its record; on error it takes
// them away again. The caller puts the network in the books.
func (e *Engine) makeNetwork(ctx context.Context, rec netRecord) (_ *userNet, err error) {
	m, err := network.New(e.netConfig(&rec), e.Log.With("area", "network", "network", rec.Name))
	if err != nil {
		return nil, err
	}
	// The record is written while the kernel makes the bridge: a daemon killed before the
	// answer finds it and makes what is missing (as for any network at start), one killed
	// before the record finds a bridge of its root that no record names and removes it.
	// No fsync, the rename suffices: a power cut right after the create may lose the
	// record (loadNetworks skips an unreadable one), as it loses the bridge; the fsync cost
	// more than the rest of the create.
	b, _ := json.MarshalIndent(rec, "", "  ")
	saved := make(chan error, 1)
	go func() { saved <- atomicfile.Replace(e.netRecordPath(rec.ID), b, 0o600) }()
	defer func() {
		if serr := <-saved; err == nil {
			err = serr
		}
		if err != nil {
			if rerr := m.Remove(context.Background()); rerr != nil {
				e.Log.Warn("undo network", "name", rec.Name, "err", rerr)
			}
			m.Close()
			if rerr := os.Remove(e.netRecordPath(rec.ID)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				e.Log.Warn("undo network record", "name", rec.Name, "err", rerr)
			}
		}
	}()
	if err := m.CreateBridge(ctx); err != nil {
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
func (e *Engine) usedSubnets(host *network.Manager, skip string) ([]hostSubnet, error) {
	hs, err := host.HostSubnets()
	if err != nil {
		return nil, err
	}
	var used []hostSubnet
	for _, h := range hs {
		used = append(used, hostSubnet{p: h.Prefix, what: h.Prefix.String(), link: h.Index})
	}
	used = append(used, hostSubnet{p: e.Cfg.BridgeSubnet, what: e.Cfg.BridgeSubnet.String() + " of the default bridge network"})
	e.nmu.RLock()
	for id, un := range e.nets {
		if id != skip {
			used = append(used, hostSubnet{p: un.rec.Subnet, what: un.rec.Subnet.String() + " of network " + un.rec.Name})
		}
	}
	e.nmu.RUnlock()
	return used, nil
}

func (e *Engine) netPool() netip.Prefix {
	if e.Cfg.NetworkPool.IsValid() {
		return e.Cfg.NetworkPool
	}
	return network.DefaultPool
}

// netUsers names the containers whose records put them on network id.
func (e *Engine) netUsers(id string) []string {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	var out []string
	for _, c := range e.ctrs {
		for _, ep := range c.rec.Endpoints {
			if ep.NetworkID == id {
				out = append(out, c.rec.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// RemoveNetwork removes a user-defined network no container is on (409 otherwise).
func (e *Engine) RemoveNetwork(ctx context.Context, ref string) error {
	switch ref {
	case "bridge", "host", "none":
		return errdefs.Invalid(fmt.Sprintf("network %s is predefined and cannot be removed", ref))
	}
	e.netOp.Lock()
	defer e.netOp.Unlock()
	un, err := e.findNetwork(ref)
	if err != nil {
		return err
	}
	if users := e.netUsers(un.rec.ID); len(users) > 0 {
		return errdefs.Conflict(fmt.Sprintf("network %s is in use by container(s) %s", un.rec.Name, strings.Join(users, ", ")))
	}
	return e.removeNetwork(ctx, un)
}

func (e *Engine) removeNetwork(ctx context.Context, un *userNet) error {
	m, err := e.userNetManager(un)
	if err != nil {
		return err
	}
	// Out of the books first: the name table without it is written while the kernel tears
	// the bridge down (most of a removal's time), and nothing new joins it meanwhile. The
	// record goes last: a daemon killed before finds it and makes bridge and rules again.
	e.setNet(un, false)
	names := make(chan struct{})
	go func() { defer close(names); e.namesChanged() }()
	err = m.Remove(ctx)
	if err == nil {
		if err = os.Remove(e.netRecordPath(un.rec.ID)); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	<-names
	if err != nil {
		e.setNet(un, true)
		e.namesChanged()
		return fmt.Errorf("network %s: %w", un.rec.Name, err)
	}
	// Close waits for the kernel to finish releasing the bridge, which need not hold up the
	// answer; a daemon's shutdown waits for it (closeNetworks).
	e.netBackground.Add(1)
	go func() {
		defer e.netBackground.Done()
		m.Close()
	}()
	e.Log.Info("network removed", "name", un.rec.Name, "id", un.rec.ID[:12])
	e.publish(Event{Type: EventNetwork, Action: "destroy", ID: un.rec.ID, Attributes: map[string]string{"name": un.rec.Name}})
	return nil
}

// setNet puts a network in the books (by id and name) or takes it out.
func (e *Engine) setNet(un *userNet, in bool) {
	e.nmu.Lock()
	defer e.nmu.Unlock()
	if in {
		e.nets[un.rec.ID] = un
		e.netNames[un.rec.Name] = un.rec.ID
		return
	}
	delete(e.nets, un.rec.ID)
	if e.netNames[un.rec.Name] == un.rec.ID {
		delete(e.netNames, un.rec.Name)
	}
}

// PruneNetworks removes every user-defined network no container is on.
func (e *Engine) PruneNetworks(ctx context.Context) (*api.NetworkPruneResult, error) {
	e.netOp.Lock()
	defer e.netOp.Unlock()
	res := &api.NetworkPruneResult{Removed: []string{}}
	var errs []error
	for _, un := range e.userNets() {
		if len(e.netUsers(un.rec.ID)) > 0 {
			continue
		}
		if err := e.removeNetwork(ctx, un); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, un.rec.Name)
	}
	return res, errors.Join(errs...)
}

// userNets lists the networks, by name.
func (e *Engine) userNets() []*userNet {
	e.nmu.RLock()
	defer e.nmu.RUnlock()
	out := make([]*userNet, 0, len(e.nets))
	for _, un := range e.nets {
		out = append(out, un)
	}
	slices.SortFunc(out, func(a, b *userNet) int { return strings.Compare(a.rec.Name, b.rec.Name) })
	return out
}

// Networks lists the predefined networks and the user-defined ones.
func (e *Engine) Networks() ([]api.Network, error) {
	out := e.predefinedNetworks()
	for _, un := range e.userNets() {
		out = append(out, *e.networkInfo(un))
	}
	return out, nil
}

func (e *Engine) predefinedNetworks() []api.Network {
	bridge := api.Network{ID: "bridge", Name: "bridge", Driver: "bridge", Predefined: true,
		Subnet: e.Cfg.BridgeSubnet.String(), Gateway: network.Gateway(e.Cfg.BridgeSubnet).String(),
		Bridge: network.DefaultBridge, Labels: map[string]string{}, Containers: map[string]api.NetworkContainer{}}
	e.cmu.RLock()
	for _, c := range e.ctrs {
		ip := c.rec.IP
		if c.rec.Bridge != nil {
			ip = c.rec.Bridge.IP
		}
		if c.rec.Conf.Network == "bridge" || c.rec.Bridge != nil {
			nc := api.NetworkContainer{Name: c.rec.Name}
			if c.shim != nil && ip != "" {
				if a, err := netip.ParseAddr(ip); err == nil {
					nc.IPv4Address = netip.PrefixFrom(a, e.Cfg.BridgeSubnet.Bits()).String()
					nc.MacAddress = macString(network.MAC(a))
				}
			}
			bridge.Containers[c.rec.ID] = nc
		}
	}
	e.cmu.RUnlock()
	return []api.Network{bridge,
		{ID: "host", Name: "host", Driver: "host", Predefined: true, Labels: map[string]string{}, Containers: map[string]api.NetworkContainer{}},
		{ID: "none", Name: "none", Driver: "null", Predefined: true, Labels: map[string]string{}, Containers: map[string]api.NetworkContainer{}},
	}
}

// Network inspects one network by name or id.
func (e *Engine) Network(ref string) (*api.Network, error) {
	for _, p := range e.predefinedNetworks() {
		if p.Name == ref {
			return &p, nil
		}
	}
	un, err := e.findNetwork(ref)
	if err != nil {
		return nil, err
	}
	return e.networkInfo(un), nil
}

func (e *Engine) networkInfo(un *userNet) *api.Network {
	r := un.rec
	n := &api.Network{ID: r.ID, Name: r.Name, Driver: r.Driver, Created: r.Created, Internal: r.Internal,
		Subnet: r.Subnet.String(), Gateway: r.Gateway.String(), Bridge: r.Bridge,
		Labels: map[string]string{}, Containers: map[string]api.NetworkContainer{}}
	for k, v := range r.Labels {
		n.Labels[k] = v
	}
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	for _, c := range e.ctrs {
		for _, ep := range c.rec.Endpoints {
			if ep.NetworkID != r.ID {
				continue
			}
			nc := api.NetworkContainer{Name: c.rec.Name, Aliases: ep.Aliases}
			if c.shim != nil && ep.IP != "" {
				if a, err := netip.ParseAddr(ep.IP); err == nil {
					nc.IPv4Address = netip.PrefixFrom(a, r.Subnet.Bits()).String()
					nc.MacAddress = macString(network.MAC(a))
				}
			}
			n.Containers[c.rec.ID] = nc
		}
	}
	return n
}

// endpointsFor turns a create request's networks into endpoint records: Network (when a
// user-defined one) first, then Networks. Aliases and --ip go with the first.
func (e *Engine) endpointsFor(req *ctrconfig.Config) ([]EndpointRecord, error) {
	var names []string
	if isUserNetMode(req.Network) {
		names = append(names, req.Network)
	} else if len(req.NetworkAlias) > 0 || req.IPAddress != "" {
		if req.Network != "bridge" || len(req.Networks) == 0 {
			return nil, errdefs.Invalid("network_aliases and ip_address: need a user-defined network")
		}
	}
	if len(req.Networks) > 0 && (req.Network == "host" || req.Network == "none" || strings.HasPrefix(req.Network, "container:")) {
		return nil, errdefs.Invalid(fmt.Sprintf("networks: network mode %s cannot be combined with other networks", req.Network))
	}
	names = append(names, req.Networks...)
	first := 0
	if req.Network == "bridge" {
		first = 1 // eth0 is the default bridge's
	}
	var eps []EndpointRecord
	seen := map[string]bool{}
	for i, n := range names {
		if !isUserNetMode(n) {
			return nil, errdefs.Invalid(fmt.Sprintf("networks: %q is not a user-defined network", n))
		}
		un, err := e.findNetwork(n)
		if err != nil {
			return nil, err
		}
		if seen[un.rec.ID] {
			return nil, errdefs.Invalid(fmt.Sprintf("networks: %s given twice", n))
		}
		seen[un.rec.ID] = true
		ep := EndpointRecord{NetworkID: un.rec.ID, IfName: "eth" + strconv.Itoa(first+i)}
		if i == 0 {
			ep.Aliases = slices.Clone(req.NetworkAlias)
			if req.IPAddress != "" {
				a, err := checkStaticIP(un, req.IPAddress)
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
	if len(req.Publish) > 0 && req.Network != "bridge" && len(eps) > 0 && e.netByID(eps[0].NetworkID).rec.Internal {
		return nil, errdefs.Invalid(fmt.Sprintf("publish: network %s is internal: ports cannot be published", names[0]))
	}
	return eps, nil
}

// isUserNetMode: a network mode that names a user-defined network.
func isUserNetMode(mode string) bool {
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

// netAttachment is one interface a start or a connect wires.
type netAttachment struct {
	un   *userNet // nil: the default bridge
	m    *network.Manager
	ep   network.Endpoint
	idx  int // into the record's Endpoints; -1 for the default bridge
	port bool
}

// usedNetAddrs is the addresses running containers but id have on network netID.
func (e *Engine) usedNetAddrs(netID, id string) []netip.Addr {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	var out []netip.Addr
	for oid, c := range e.ctrs {
		if oid == id || c.shim == nil {
			continue
		}
		for _, ep := range c.rec.Endpoints {
			if ep.NetworkID == netID {
				if a, err := netip.ParseAddr(ep.IP); err == nil {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// allocateOn picks the address of endpoint ep of container id: its --ip (a conflict when
// taken), else the one it had, else the lowest free one.
func (e *Engine) allocateOn(un *userNet, m *network.Manager, id string, ep *EndpointRecord) (netip.Addr, error) {
	used := e.usedNetAddrs(un.rec.ID, id)
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

// ConnectNetwork puts a container on a user-defined network; a running one gets the next
// ethN at once.
func (e *Engine) ConnectNetwork(ctx context.Context, req api.NetworkConnectRequest) error {
	if req.Network == "" || req.Container == "" {
		return errdefs.Invalid("network and container are required")
	}
	if req.Network == "bridge" {
		return e.connectBridge(ctx, req)
	}
	un, err := e.findNetwork(req.Network)
	if err != nil {
		return err
	}
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	if err := checkAliases(req.Aliases); err != nil {
		return err
	}
	ep := EndpointRecord{NetworkID: un.rec.ID, Aliases: slices.Clone(req.Aliases)}
	if req.IP != "" {
		a, err := checkStaticIP(un, req.IP)
		if err != nil {
			return err
		}
		ep.StaticIP = a.String()
	}
	c.op.Lock()
	defer c.op.Unlock()
	if c.removed != nil {
		return errdefs.NotFound("container " + req.Container + " was removed")
	}
	r := e.snapshot(c)
	switch mode := r.Conf.Network; {
	case mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:"):
		return errdefs.Conflict(fmt.Sprintf("container %s uses network mode %s: it cannot join a network", r.Name, mode))
	}
	taken := map[string]bool{}
	if r.Conf.Network == "bridge" {
		taken["eth0"] = true
	}
	if r.Bridge != nil {
		taken[r.Bridge.IfName] = true
	}
	for _, o := range r.Endpoints {
		if o.NetworkID == un.rec.ID {
			return errdefs.Conflict(fmt.Sprintf("container %s is already on network %s", r.Name, un.rec.Name))
		}
		taken[o.IfName] = true
	}
	ep.IfName = freeIfName(taken)
	e.cmu.RLock()
	shim := c.shim
	e.cmu.RUnlock()
	if shim != nil {
		m, err := e.userNetManager(un)
		if err != nil {
			return err
		}
		addr, err := e.allocateOn(un, m, r.ID, &ep)
		if err != nil {
			return err
		}
		// The default route stays where it is; a container with no interface yet gets it.
		noRoute := un.rec.Internal || len(taken) > 0
		nep := network.Endpoint{ID: r.ID, PID: shim.PID(), Addr: addr, IfName: ep.IfName, NoRoute: noRoute}
		if err := m.Attach(ctx, &nep); err != nil {
			m.Release(addr)
			return err
		}
		ep.IP = addr.String()
	}
	e.update(c, func(rec *Record) { rec.Endpoints = append(rec.Endpoints, ep) })
	if err := e.saveState(); err != nil {
		return err
	}
	e.Log.Info("container connected", "id", r.ID[:12], "network", un.rec.Name, "ip", ep.IP)
	e.publish(Event{Type: EventNetwork, Action: "connect", ID: un.rec.ID, Attributes: map[string]string{"name": un.rec.Name, "container": r.ID}})
	e.namesChanged()
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
func (e *Engine) connectBridge(ctx context.Context, req api.NetworkConnectRequest) error {
	c, err := e.lookup(req.Container)
	if err != nil {
		return err
	}
	switch {
	case len(req.Aliases) > 0:
		return errdefs.Invalid("network-scoped alias is supported only for containers in user defined networks")
	case req.IP != "":
		return errdefs.Invalid("user specified IP address is supported on user defined networks only")
	}
	c.op.Lock()
	defer c.op.Unlock()
	if c.removed != nil {
		return errdefs.NotFound("container " + req.Container + " was removed")
	}
	r := e.snapshot(c)
	if r.Conf.Network == "bridge" || r.Bridge != nil {
		return errdefs.Conflict(fmt.Sprintf("container %s is already on network bridge", r.Name))
	}
	if !isUserNetMode(r.Conf.Network) {
		return errdefs.Conflict(fmt.Sprintf("container %s uses network mode %s: it cannot join a network", r.Name, r.Conf.Network))
	}
	taken := map[string]bool{}
	routed := false
	for _, o := range r.Endpoints {
		taken[o.IfName] = true
		if un := e.netByID(o.NetworkID); un != nil && !un.rec.Internal {
			routed = true
		}
	}
	ep := EndpointRecord{NetworkID: "bridge", IfName: freeIfName(taken)}
	e.cmu.RLock()
	shim := c.shim
	e.cmu.RUnlock()
	if shim != nil {
		m, err := e.netManager(ctx, true)
		if err != nil {
			return err
		}
		addr, err := m.Allocate(e.usedAddrs(r.ID), netip.Addr{})
		if err != nil {
			return err
		}
		nep := network.Endpoint{ID: r.ID, PID: shim.PID(), Addr: addr, IfName: ep.IfName, NoRoute: routed}
		if err := m.Attach(ctx, &nep); err != nil {
			m.Release(addr)
			return err
		}
		ep.IP = addr.String()
	}
	e.update(c, func(rec *Record) { rec.Bridge = &ep })
	if err := e.saveState(); err != nil {
		return err
	}
	e.Log.Info("container connected", "id", r.ID[:12], "network", "bridge", "ip", ep.IP)
	e.publish(Event{Type: EventNetwork, Action: "connect", ID: "bridge", Attributes: map[string]string{"name": "bridge", "container": r.ID}})
	e.namesChanged()
	return nil
}

// disconnectBridge takes a container of a user-defined network off the default bridge it
// joined with connectBridge.
func (e *Engine) disconnectBridge(ctx context.Context, ctrRef string, force bool) error {
	c, err := e.lookup(ctrRef)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	r := e.snapshot(c)
	switch {
	case r.Conf.Network == "bridge":
		return errdefs.Invalid("the default bridge network cannot be disconnected from a container created on it; create the container on a user-defined network instead")
	case r.Bridge == nil && force:
		return nil
	case r.Bridge == nil:
		return errdefs.Conflict(fmt.Sprintf("container %s is not on network bridge", r.Name))
	}
	e.cmu.RLock()
	running := c.shim != nil
	e.cmu.RUnlock()
	if running && e.net != nil {
		if err := e.net.Detach(ctx, r.ID); err != nil {
			return err
		}
	}
	e.update(c, func(rec *Record) { rec.Bridge = nil })
	if err := e.saveState(); err != nil {
		return err
	}
	e.Log.Info("container disconnected", "id", r.ID[:12], "network", "bridge")
	e.publish(Event{Type: EventNetwork, Action: "disconnect", ID: "bridge", Attributes: map[string]string{"name": "bridge", "container": r.ID}})
	e.namesChanged()
	return nil
}

// DisconnectNetwork takes a container off a user-defined network; it returns once the
// interface, its rules and its address are gone. force: a container that is not on it
// is no error.
func (e *Engine) DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error {
	if netRef == "bridge" {
		return e.disconnectBridge(ctx, ctrRef, force)
	}
	un, err := e.findNetwork(netRef)
	if err != nil {
		return err
	}
	c, err := e.lookup(ctrRef)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	r := e.snapshot(c)
	i := slices.IndexFunc(r.Endpoints, func(ep EndpointRecord) bool { return ep.NetworkID == un.rec.ID })
	if i < 0 {
		if force {
			return nil
		}
		return errdefs.Conflict(fmt.Sprintf("container %s is not on network %s", r.Name, un.rec.Name))
	}
	if un.m != nil {
		if err := un.m.Detach(ctx, r.ID); err != nil {
			return err
		}
	}
	e.update(c, func(rec *Record) {
		rec.Endpoints = slices.DeleteFunc(rec.Endpoints, func(ep EndpointRecord) bool { return ep.NetworkID == un.rec.ID })
	})
	if err := e.saveState(); err != nil {
		return err
	}
	e.Log.Info("container disconnected", "id", r.ID[:12], "network", un.rec.Name)
	e.publish(Event{Type: EventNetwork, Action: "disconnect", ID: un.rec.ID, Attributes: map[string]string{"name": un.rec.Name, "container": r.ID}})
	e.namesChanged()
	return nil
}

// openNetworks runs at daemon start with the running containers' endpoints: each network's
// bridge and rules are made again where missing, stale veths and rules go, and bridges of
// this data root without a record (a create or remove cut short) are removed.
func (e *Engine) openNetworks(ctx context.Context, running map[string][]network.Endpoint) error {
	if len(e.nets) == 0 {
		e.onNames = e.publishNames
		// Only the bridge listing, to find leftovers; no netlink work at all when there
		// is nothing to find (a fresh root without networks dir entries has none).
		if ents, _ := os.ReadDir(e.netDir()); len(ents) == 0 && !e.Cfg.BridgeOnStartup {
			return nil
		}
	}
	host, err := e.netManager(ctx, false)
	if err != nil {
		return err
	}
	var errs []error
	for _, un := range e.userNets() {
		m, err := e.userNetManager(un)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := m.EnsureBridge(ctx); err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", un.rec.Name, err))
			continue
		}
		if err := m.Reconcile(ctx, e.adoptLive(m, un.rec.ID, running[un.rec.ID])); err != nil {
			e.Log.Warn("network reconcile", "network", un.rec.Name, "err", err)
		}
	}
	e.onNames = e.publishNames
	owned, err := host.OwnedBridges(e.Root)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, b := range owned {
		if e.netByID(b.ID) != nil && e.netByID(b.ID).rec.Bridge == b.Name {
			continue
		}
		e.Log.Info("removing a bridge no network record names", "bridge", b.Name)
		if !b.Subnet.IsValid() {
			errs = append(errs, host.DeleteLink(b.Name))
			continue
		}
		rec := netRecord{ID: b.ID, Name: "orphan", Subnet: b.Subnet, Gateway: b.Gateway, Bridge: b.Name}
		m, err := network.New(e.netConfig(&rec), e.Log.With("area", "network"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, m.Remove(ctx))
		m.Close()
	}
	return errors.Join(errs...)
}

// closeNetworks releases the Managers; bridges, veths and rules stay.
func (e *Engine) closeNetworks() {
	e.netBackground.Wait()
	e.nmu.Lock()
	defer e.nmu.Unlock()
	for _, un := range e.nets {
		if un.m != nil {
			un.m.Close()
			un.m = nil
		}
	}
}

// namesChanged tells the name table's keeper that names or addresses changed.
func (e *Engine) namesChanged() {
	if e.onNames != nil {
		e.onNames()
	}
}

// userAttachments allocates an address on each of the record's user-defined networks.
// The default route goes through the first interface that may have one.
func (e *Engine) userAttachments(r *Record, onBridge bool) ([]netAttachment, error) {
	var atts []netAttachment
	routed := onBridge
	for i := range r.Endpoints {
		ep := r.Endpoints[i]
		un := e.netByID(ep.NetworkID)
		if un == nil {
			releaseAttachments(atts)
			return nil, errdefs.NotFound(fmt.Sprintf("container %s: its network %.12s no longer exists; disconnect it", r.Name, ep.NetworkID))
		}
		m, err := e.userNetManager(un)
		if err != nil {
			releaseAttachments(atts)
			return nil, err
		}
		a, err := e.allocateOn(un, m, r.ID, &ep)
		if err != nil {
			releaseAttachments(atts)
			return nil, fmt.Errorf("network %s: %w", un.rec.Name, err)
		}
		noRoute := routed || un.rec.Internal
		if !noRoute {
			routed = true
		}
		atts = append(atts, netAttachment{un: un, m: m, idx: i, port: i == 0 && !onBridge && !un.rec.Internal,
			ep: network.Endpoint{ID: r.ID, Addr: a, IfName: ep.IfName, NoRoute: noRoute}})
	}
	return atts, nil
}

func releaseAttachments(atts []netAttachment) {
	for _, a := range atts {
		a.m.Release(a.ep.Addr)
	}
}

// detachUserNets takes a container that ended off its user-defined networks, waiting for
// its veths to go.
func (e *Engine) detachUserNets(r *Record) (changed bool) {
	for _, ep := range r.Endpoints {
		un := e.netByID(ep.NetworkID)
		if un == nil || un.m == nil {
			continue
		}
		if err := un.m.Detach(context.Background(), r.ID); err != nil {
			e.Log.Warn("detach from network", "id", r.ID[:12], "network", un.rec.Name, "err", err)
		}
		changed = true
	}
	return changed
}

// joinContainerNet points a `--network container:<name>` spec at the other container's
// network namespace; that container must be running.
func (e *Engine) joinContainerNet(r *Record, s *spec.Spec) error {
	target, ok := strings.CutPrefix(r.Conf.Network, "container:")
	if !ok {
		return nil
	}
	c, err := e.lookup(target)
	if err != nil {
		return fmt.Errorf("network container:%s: %w", target, err)
	}
	t := e.snapshot(c)
	if t.ID == r.ID {
		return errdefs.Invalid("network container:" + target + ": a container cannot join its own network")
	}
	e.cmu.RLock()
	shim := c.shim
	e.cmu.RUnlock()
	if shim == nil {
		return errdefs.Conflict(fmt.Sprintf("network container:%s: container %s is not running", target, t.Name))
	}
	s.Network, s.NetNSPath = "container", "/proc/"+strconv.Itoa(shim.PID())+"/ns/net"
	return nil
}

// sharedNetFiles copies /etc/hosts and resolv.conf of the container whose network a
// `container:<name>` one shares: the same addresses and resolver.
func (e *Engine) sharedNetFiles(r *Record, s *spec.Spec) (bool, error) {
	target, ok := strings.CutPrefix(r.Conf.Network, "container:")
	if !ok {
		return false, nil
	}
	c, err := e.lookup(target)
	if err != nil {
		return true, err
	}
	src := e.ctrDir(e.snapshot(c).ID)
	for _, f := range []struct{ name, dst string }{{"hosts", s.HostsPath}, {"resolv.conf", s.ResolvPath}} {
		b, err := os.ReadFile(filepath.Join(src, f.name))
		if err != nil {
			return true, err
		}
		if err := replaceIfChanged(f.dst, b); err != nil {
			return true, err
		}
	}
	return true, replaceIfChanged(s.HostnamePath, []byte(s.Hostname+"\n"))
}

// inspectEndpoints is a container's .NetworkSettings.Networks: each network by name, with
// its address, gateway and MAC while the container runs.
func (e *Engine) inspectEndpoints(r *Record, running bool) map[string]Endpoint {
	out := map[string]Endpoint{}
	if r.Conf.Network == "bridge" {
		ep := Endpoint{NetworkID: "bridge", Aliases: []string{}, Interface: "eth0"}
		if running && r.IP != "" {
			if a, err := netip.ParseAddr(r.IP); err == nil {
				ep.IPAddress, ep.IPPrefixLen = a.String(), e.Cfg.BridgeSubnet.Bits()
				ep.Gateway, ep.MacAddress = network.Gateway(e.Cfg.BridgeSubnet).String(), macString(network.MAC(a))
			}
		}
		out["bridge"] = ep
	}
	if rb := r.Bridge; rb != nil {
		ep := Endpoint{NetworkID: "bridge", Aliases: []string{}, Interface: rb.IfName}
		if running && rb.IP != "" {
			if a, err := netip.ParseAddr(rb.IP); err == nil {
				ep.IPAddress, ep.IPPrefixLen = a.String(), e.Cfg.BridgeSubnet.Bits()
				ep.Gateway, ep.MacAddress = network.Gateway(e.Cfg.BridgeSubnet).String(), macString(network.MAC(a))
			}
		}
		out["bridge"] = ep
	}
	for _, rep := range r.Endpoints {
		un := e.netByID(rep.NetworkID)
		if un == nil {
			continue
		}
		ep := Endpoint{NetworkID: un.rec.ID, Aliases: append([]string{}, rep.Aliases...), Interface: rep.IfName}
		if running && rep.IP != "" {
			if a, err := netip.ParseAddr(rep.IP); err == nil {
				ep.IPAddress, ep.IPPrefixLen = a.String(), un.rec.Subnet.Bits()
				ep.Gateway, ep.MacAddress = un.rec.Gateway.String(), macString(network.MAC(a))
			}
		}
		out[un.rec.Name] = ep
	}
	return out
}
