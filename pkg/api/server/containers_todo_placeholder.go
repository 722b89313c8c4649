package server

import "github.com/valyala/fasthttp"

func (s *Server) containerStats(ctx *fasthttp.RequestCtx) { notImplemented(ctx) }
func (s *Server) archiveGet(ctx *fasthttp.RequestCtx)     { notImplemented(ctx) }
func (s *Server) archivePut(ctx *fasthttp.RequestCtx)     { notImplemented(ctx) }
