package server

import (
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/registry"
)

// containerBuild is POST /containers/build: checked first (400 bad body or MiniBox, 403
// context outside MINIBOX_BUILD_PREFIXES), then streamed: log lines and block states, and a
// last line {"result"} or {"error","block","last_lines"}.
func (s *Server) containerBuild(ctx *fasthttp.RequestCtx) {
	var req api.BuildRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	auth, err := registry.DecodeConfigHeader(string(ctx.Request.Header.Peek("X-Registry-Config")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	pb, err := s.eng.PrepareBuild(imgconv.BuildRequest(req), auth)
	if err != nil {
		writeError(ctx, err)
		return
	}
	// The build outlives this handler (the stream is written after it returns): it runs
	// until done, the client goes away, or the daemon shuts down.
	conn := ctx.Conn()
	streamJSON(ctx, func(emit func(any) error) error {
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		res, err := s.eng.Build(opCtx, pb, func(ev build.Event) error { return emit(imgconv.BuildEvent(ev)) })
		emit(imgconv.BuildEnd(res, err))
		return nil
	})
}
