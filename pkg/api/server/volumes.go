package server

import (
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
)

func (s *Server) volumesList(ctx *fasthttp.RequestCtx) {
	vs, err := s.eng.Volumes()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := make([]api.Volume, len(vs))
	for i := range vs {
		out[i] = apiVolume(&vs[i])
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) volumeInspect(ctx *fasthttp.RequestCtx) {
	answer(ctx, "name", func(name string) (api.Volume, error) {
		v, err := s.eng.Volume(name)
		return apiVolume(&v), err
	})
}

func (s *Server) volumeCreate(ctx *fasthttp.RequestCtx) {
	var req api.VolumeCreateRequest
	if len(ctx.PostBody()) > 0 {
		if err := decodeJSON(ctx, &req); err != nil {
			writeError(ctx, err)
			return
		}
	}
	v, err := s.eng.CreateVolume(req.Name, req.Labels)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, apiVolume(&v))
}

func (s *Server) volumeRemove(ctx *fasthttp.RequestCtx) {
	action(ctx, "name", func(name string) error { return s.eng.RemoveVolume(name, queryBool(ctx, "force")) })
}

// apiVolume is the engine's volume on the native API's wire (a local volume: minibox has
// no other driver).
func apiVolume(v *volumesvc.Volume) api.Volume {
	return api.Volume{Name: v.Name, Driver: "local", Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt,
		Labels: v.Labels, Anonymous: v.Anonymous, UsedBy: v.UsedBy}
}
