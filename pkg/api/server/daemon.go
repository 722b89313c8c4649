package server

import (
	"fmt"
	"runtime"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
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
	writeJSON(ctx, fasthttp.StatusOK, infoOf(s.eng.Info()))
}

func (s *Server) notFound(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %s %s", ctx.Method(), ctx.Path())})
}

func (s *Server) methodNotAllowed(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("method %s is not allowed on %s", ctx.Method(), ctx.Path())})
}

// infoOf is GET /info's answer.
func infoOf(in engine.Info) api.Info {
	h := in.Host
	return api.Info{
		Version: in.Version, DataRoot: in.DataRoot, Containers: in.Containers, ContainersRunning: in.ContainersRunning,
		ContainersPaused: in.ContainersPaused, ContainersStopped: in.ContainersStopped, Images: in.Images,
		CgroupVersion: in.CgroupVersion, Kernel: in.Kernel, OS: in.OS, Arch: in.Arch, CPUs: in.CPUs,
		MemoryBytes: in.MemoryBytes, Bridge: in.Bridge, BridgeSubnet: in.BridgeSubnet, Lazy: in.Lazy,
		UserNS: in.UserNS, Encrypted: in.Encrypted, PID: in.PID,
		Host: api.HostInfo{Cgroup: api.CgroupInfo(h.Cgroup), Overlay: h.Overlay, IDMappedMounts: h.IDMappedMounts,
			Nftables: h.Nftables, FUSE: h.FUSE, UserNS: h.UserNS},
	}
}
