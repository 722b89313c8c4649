package server

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/valyala/fasthttp"
)

func (s *Server) containerStats(ctx *fasthttp.RequestCtx) {
	ids := queryStrings(ctx, "id")
	stream := queryBool(ctx, "stream")
	single := len(ids) == 1
	first, err := s.eng.Stats(s.daemonCtx(), ids)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if !stream {
		if single {
			writeJSON(ctx, fasthttp.StatusOK, ctrview.Stats(&first[0]))
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, statsOf(first))
		return
	}
	eng, done, dctx := s.eng, s.shutdown, s.daemonCtx()
	ctx.SetContentType("application/x-ndjson")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		cur := first
		for {
			var v any = statsOf(cur)
			if single && len(cur) == 1 {
				v = ctrview.Stats(&cur[0])
			}
			if enc.Encode(v) != nil || w.Flush() != nil {
				return
			}
			select {
			case <-time.After(time.Second):
			case <-done:
				return
			}
			next, err := eng.Stats(dctx, ids)
			if err != nil {
				enc.Encode(errorBody(err))
				w.Flush()
				return
			}
			cur = next
		}
	})
}

func statsOf(in []ctrio.Stats) []api.Stats {
	out := make([]api.Stats, len(in))
	for i := range in {
		out[i] = ctrview.Stats(&in[i])
	}
	return out
}

func (s *Server) archiveGet(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	var path string
	if err == nil {
		path, err = requireQuery(ctx, "path")
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	st, err := s.files.StatPath(s.daemonCtx(), id, path)
	if err != nil {
		writeError(ctx, err)
		return
	}
	b, _ := json.Marshal(st)
	ctx.Response.Header.Set("X-Minibox-Path-Stat", base64.StdEncoding.EncodeToString(b))
	if queryBool(ctx, "stat") {
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	follow := queryBool(ctx, "follow")
	ctx.SetContentType("application/x-tar")
	files, dctx := s.files, s.daemonCtx()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(files.ArchivePath(dctx, id, path, follow, pw)) }()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer pr.Close()
		io.Copy(w, pr)
		w.Flush()
	})
}

func (s *Server) archivePut(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	var path string
	if err == nil {
		path, err = requireQuery(ctx, "path")
	}
	if err == nil {
		err = s.files.ExtractArchive(s.daemonCtx(), id, path, bodyReader(ctx))
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
