package server

import (
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/netsvc"
)

func (s *Server) networksList(ctx *fasthttp.RequestCtx) {
	ns, err := s.eng.Networks()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := make([]api.Network, len(ns))
	for i := range ns {
		out[i] = wireNetwork(&ns[i])
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) networkInspect(ctx *fasthttp.RequestCtx) {
	answer(ctx, "name", func(ref string) (*api.Network, error) {
		n, err := s.eng.Network(ref)
		if err != nil {
			return nil, err
		}
		w := wireNetwork(n)
		return &w, nil
	})
}

func (s *Server) networkCreate(ctx *fasthttp.RequestCtx) {
	var req api.NetworkCreateRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	n, err := s.eng.CreateNetwork(s.daemonCtx(), netsvc.CreateOptions{Name: req.Name, Driver: req.Driver,
		Subnet: req.Subnet, Gateway: req.Gateway, Internal: req.Internal, Labels: req.Labels})
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, wireNetwork(n))
}

func (s *Server) networkRemove(ctx *fasthttp.RequestCtx) {
	action(ctx, "name", func(name string) error { return s.eng.RemoveNetwork(s.daemonCtx(), name) })
}

func (s *Server) networkPrune(ctx *fasthttp.RequestCtx) {
	removed, err := s.eng.PruneNetworks(s.daemonCtx())
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, api.NetworkPruneResult{Removed: removed})
}

func (s *Server) networkConnect(ctx *fasthttp.RequestCtx) {
	var req api.NetworkConnectRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	o := netsvc.ConnectOptions{Network: req.Network, Container: req.Container, Aliases: req.Aliases, IP: req.IP}
	if err := s.eng.ConnectNetwork(s.daemonCtx(), o); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) networkDisconnect(ctx *fasthttp.RequestCtx) {
	action(ctx, "network", func(net string) error {
		ctr, err := requireQuery(ctx, "container")
		if err != nil {
			return err
		}
		return s.eng.DisconnectNetwork(s.daemonCtx(), net, ctr, queryBool(ctx, "force"))
	})
}

// wireNetwork is a network as the native API shows it.
func wireNetwork(n *netsvc.Network) api.Network {
	out := api.Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Created: n.Created, Internal: n.Internal,
		Predefined: n.Predefined, Bridge: n.Bridge, Labels: n.Labels, Containers: make(map[string]api.NetworkContainer, len(n.Containers))}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if n.Subnet.IsValid() {
		out.Subnet = n.Subnet.String()
	}
	if n.Gateway.IsValid() {
		out.Gateway = n.Gateway.String()
	}
	for id, m := range n.Containers {
		c := api.NetworkContainer{Name: m.Name, Aliases: m.Aliases}
		if m.Addr.IsValid() {
			c.IPv4Address = m.Addr.String()
		}
		if m.MAC != nil {
			c.MacAddress = m.MAC.String()
		}
		out.Containers[id] = c
	}
	return out
}
