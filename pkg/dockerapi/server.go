package dockerapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/dockerapi/rawconn"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/shimclient"
)

// MaxVersion and MinVersion bound the API versions served: the newest is the one of the
// wire types; 1.24 is the oldest Docker itself still answered.
const (
	MaxVersion = "1.57"
	MinVersion = "1.24"
)

const (
	headerTimeout = 10 * time.Second
	callTimeout   = 60 * time.Second
	idleTimeout   = 120 * time.Second
	// streamIdle is how long an archive or image upload may send nothing.
	streamIdle = 60 * time.Second
)

var (
	hdrAPIVersion  = []byte("Api-Version")
	hdrMaxVersion  = []byte(MaxVersion)
	hdrServer      = []byte("Server")
	hdrServerValue = []byte("Docker/minibox (linux)")
	hdrOstype      = []byte("Ostype")
	hdrLinux       = []byte("linux")
)

// Server serves Docker's Engine API for one engine.
type Server struct {
	eng      *engine.Engine
	vols     volumes
	nets     networks
	imgs     images
	builds   builds
	execSvc  execService
	files    files
	logs     logs
	attach   attach
	bus      eventBus
	log      *slog.Logger
	token    []byte
	http     *fasthttp.Server
	shutdown chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	// pending holds attachments made to a container before its start (docker run
	// attaches, then starts): the start hands them the container's stdio.
	pmu     sync.Mutex
	pending map[string][]*pendingAttach
	// list is the unfiltered container list of one engine generation and second.
	list atomic.Pointer[listCache]
	// execs are Docker's exec instances (id -> *execConfig); emu guards their fields.
	execs sync.Map
	emu   sync.Mutex
}

// randomID is a 64-hex-digit ID, as Docker's.
func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// volumes is the volume service (pkg/engine/volumesvc) as Docker's volume routes use it.
type volumes interface {
	Create(name string, labels map[string]string) (volumesvc.Volume, error)
	Inspect(name string) (volumesvc.Volume, error)
	List() ([]volumesvc.Volume, error)
	Remove(name string, force bool) error
}

// networks is the network service (pkg/engine/netsvc) as Docker's network routes use it.
type networks interface {
	Create(ctx context.Context, o netsvc.CreateOptions) (*netsvc.Network, error)
	Inspect(ref string) (*netsvc.Network, error)
	List() []netsvc.Network
	Remove(ctx context.Context, ref string) error
	Prune(ctx context.Context) ([]string, error)
	Connect(ctx context.Context, o netsvc.ConnectOptions) error
	Disconnect(ctx context.Context, netRef, ctrRef string, force bool) error
}

// images is the image service (pkg/engine/imagesvc) as Docker's image routes use it.
type images interface {
	ListImages(all bool) ([]imagesvc.Summary, error)
	InspectImage(ref string) (*imagesvc.Details, error)
	TagImage(src, dst string) (*image.Image, error)
	RemoveImage(ref string, force bool) ([]string, error)
	ResolveImages(refs []string) error
	PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (*image.Image, error)
	PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (digest.Digest, error)
	SaveImages(ctx context.Context, w io.Writer, refs []string) error
	LoadImages(ctx context.Context, r io.Reader) (imagesvc.Loaded, error)
	CheckRegistryAuth(ctx context.Context, reg string, auth registry.Auth) error
	DiskUsage(ctx context.Context, verbose bool) (*imagesvc.DiskUsage, error)
	Prune(ctx context.Context, buildCache bool) (*prune.Report, error)
}

// files is a container's files (pkg/engine/ctrio) as Docker's archive and export routes
// use them.
type files interface {
	StatPath(ctx context.Context, ref, p string) (*ctrio.PathStat, error)
	ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error
	ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error
	ExportContainer(ctx context.Context, ref string, w io.Writer) error
}

// attach is containers' stdio (pkg/engine/attachsvc) as Docker's attach and resize routes
// use it.
type attach interface {
	AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error)
	ResizeContainer(ref string, h, w uint16) error
}

// eventBus is the event bus (pkg/engine/events) as Docker's events route reads it.
type eventBus interface {
	Events(ctx context.Context, since, until time.Time, f events.Filter, emit func(events.Event) error) error
}

// logs is containers' logs (pkg/engine/ctrio) as Docker's logs and attach routes read them.
type logs interface {
	Logs(ref string, opts ctrio.LogsOptions, done <-chan struct{}, emit func(ctrio.LogLine) error) error
}

// execService is the exec service (pkg/engine/execsvc) as Docker's exec routes use it.
type execService interface {
	Exec(ctx context.Context, req execsvc.Options) (*execsvc.Started, error)
	InspectExec(ctx context.Context, id string, wait bool) (*execsvc.State, error)
	WaitExec(ctx context.Context, id string) (int, error)
	ResizeExec(id string, h, w uint16) error
}

// builds is the build service (pkg/engine/buildsvc) as Docker's build route uses it.
type builds interface {
	UnpackBuildContext(ctx context.Context, r io.Reader) (*buildsvc.TarContext, error)
	PrepareTarBuild(t *buildsvc.TarContext, r buildsvc.Request, auth map[string]registry.Auth) (*buildsvc.PreparedBuild, error)
	Build(ctx context.Context, pb *buildsvc.PreparedBuild, emit func(build.Event) error) (*build.Result, error)
}

// Backing are the services the daemon's wiring hands the server beside the engine.
type Backing struct {
	Volumes  volumes
	Networks networks
	Images   images
	Builds   builds
	Execs    execService
	Files    files
	Logs     logs
	Attach   attach
	Events   eventBus
}

// New builds the server over the engine and the services the daemon hands it; token ""
// means no authentication.
func New(eng *engine.Engine, b Backing, token string, log *slog.Logger) *Server {
	s := &Server{eng: eng, vols: b.Volumes, nets: b.Networks, imgs: b.Images, builds: b.Builds, execSvc: b.Execs, files: b.Files, logs: b.Logs, attach: b.Attach, bus: b.Events, log: log, shutdown: make(chan struct{}), pending: map[string][]*pendingAttach{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if token != "" {
		s.token = []byte(token)
	}
	r := s.routes()
	s.http = &fasthttp.Server{
		Handler:                      s.middleware(r.Handler),
		Name:                         "miniboxd",
		ReadTimeout:                  headerTimeout,
		IdleTimeout:                  idleTimeout,
		StreamRequestBody:            true,
		MaxRequestBodySize:           1 << 20,
		DisablePreParseMultipartForm: true,
		NoDefaultDate:                true,
		NoDefaultContentType:         true,
		// A list of 50 containers (32 KiB) goes out with its header in one write.
		WriteBufferSize: 64 << 10,
		CloseOnShutdown: true,
		HeaderReceived:  s.headerReceived,
		Logger:          fasthttpLogger{log},
	}
	return s
}

// bodyLimit is the largest JSON body a route takes; archives stream without one.
func bodyLimit(path string) int {
	if strings.HasSuffix(path, "/create") {
		return 4 << 20
	}
	return 1 << 20
}

// streamedBody reports routes whose body is an archive of any size.
func streamedBody(path string) bool {
	return strings.HasSuffix(path, "/archive") || path == "/build" || path == "/images/load" ||
		strings.HasPrefix(path, "/images/create") || strings.HasSuffix(path, "/attach") || strings.HasSuffix(path, "/start")
}

// headerReceived runs once the headers are in, before any of the body is read: a
// request without the token is answered 401 without its body.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if s.token != nil && !s.authorized(h) {
		if n := h.ContentLength(); n > 0 || n == -1 {
			h.SetContentLength(0)
			h.Set(bodyDropped, "1")
		}
		return fasthttp.RequestConfig{ReadTimeout: callTimeout, MaxRequestBodySize: 1 << 10}
	}
	h.Del(bodyDropped)
	if m := h.Method(); string(m) == fasthttp.MethodGet || string(m) == fasthttp.MethodHead {
		return fasthttp.RequestConfig{ReadTimeout: callTimeout, MaxRequestBodySize: 1 << 20}
	}
	path, _ := splitVersion(string(h.RequestURI()))
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if streamedBody(path) {
		return fasthttp.RequestConfig{ReadTimeout: streamIdle, MaxRequestBodySize: 1 << 20}
	}
	return fasthttp.RequestConfig{ReadTimeout: callTimeout, MaxRequestBodySize: bodyLimit(path)}
}

// bodyDropped marks a request whose body the daemon will not read (no valid token).
const bodyDropped = "X-Minibox-Body-Dropped"

// authorized compares the token in constant time: "Authorization: Bearer <token>" or
// "X-API-Token: <token>", either of which the docker CLI sends from HttpHeaders in its
// config.json.
func (s *Server) authorized(hdr *fasthttp.RequestHeader) bool {
	var got []byte
	if h := hdr.Peek("Authorization"); len(h) > 7 && strings.EqualFold(string(h[:7]), "bearer ") {
		got = h[7:]
	} else if h := hdr.Peek("X-API-Token"); len(h) > 0 {
		got = h
	}
	return len(got) > 0 && subtle.ConstantTimeCompare(got, s.token) == 1
}

// splitVersion takes a /v1.NN prefix off a request URI; version is "" without one.
func splitVersion(uri string) (rest, version string) {
	if len(uri) < 3 || uri[0] != '/' || uri[1] != 'v' || uri[2] < '0' || uri[2] > '9' {
		return uri, ""
	}
	end := strings.IndexByte(uri[1:], '/')
	if end < 0 {
		return uri, ""
	}
	return uri[1+end:], uri[2 : 1+end]
}

type versionKey struct{}

// apiVersion is the version the client asked for (the newest without a prefix).
func apiVersion(ctx *fasthttp.RequestCtx) string {
	if v, ok := ctx.UserValue(versionKey{}).(string); ok {
		return v
	}
	return MaxVersion
}

// versionBelow reports a request made for an API older than v.
func versionBelow(ctx *fasthttp.RequestCtx, v string) bool {
	return dockerconv.CompareVersions(apiVersion(ctx), v) < 0
}

// middleware checks the token, strips and checks the version prefix, sets Docker's
// common headers and keeps a panic in one request from taking the daemon down.
func (s *Server) middleware(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	logRequests := s.log.Enabled(context.Background(), slog.LevelDebug)
	return func(ctx *fasthttp.RequestCtx) {
		h := &ctx.Response.Header
		// Canonical names set as bytes: no normalising and no copy per request.
		h.SetCanonical(hdrAPIVersion, hdrMaxVersion)
		h.SetCanonical(hdrServer, hdrServerValue)
		h.SetCanonical(hdrOstype, hdrLinux)
		if s.token != nil && !s.authorized(&ctx.Request.Header) {
			h.Set("WWW-Authenticate", `Bearer realm="minibox"`)
			writeErr(ctx, fasthttp.StatusUnauthorized, "missing or wrong API token: send it as \"Authorization: Bearer <token>\" (in the docker CLI's config.json: \"HttpHeaders\": {\"Authorization\": \"Bearer <token>\"})")
			if len(ctx.Request.Header.Peek(bodyDropped)) > 0 {
				ctx.Hijack(dropBody(ctx.Conn()))
			}
			return
		}
		var v string
		if uri := ctx.Request.RequestURI(); len(uri) > 2 && uri[1] == 'v' {
			var rest string
			rest, v = splitVersion(string(uri))
			if v != "" {
				ctx.Request.SetRequestURI(rest)
			}
		}
		if v != "" {
			switch {
			case !dockerconv.ValidVersion(v):
				writeErr(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("API version %q is not a version such as 1.41", v))
				return
			case dockerconv.CompareVersions(v, MinVersion) < 0:
				writeErr(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinVersion))
				return
			case dockerconv.CompareVersions(v, MaxVersion) > 0:
				writeErr(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", v, MaxVersion))
				return
			}
			ctx.SetUserValue(versionKey{}, v)
		}
		select {
		case <-s.shutdown:
			writeErr(ctx, fasthttp.StatusServiceUnavailable, "the daemon is shutting down")
			return
		default:
		}
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in docker API request", "uri", string(ctx.RequestURI()), "panic", r, "stack", string(debug.Stack()))
				ctx.ResetBody()
				writeErr(ctx, fasthttp.StatusInternalServerError, fmt.Sprintf("internal error: %v", r))
			}
		}()
		next(ctx)
		if logRequests {
			s.log.Debug("docker API request", "method", string(ctx.Method()), "uri", string(ctx.RequestURI()),
				"version", v, "status", ctx.Response.StatusCode(), "duration", time.Since(start))
		}
	}
}

// Serve answers on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(rawconn.Listener(ln)) }

// Shutdown stops accepting, lets requests finish for up to grace, then closes streams.
func (s *Server) Shutdown(grace time.Duration) error {
	close(s.shutdown)
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.http.ShutdownWithContext(ctx)
}

type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("fasthttp (docker API)", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
}
