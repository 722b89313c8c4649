package server

import (
	"fmt"
	"runtime"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/version"
)

var pingBody = []byte("Daemon is running")

func (s *Server) ping(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBody(pingBody)
}

func (s *Server) version(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, api.Version{Version: version.Version, Commit: version.Commit,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, APIVersion: version.APIVersion})
}

func (s *Server) info(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, s.eng.Info())
}

func (s *Server) notFound(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %s %s", ctx.Method(), ctx.Path())})
}

func (s *Server) methodNotAllowed(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("method %s is not allowed on %s", ctx.Method(), ctx.Path())})
}
