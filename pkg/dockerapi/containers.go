package dockerapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/ctrreq"
	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/clienttime"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/errdefs"
)

// containerList answers GET /containers/json. The unfiltered answer is kept for one
// engine generation and one second (its "Up 3 seconds" changes with time).
func (s *Server) containerList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	all := queryBool(ctx, "all")
	limit, err := queryInt(ctx, "limit", -1)
	if err != nil {
		writeError(ctx, err)
		return
	}
	now := time.Now()
	plain := len(f) == 0 && limit <= 0
	key := now.Unix()<<1 | boolBit(all)
	if plain {
		if c := s.list.Load(); c != nil && c.key == key && c.gen == s.eng.ListGeneration() {
			// The cached bytes are never written to again: the response takes them as
			// they are, without a copy.
			ctx.SetContentType("application/json")
			ctx.Response.SetBodyRaw(c.body)
			return
		}
	}
	listed, gen := s.eng.ListContainers(ctrlist.Filter{})
	out := make([]container.Summary, 0, len(listed))
	for i := range listed {
		l := &listed[i]
		if !all && l.Status != "running" && l.Status != "paused" && len(f["status"]) == 0 {
			continue
		}
		if !dockerconv.MatchContainer(l, f) {
			continue
		}
		out = append(out, dockerconv.Summary(l, now))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID < out[j].ID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if plain {
		s.list.Store(&listCache{gen: gen, key: key, body: b})
	}
	ctx.SetContentType("application/json")
	ctx.Response.SetBodyRaw(b)
}

// listCache is one answer to the unfiltered list: the engine's generation and the
// second (with the all bit) it was made for.
type listCache struct {
	gen  uint64
	key  int64
	body []byte
}

func boolBit(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) containerCreate(ctx *fasthttp.RequestCtx) {
	var in container.CreateRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	req, warn, err := dockerconv.CreateRequest(query(ctx, "name"), &in)
	if err != nil {
		writeError(ctx, err)
		return
	}
	cfg, w1, err := ctrreq.Normalize(req, ctrconfig.HostOptions())
	if err != nil {
		writeError(ctx, err)
		return
	}
	warn = append(warn, w1...)
	id, w2, err := s.eng.CreateContainer(s.ctx, cfg)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) && strings.Contains(strings.ToLower(errdefs.Message(err)), "image") {
			// The docker CLI pulls on exactly this answer.
			writeErr(ctx, fasthttp.StatusNotFound, "No such image: "+fullRef(req.Image))
			return
		}
		writeError(ctx, err)
		return
	}
	warn = append(warn, w2...)
	if warn == nil {
		warn = []string{}
	}
	writeJSON(ctx, fasthttp.StatusCreated, container.CreateResponse{ID: id, Warnings: warn})
}

// fullRef adds the tag Docker shows: busybox -> busybox:latest.
func fullRef(ref string) string {
	if strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndexByte(ref, ':'); i < 0 || strings.Contains(ref[i:], "/") {
		return ref + ":latest"
	}
	return ref
}

func (s *Server) containerInspect(ctx *fasthttp.RequestCtx) {
	in, err := ctrview.Inspect(s.eng.InspectContainer(param(ctx, "id")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	if versionBelow(ctx, "1.44") {
		writeJSON(ctx, fasthttp.StatusOK, dockershape.InspectLegacy(in))
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, dockershape.Inspect(in))
}

// idAction runs fn on the container of the path and answers 204.
func (s *Server) idAction(ctx *fasthttp.RequestCtx, fn func(id string) error) {
	if err := fn(param(ctx, "id")); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// status is a container's status, for the 304 answers of start and stop.
func (s *Server) status(id string) (string, error) {
	in, err := ctrview.Inspect(s.eng.InspectContainer(id))
	if err != nil {
		return "", err
	}
	return in.State.Status, nil
}

func stopTimeout(ctx *fasthttp.RequestCtx) (*time.Duration, error) {
	t := query(ctx, "t")
	if t == "" {
		t = query(ctx, "timeout")
	}
	if t == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return nil, errdefs.Invalid(fmt.Sprintf("query parameter t: %q is not a number of seconds", t))
	}
	if n < 0 { // -1: wait for ever
		n = 1 << 30
	}
	d := time.Duration(n) * time.Second
	return &d, nil
}

func (s *Server) containerStop(ctx *fasthttp.RequestCtx) {
	id := param(ctx, "id")
	st, err := s.status(id)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if st != "running" && st != "paused" && st != "restarting" {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	s.idAction(ctx, func(id string) error {
		t, err := stopTimeout(ctx)
		if err != nil {
			return err
		}
		return s.eng.StopContainer(s.ctx, id, t)
	})
}

func (s *Server) containerRestart(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		t, err := stopTimeout(ctx)
		if err != nil {
			return err
		}
		return s.eng.RestartContainer(s.ctx, id, t)
	})
}

func (s *Server) containerKill(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		st, err := s.status(id)
		if err != nil {
			return err
		}
		if st != "running" && st != "paused" && st != "restarting" {
			return errdefs.Conflict(fmt.Sprintf("cannot kill container: %s: container %s is not running", id, id))
		}
		return s.eng.KillContainer(id, query(ctx, "signal"))
	})
}

func (s *Server) containerPause(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error { return s.eng.PauseContainer(id, true) })
}

func (s *Server) containerUnpause(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error { return s.eng.PauseContainer(id, false) })
}

func (s *Server) containerRename(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		name := strings.TrimPrefix(query(ctx, "name"), "/")
		if name == "" {
			return errdefs.Invalid("query parameter name is required")
		}
		return s.eng.RenameContainer(id, name)
	})
}

func (s *Server) containerDelete(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		if queryBool(ctx, "link") {
			return errdefs.Invalid("links are not supported by minibox")
		}
		return s.eng.RemoveContainer(s.ctx, id, queryBool(ctx, "force"), queryBool(ctx, "v"))
	})
}

// containerWait answers once the condition holds: not-running (default), next-exit
// or removed. The status line goes out at once, as dockerd does, so that a client
// knows its wait is registered before it starts the container.
func (s *Server) containerWait(ctx *fasthttp.RequestCtx) {
	id, cond := param(ctx, "id"), query(ctx, "condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		writeErr(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("invalid condition: %q (expected not-running, next-exit or removed)", cond))
		return
	}
	if _, err := s.eng.InspectContainer(id); err != nil {
		writeError(ctx, err)
		return
	}
	eng, dctx := s.eng, s.ctx
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		// The headers must reach the client now (it starts the container once they
		// have), and fasthttp sends them with the first chunk: a space, which JSON
		// decoders skip.
		w.WriteByte(' ')
		w.Flush()
		res, err := eng.WaitContainer(dctx, id, cond)
		out := container.WaitResponse{StatusCode: -1}
		switch {
		case err != nil:
			out.Error = &container.WaitExitError{Message: errdefs.Message(err)}
		default:
			out.StatusCode = int64(res.ExitCode)
			if res.Error != "" {
				out.Error = &container.WaitExitError{Message: res.Error}
			}
		}
		json.NewEncoder(w).Encode(out)
		w.Flush()
	})
}

func (s *Server) containerPrune(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	listed, _ := s.eng.ListContainers(ctrlist.Filter{})
	out := container.PruneReport{ContainersDeleted: []string{}}
	for i := range listed {
		l := &listed[i]
		if l.Status != "exited" && l.Status != "created" {
			continue
		}
		if !dockerconv.MatchContainer(l, map[string][]string{"label": f["label"]}) {
			continue
		}
		if until := f["until"]; len(until) > 0 {
			t, err := clienttime.Parse(until[0], time.Now())
			if err != nil {
				writeError(ctx, err)
				return
			}
			if !l.CreatedAt.Before(t) {
				continue
			}
		}
		if err := s.eng.RemoveContainer(s.ctx, l.ID, false, false); err == nil {
			out.ContainersDeleted = append(out.ContainersDeleted, l.ID)
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}
