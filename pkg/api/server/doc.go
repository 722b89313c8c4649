// Package server is the daemon's HTTP API on fasthttp and fasthttp/router: routing, the
// token check, limits, JSON and streaming responses, and the mapping from error kinds to
// status codes. Every operation is delegated to the engine.
package server
