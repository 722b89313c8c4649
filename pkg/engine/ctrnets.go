package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
	"github.com/minibox/minibox/pkg/spec"
)

// EndpointRecord is a container's place on a user-defined network, kept in its record.
type EndpointRecord = netsvc.Endpoint

// loadNetworks opens the networks service: the records of the user-defined networks
// (Open wires them once the containers are known).
func (e *Engine) loadNetworks() error {
	s, err := netsvc.New(netsvc.Config{Root: e.Root, BridgeSubnet: e.Cfg.BridgeSubnet, Pool: e.Cfg.NetworkPool,
		APIPort: apiPort(e.Cfg.HTTPAddr), DNSUpstream: e.Cfg.DNSUpstream, BridgeOnStartup: e.Cfg.BridgeOnStartup},
		netsvc.Deps{Log: e.Log, NewManager: network.New,
			Publish: func(action, id string, attrs map[string]string) {
				e.publish(events.Event{Type: events.Network, Action: action, ID: id, Attributes: attrs})
			},
			Containers: netCtrs{e}})
	if err != nil {
		return err
	}
	e.nets = s
	return nil
}

// netCtrs is the containers as the networks service sees them.
type netCtrs struct{ e *Engine }

func netView(c *ctr) netsvc.Container {
	r := c.rec
	v := netsvc.Container{ID: r.ID, Name: r.Name, Mode: r.Conf.Network, IP: r.IP, Bridge: r.Bridge,
		Endpoints: r.Endpoints, Links: r.Conf.Links}
	if c.shim != nil {
		v.PID = c.shim.PID()
	}
	switch r.Status {
	case StatusRunning, StatusPaused:
		v.Ports, v.Active = r.Ports, true
	case StatusRestarting:
		v.Active = true
	}
	return v
}

func (n netCtrs) Visit(running bool, fn func(c *netsvc.Container)) {
	e := n.e
	e.store.RLock()
	defer e.store.RUnlock()
	for _, c := range e.store.AllLocked() {
		if running && c.shim == nil {
			continue
		}
		v := netView(c)
		fn(&v)
	}
}

func (n netCtrs) Edit(ref string, fn func(c *netsvc.Container) (bool, error)) error {
	e := n.e
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	if c.removed != nil {
		return errdefs.NotFound("container " + ref + " was removed")
	}
	e.store.RLock()
	v := netView(c)
	e.store.RUnlock()
	v.Endpoints = slices.Clone(v.Endpoints)
	changed, err := fn(&v)
	if err != nil || !changed {
		return err
	}
	// Bridge is replaced whole, never changed in place (snapshots share it).
	e.update(c, func(rec *Record) { rec.Endpoints, rec.Bridge = v.Endpoints, v.Bridge })
	return e.store.Save()
}

// NetworkService is the network service the engine opened: the daemon hands it to the
// HTTP layers, which create, list, remove, connect and disconnect through it.
func (e *Engine) NetworkService() *netsvc.Service { return e.nets }

// namesChanged tells the name table's keeper that names or addresses changed.
func (e *Engine) namesChanged() { e.nets.NamesChanged() }

// inspectEndpoints is a container's .NetworkSettings.Networks: each network by name, with
// its address, gateway and MAC while the container runs.
func (e *Engine) inspectEndpoints(r *Record, running bool) map[string]Endpoint {
	c := netsvc.Container{ID: r.ID, Name: r.Name, Mode: r.Conf.Network, IP: r.IP, Bridge: r.Bridge, Endpoints: r.Endpoints}
	views := e.nets.InspectEndpoints(&c, running)
	out := make(map[string]Endpoint, len(views))
	for name, v := range views {
		ep := Endpoint{NetworkID: v.NetworkID, Aliases: v.Aliases, Interface: v.Interface}
		if v.Addr.IsValid() {
			ep.IPAddress, ep.IPPrefixLen = v.Addr.Addr().String(), v.Addr.Bits()
			ep.Gateway, ep.MacAddress = v.Gateway.String(), v.MAC.String()
		}
		out[name] = ep
	}
	return out
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
	e.store.RLock()
	shim := c.shim
	e.store.RUnlock()
	if shim == nil {
		return errdefs.Conflict(fmt.Sprintf("network container:%s: container %s is not running", target, t.Name))
	}
	s.Network, s.NetNSPath = "container", "/proc/"+strconv.Itoa(shim.PID())+"/ns/net"
	return nil
}
