package dockerapi

import (
	"os"
	"runtime"
	"time"

	"github.com/moby/moby/api/types/system"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/version"
)

// ping answers GET and HEAD /_ping: "OK" with the headers a client negotiates from.
// Builder-Version 1 is the classic builder (a tar context, no BuildKit session).
func (s *Server) ping(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Builder-Version", "1")
	h.Set("Docker-Experimental", "false")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	if ctx.IsHead() {
		h.SetContentLength(0)
		return
	}
	ctx.SetBodyString("OK")
}

func (s *Server) version(ctx *fasthttp.RequestCtx) {
	info := s.eng.Info()
	writeJSON(ctx, fasthttp.StatusOK, system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "minibox"},
		Version:       version.Version,
		APIVersion:    MaxVersion,
		MinAPIVersion: MinVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GitCommit:     version.Commit,
		GoVersion:     runtime.Version(),
		KernelVersion: info.Kernel,
		Components: []system.ComponentVersion{{Name: "Engine", Version: version.Version,
			Details: map[string]string{"ApiVersion": MaxVersion, "MinAPIVersion": MinVersion, "GitCommit": version.Commit,
				"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH, "KernelVersion": info.Kernel}}},
	})
}

func (s *Server) info(ctx *fasthttp.RequestCtx) {
	in := s.eng.Info()
	host, _ := os.Hostname()
	cg := in.Host.Cgroup
	out := system.Info{
		ID: "minibox", Containers: in.Containers, ContainersRunning: in.ContainersRunning,
		ContainersPaused: in.ContainersPaused, ContainersStopped: in.ContainersStopped, Images: in.Images,
		Driver: "overlay2", DriverStatus: [][2]string{{"Backing Filesystem", "overlay"}},
		Plugins:     system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "null"}, Log: []string{"json-file"}},
		MemoryLimit: cg.Memory, SwapLimit: cg.MemorySwap, CPUCfsPeriod: cg.CPUCFS, CPUCfsQuota: cg.CPUCFS, CPUShares: cg.CPUShares,
		CPUSet: cg.Cpuset, PidsLimit: cg.Pids, IPv4Forwarding: true, NGoroutines: runtime.NumGoroutine(),
		SystemTime: time.Now().Format(time.RFC3339Nano), LoggingDriver: "json-file", CgroupDriver: "cgroupfs",
		CgroupVersion: in.CgroupVersion, KernelVersion: in.Kernel, OperatingSystem: "minibox", OSType: runtime.GOOS,
		Architecture: archName(in.Arch), IndexServerAddress: "https://index.docker.io/v1/", NCPU: in.CPUs,
		MemTotal: int64(in.MemoryBytes), DockerRootDir: in.DataRoot, Name: host, ServerVersion: in.Version,
		Runtimes:       map[string]system.RuntimeWithStatus{"minibox": {}},
		DefaultRuntime: "minibox", SecurityOptions: []string{"name=seccomp,profile=builtin"},
		Labels: []string{}, Warnings: []string{},
	}
	if in.UserNS == "auto" {
		out.SecurityOptions = append(out.SecurityOptions, "name=userns")
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// archName is the architecture as uname names it (docker info shows x86_64).
func archName(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}
