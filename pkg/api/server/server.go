package server

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	headerTimeout = 10 * time.Second
	callTimeout   = 60 * time.Second
	idleTimeout   = 120 * time.Second
)

// Server serves the API of one engine.
type Server struct {
	eng      Services
	vols     Volumes
	nets     Networks
	imgs     Images
	builds   Builds
	execs    Execs
	files    Files
	logs     Logs
	attach   Attach
	bus      Events
	log      *slog.Logger
	token    []byte
	apiPort  int
	http     *fasthttp.Server
	shutdown chan struct{}
	// ctx outlives requests: operations a client starts (a container's run) finish even
	// if it disconnects; it ends at shutdown.
	ctx    context.Context
	cancel context.CancelFunc
	// listGzip serves GET /containers compressed to clients that accept it (Go's
	// net/http and the docker CLI do): a list of 1000 containers is 8x smaller.
	listGzip gzipCache
	// list caches GET /containers by the engine's generation.
	list listCache
}

// New builds the server over eng (the engine, or fakes in tests) and the services the
// daemon hands it; token "" means no authentication.
func New(eng Services, b Backing, token string, log *slog.Logger) *Server {
	s := &Server{eng: eng, vols: b.Volumes, nets: b.Networks, imgs: b.Images, builds: b.Builds, execs: b.Execs, files: b.Files, logs: b.Logs, attach: b.Attach, bus: b.Events, log: log, shutdown: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if token != "" {
		s.token = []byte(token)
	}
	r := s.routes()
	s.http = &fasthttp.Server{
		Handler:                       s.middleware(r.Handler),
		Name:                          "miniboxd",
		ReadTimeout:                   headerTimeout,
		IdleTimeout:                   idleTimeout,
		StreamRequestBody:             true,
		MaxRequestBodySize:            1 << 20,
		DisablePreParseMultipartForm:  true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: false,
		CloseOnShutdown:               true,
		HeaderReceived:                s.headerReceived,
		Logger:                        fasthttpLogger{log},
	}
	return s
}

// bodyLimit is the largest body a route takes; archives have none here (imports and
// loads stop at MINIBOX_MAX_IMPORT_SIZE).
func bodyLimit(path string) int64 {
	switch path {
	case "/containers/run", "/containers/create", "/containers/exec":
		return 4 << 20
	case "/containers/build":
		return 64 << 20
	}
	return 1 << 20
}

// archiveRoute reports routes whose body or answer is an archive of any size.
func archiveRoute(path string) bool {
	switch path {
	case "/images/load", "/images/import", "/containers/archive", "/images/save":
		return true
	}
	return false
}

// bodyDropped marks (on the request) a body the daemon will not read: the request had
// no valid token. The client's own value of it is removed first.
const bodyDropped = "X-Minibox-Body-Dropped"

// headerReceived runs once the headers are in, before fasthttp reads any of the body.
// A request without a valid token gets its body declared empty here, so it is answered
// 401 at once rather than after fasthttp waits for the start of a body that may never
// come. Archive routes get an idle timeout (see idleBody) instead of a total one.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(bodyDropped)
	if s.token != nil && !s.authorizedHeader(h) {
		if n := h.ContentLength(); n > 0 || n == -1 { // a length, or chunked
			h.SetContentLength(0)
			h.Set(bodyDropped, "1")
		}
		return fasthttp.RequestConfig{ReadTimeout: callTimeout, MaxRequestBodySize: 1 << 10}
	}
	path := string(h.RequestURI())
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if archiveRoute(path) {
		return fasthttp.RequestConfig{ReadTimeout: streamIdle, MaxRequestBodySize: 1 << 20}
	}
	return fasthttp.RequestConfig{ReadTimeout: callTimeout, MaxRequestBodySize: int(bodyLimit(path))}
}

// middleware checks the token, adds common headers and logs each request at debug.
func (s *Server) middleware(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	logRequests := s.log.Enabled(context.Background(), slog.LevelDebug)
	return func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		if s.token != nil && !s.authorizedHeader(&ctx.Request.Header) {
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="minibox"`)
			writeJSON(ctx, fasthttp.StatusUnauthorized, errorBody(errUnauthorized))
			if len(ctx.Request.Header.Peek(bodyDropped)) > 0 {
				// The body is still on its way: the connection cannot serve another request.
				ctx.Hijack(dropBody(ctx.Conn()))
			}
			return
		}
		select {
		case <-s.shutdown:
			if string(ctx.Path()) != "/ping" {
				writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "the daemon is shutting down"})
				return
			}
		default:
		}
		start := time.Now()
		defer func() {
			// A bug in one request must not take the daemon (and the API of every
			// container) down with it.
			if r := recover(); r != nil {
				s.log.Error("panic in request", "uri", string(ctx.RequestURI()), "panic", r, "stack", string(debug.Stack()))
				ctx.ResetBody()
				writeJSON(ctx, fasthttp.StatusInternalServerError, map[string]string{"error": fmt.Sprintf("internal error: %v", r)})
			}
		}()
		next(ctx)
		if ctx.Response.StatusCode() >= 400 && !ctx.Hijacked() && uploadUnread(ctx) {
			// Refused before its body was read (a bad name, a size over the limit): a
			// close with unread input resets the connection, and the client would see
			// "connection reset" instead of the answer.
			ctx.Hijack(dropBody(ctx.Conn()))
		}
		if logRequests {
			s.log.Debug("request", "method", string(ctx.Method()), "uri", string(ctx.RequestURI()),
				"status", ctx.Response.StatusCode(), "duration", time.Since(start))
		}
	}
}

// uploadUnread reports a streamed upload (an archive route with a body) that the handler
// may have left unread.
func uploadUnread(ctx *fasthttp.RequestCtx) bool {
	n := ctx.Request.Header.ContentLength()
	return (n > 0 || n == -1) && archiveRoute(string(ctx.Path()))
}

type unauthorized struct{}

func (unauthorized) Error() string {
	return "missing or wrong API token; send it as \"Authorization: Bearer <token>\" (set MINIBOX_API_TOKEN for the CLI)"
}

var errUnauthorized = unauthorized{}

// authorizedHeader compares the presented token in constant time. A bare token in
// Authorization (without "Bearer ") is refused.
func (s *Server) authorizedHeader(hdr *fasthttp.RequestHeader) bool {
	var got []byte
	if h := hdr.Peek("Authorization"); len(h) > 7 && strings.EqualFold(string(h[:7]), "bearer ") {
		got = h[7:]
	} else if h := hdr.Peek("X-API-Token"); len(h) > 0 {
		got = h
	}
	return len(got) > 0 && subtle.ConstantTimeCompare(got, s.token) == 1
}

// Serve answers on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		s.apiPort = tcp.Port
	}
	return s.http.Serve(ln)
}

// Shutdown stops accepting, lets requests in flight finish for up to grace, then closes
// what remains (streams included).
func (s *Server) Shutdown(grace time.Duration) error {
	close(s.shutdown)
	s.cancel() // waits, follows and long operations end now: their streams close
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.http.ShutdownWithContext(ctx)
}

type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("fasthttp", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
}
