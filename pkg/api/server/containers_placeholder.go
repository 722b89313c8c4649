package server

import "github.com/valyala/fasthttp"

func (s *Server) containersList(ctx *fasthttp.RequestCtx)   { notImplemented(ctx) }
func (s *Server) containerInspect(ctx *fasthttp.RequestCtx) { notImplemented(ctx) }
func (s *Server) containerCreate(ctx *fasthttp.RequestCtx)  { notImplemented(ctx) }
func (s *Server) containerRun(ctx *fasthttp.RequestCtx)     { notImplemented(ctx) }
func (s *Server) containerStart(ctx *fasthttp.RequestCtx)   { notImplemented(ctx) }
func (s *Server) containerStop(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) containerRestart(ctx *fasthttp.RequestCtx) { notImplemented(ctx) }
func (s *Server) containerKill(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) containerPause(ctx *fasthttp.RequestCtx)   { notImplemented(ctx) }
func (s *Server) containerUnpause(ctx *fasthttp.RequestCtx) { notImplemented(ctx) }
func (s *Server) containerRename(ctx *fasthttp.RequestCtx)  { notImplemented(ctx) }
func (s *Server) containerRemove(ctx *fasthttp.RequestCtx)  { notImplemented(ctx) }
func (s *Server) containerWait(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) containerLogs(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) containerStats(ctx *fasthttp.RequestCtx)   { notImplemented(ctx) }
func (s *Server) containerAttach(ctx *fasthttp.RequestCtx)  { notImplemented(ctx) }
func (s *Server) containerResize(ctx *fasthttp.RequestCtx)  { notImplemented(ctx) }
func (s *Server) containerExec(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) execResize(ctx *fasthttp.RequestCtx)       { notImplemented(ctx) }
func (s *Server) execInspect(ctx *fasthttp.RequestCtx)      { notImplemented(ctx) }
func (s *Server) archiveGet(ctx *fasthttp.RequestCtx)       { notImplemented(ctx) }
func (s *Server) archivePut(ctx *fasthttp.RequestCtx)       { notImplemented(ctx) }
func (s *Server) volumesList(ctx *fasthttp.RequestCtx)      { notImplemented(ctx) }
func (s *Server) volumeInspect(ctx *fasthttp.RequestCtx)    { notImplemented(ctx) }
func (s *Server) volumeCreate(ctx *fasthttp.RequestCtx)     { notImplemented(ctx) }
func (s *Server) volumeRemove(ctx *fasthttp.RequestCtx)     { notImplemented(ctx) }

