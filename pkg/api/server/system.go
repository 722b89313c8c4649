package server

import (
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/imgconv"
)

// systemPrune answers POST /system/prune?build_cache.
func (s *Server) systemPrune(ctx *fasthttp.RequestCtx) {
	report, err := s.eng.Prune(ctx, queryBool(ctx, "build_cache"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, imgconv.PruneReport(report))
}

// systemDF answers GET /system/df[?verbose].
func (s *Server) systemDF(ctx *fasthttp.RequestCtx) {
	du, err := s.eng.DiskUsage(ctx, queryBool(ctx, "verbose"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, imgconv.DiskUsage(du))
}
