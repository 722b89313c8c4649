package server

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/clienttime"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/errdefs"
)

func (s *Server) containerTop(ctx *fasthttp.RequestCtx) {
	answer(ctx, "id", func(id string) (*api.Top, error) {
		t, err := s.eng.ContainerTop(id)
		if err != nil {
			return nil, err
		}
		return &api.Top{Titles: t.Titles, Processes: t.Processes}, nil
	})
}

func (s *Server) imageHistory(ctx *fasthttp.RequestCtx) {
	answer(ctx, "name", func(name string) ([]api.HistoryItem, error) {
		h, err := s.imgs.ImageHistory(name)
		if err != nil {
			return nil, err
		}
		return imgconv.History(h), nil
	})
}

func (s *Server) containerChanges(ctx *fasthttp.RequestCtx) {
	answer(ctx, "id", func(id string) ([]api.Change, error) {
		ch, err := s.eng.ContainerChanges(s.daemonCtx(), id)
		if err != nil {
			return nil, err
		}
		out := make([]api.Change, len(ch))
		for i, c := range ch {
			out[i] = api.Change{Kind: c.Kind, Path: c.Path}
		}
		return out, nil
	})
}

func (s *Server) containerExport(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	if err == nil {
		_, err = s.eng.InspectContainer(id) // a wrong ID is a 404, not a broken tar
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/x-tar")
	files, dctx := s.files, s.daemonCtx()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(files.ExportContainer(dctx, id, pw)) }()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer pr.Close()
		io.Copy(w, pr)
		w.Flush()
	})
}

func (s *Server) containerUpdate(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	var req api.UpdateRequest
	if err == nil {
		err = decodeJSON(ctx, &req)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	warnings, err := s.eng.UpdateContainer(id, engine.UpdateOptions{
		MemoryBytes: req.MemoryBytes, MemorySwap: req.MemorySwap, CPUs: req.CPUs, CPUShares: req.CPUShares,
		CPUQuota: req.CPUQuota, CPUPeriod: req.CPUPeriod, CpusetCpus: req.CpusetCpus, PidsLimit: req.PidsLimit,
		Restart: req.Restart})
	if err != nil {
		writeError(ctx, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	writeJSON(ctx, fasthttp.StatusOK, api.UpdateResult{Warnings: warnings})
}

// events streams GET /events as JSON lines: ?since=&until= (times as logs takes them),
// ?filter=key=value (repeatable).
func (s *Server) events(ctx *fasthttp.RequestCtx) {
	now := time.Now()
	since, err := clienttime.Parse(queryString(ctx, "since"), now)
	var until time.Time
	if err == nil {
		until, err = clienttime.Parse(queryString(ctx, "until"), now)
	}
	f := events.Filter{}
	for _, v := range ctx.QueryArgs().PeekMulti("filter") {
		k, val, ok := strings.Cut(string(v), "=")
		if !ok || k == "" || val == "" {
			err = errdefs.Invalid("filter " + string(v) + ": expected key=value")
			break
		}
		f[k] = append(f[k], val)
	}
	if err == nil {
		err = events.CheckFilter(f)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetContentType("application/x-ndjson")
	bus, dctx := s.bus, s.daemonCtx()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		w.Flush() // the headers now: the first event may be long in coming
		err := bus.Events(dctx, since, until, f, func(ev events.Event) error {
			if err := enc.Encode(api.Event{Type: ev.Type, Action: ev.Action, ID: ev.ID, Attributes: ev.Attributes, Time: ev.Time}); err != nil {
				return err
			}
			return w.Flush()
		})
		if err != nil {
			enc.Encode(errorBody(err))
			w.Flush()
		}
	})
}
