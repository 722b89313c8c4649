package server

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
)

// pruneWith answers a prune route: ?filter=key=value (repeatable) is Docker's --filter,
// ?all its -a.
func (s *Server) pruneWith(ctx *fasthttp.RequestCtx, run func(ctx context.Context, all bool, f engine.PruneFilter) (*engine.PruneResult, error)) {
	f, err := engine.ParsePruneFilter(queryStrings(ctx, "filter"), time.Now())
	if err != nil {
		writeError(ctx, err)
		return
	}
	r, err := run(s.daemonCtx(), queryBool(ctx, "all"), f)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, pruneWire(r))
}

func pruneWire(r *engine.PruneResult) api.PruneResult {
	out := api.PruneResult{ContainersDeleted: r.Containers, VolumesDeleted: r.Volumes, CachesDeleted: r.BuildCache,
		SpaceReclaimed: r.SpaceReclaimed}
	for _, d := range r.Images {
		out.ImagesDeleted = append(out.ImagesDeleted, api.ImageDeleted{Untagged: d.Untagged, Deleted: d.Deleted})
	}
	return out
}

func (s *Server) containerPrune(ctx *fasthttp.RequestCtx) {
	s.pruneWith(ctx, func(c context.Context, _ bool, f engine.PruneFilter) (*engine.PruneResult, error) {
		return s.eng.PruneContainers(c, f)
	})
}

func (s *Server) imagePrune(ctx *fasthttp.RequestCtx) { s.pruneWith(ctx, s.imgs.PruneImages) }

func (s *Server) volumePrune(ctx *fasthttp.RequestCtx) { s.pruneWith(ctx, s.eng.PruneVolumes) }

func (s *Server) buildPrune(ctx *fasthttp.RequestCtx) {
	s.pruneWith(ctx, func(c context.Context, _ bool, f engine.PruneFilter) (*engine.PruneResult, error) {
		return s.imgs.PruneBuildCache(c, f)
	})
}

// containerCommit answers POST /containers/commit.
func (s *Server) containerCommit(ctx *fasthttp.RequestCtx) {
	var req api.CommitRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	id, err := s.eng.CommitContainer(s.daemonCtx(), req.Container, engine.CommitOptions{Reference: req.Reference,
		Comment: req.Comment, Author: req.Author, Changes: req.Changes, Pause: req.Pause})
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, api.Committed{ID: id})
}
