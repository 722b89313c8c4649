package dockerapi

import (
	"fmt"
	"strings"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// routes is Docker's API as minibox serves it. Image names hold slashes, so image
// routes take the rest of the path and split it themselves.
func (s *Server) routes() *router.Router {
	r := router.New()
	r.GET("/_ping", s.ping)
	r.HEAD("/_ping", s.ping)
	r.GET("/version", s.version)
	r.GET("/info", s.info)

	r.GET("/containers/json", s.containerList)
	r.POST("/containers/create", s.containerCreate)
	r.POST("/containers/prune", s.containerPrune)
	r.GET("/containers/{id}/json", s.containerInspect)
	r.POST("/containers/{id}/start", s.containerStart)
	r.POST("/containers/{id}/stop", s.containerStop)
	r.POST("/containers/{id}/restart", s.containerRestart)
	r.POST("/containers/{id}/kill", s.containerKill)
	r.POST("/containers/{id}/pause", s.containerPause)
	r.POST("/containers/{id}/unpause", s.containerUnpause)
	r.POST("/containers/{id}/rename", s.containerRename)
	r.POST("/containers/{id}/wait", s.containerWait)
	r.DELETE("/containers/{id}", s.containerDelete)
	r.GET("/containers/{id}/logs", s.containerLogs)
	r.POST("/containers/{id}/attach", s.containerAttach)
	r.POST("/containers/{id}/resize", s.containerResize)
	r.GET("/containers/{id}/stats", s.containerStats)
	r.GET("/containers/{id}/top", s.containerTop)
	r.POST("/containers/{id}/exec", s.execCreate)
	r.GET("/containers/{id}/archive", s.archiveGet)
	r.HEAD("/containers/{id}/archive", s.archiveHead)
	r.PUT("/containers/{id}/archive", s.archivePut)
	r.POST("/exec/{id}/start", s.execStart)
	r.POST("/exec/{id}/resize", s.execResize)
	r.GET("/exec/{id}/json", s.execInspect)

	r.GET("/images/json", s.imageList)
	r.POST("/images/create", s.imageCreate)
	r.GET("/images/get", s.imageSaveMany)
	r.POST("/images/load", s.imageLoad)
	r.POST("/images/prune", s.imagePrune)
	r.GET("/images/{rest:*}", s.imageRoute)
	r.POST("/images/{rest:*}", s.imageRoute)
	r.DELETE("/images/{rest:*}", s.imageRoute)

	s.moreRoutes(r)

	r.NotFound = s.notFound
	r.MethodNotAllowed = s.notFound
	r.HandleMethodNotAllowed = true
	return r
}

// notFound answers a route minibox does not serve: Docker's error shape, at once.
// Routes Docker has and minibox lacks are 501 so that a client can tell "not here" from
// "no such object".
func (s *Server) notFound(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	for _, p := range []string{"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs", "/plugins",
		"/session", "/grpc", "/distribution", "/commit", "/images", "/networks", "/volumes", "/build", "/events",
		"/system", "/auth", "/containers", "/exec"} {
		if strings.HasPrefix(path, p) {
			writeErr(ctx, fasthttp.StatusNotImplemented, fmt.Sprintf("%s %s is not supported by minibox's Docker API", ctx.Method(), path))
			return
		}
	}
	writeErr(ctx, fasthttp.StatusNotFound, fmt.Sprintf("page not found: %s %s", ctx.Method(), path))
}

func param(ctx *fasthttp.RequestCtx, name string) string {
	v, _ := ctx.UserValue(name).(string)
	return v
}
