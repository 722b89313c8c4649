package server

import "github.com/valyala/fasthttp"

// notImplemented answers routes whose area has not landed yet.
func notImplemented(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusNotImplemented, map[string]string{"error": "not implemented in this build"})
}
