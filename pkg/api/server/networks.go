package server

import (
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
)

func (s *Server) networksList(ctx *fasthttp.RequestCtx) {
	ns, err := s.eng.Networks()
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, ns)
}

func (s *Server) networkInspect(ctx *fasthttp.RequestCtx) {
	answer(ctx, "name", s.eng.Network)
}

func (s *Server) networkCreate(ctx *fasthttp.RequestCtx) {
	var req api.NetworkCreateRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	n, err := s.eng.CreateNetwork(s.daemonCtx(), req)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, n)
}

func (s *Server) networkRemove(ctx *fasthttp.RequestCtx) {
	action(ctx, "name", func(name string) error { return s.eng.RemoveNetwork(s.daemonCtx(), name) })
}

func (s *Server) networkPrune(ctx *fasthttp.RequestCtx) {
	res, err := s.eng.PruneNetworks(s.daemonCtx())
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, res)
}

func (s *Server) networkConnect(ctx *fasthttp.RequestCtx) {
	var req api.NetworkConnectRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	if err := s.eng.ConnectNetwork(s.daemonCtx(), req); err != nil {
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
