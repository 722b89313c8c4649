package dockerapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/registry"
)

// buildMessage is one line of Docker's classic build stream: text, the image ID (aux),
// or the error (both shapes: clients read one or the other).
type buildMessage struct {
	Stream      string           `json:"stream,omitempty"`
	Aux         *json.RawMessage `json:"aux,omitempty"`
	Error       string           `json:"error,omitempty"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail,omitempty"`
}

// build is POST /build: the body is the context as a tar with the Dockerfile in it; the
// engine builds it as it builds its own, and the stream says what each step printed.
func (s *Server) build(ctx *fasthttp.RequestCtx) {
	req := api.BuildRequest{Tags: nil, File: query(ctx, "dockerfile"), Dockerfile: true, NoCache: queryBool(ctx, "nocache"),
		Pull: queryBool(ctx, "pull"), Target: query(ctx, "target"), Platform: query(ctx, "platform")}
	if req.File == "" {
		req.File = "Dockerfile"
	}
	if strings.HasPrefix(query(ctx, "remote"), "http") || strings.HasPrefix(query(ctx, "remote"), "git") {
		writeErr(ctx, fasthttp.StatusNotImplemented, "remote build contexts are not supported by minibox; send the context")
		return
	}
	for _, t := range ctx.QueryArgs().PeekMulti("t") {
		req.Tags = append(req.Tags, string(t))
	}
	if v := query(ctx, "buildargs"); v != "" {
		var args map[string]*string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			writeErr(ctx, fasthttp.StatusBadRequest, "query parameter buildargs: expected a JSON object of strings")
			return
		}
		req.BuildArgs = map[string]string{}
		for k, p := range args {
			if p != nil {
				req.BuildArgs[k] = *p
			}
		}
	}
	if v := query(ctx, "labels"); v != "" {
		if err := json.Unmarshal([]byte(v), &req.Labels); err != nil {
			writeErr(ctx, fasthttp.StatusBadRequest, "query parameter labels: expected a JSON object of strings")
			return
		}
	}
	auth, err := registry.DecodeConfigHeader(string(ctx.Request.Header.Peek("X-Registry-Config")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	pb, cleanup, err := s.eng.PrepareBuildFromArchive(s.ctx, req, auth, bodyReader(ctx))
	if err != nil {
		writeError(ctx, err)
		return
	}
	quiet := queryBool(ctx, "q")
	eng, dctx := s.eng, s.ctx
	streamJSON(ctx, func(emit func(any) error) {
		defer cleanup()
		lastBlock := ""
		res, err := eng.Build(dctx, pb, func(v any) error {
			ev, ok := v.(api.BuildEvent)
			if !ok || quiet {
				return nil
			}
			switch {
			case ev.Line != nil:
				if ev.Block != lastBlock {
					lastBlock = ev.Block
					if err := emit(buildMessage{Stream: "Step " + ev.Block + "\n"}); err != nil {
						return err
					}
				}
				return emit(buildMessage{Stream: " ---> " + strings.TrimRight(*ev.Line, "\n") + "\n"})
			case ev.State == api.BlockCached:
				return emit(buildMessage{Stream: "Step " + ev.Block + ": using cache\n"})
			}
			return nil
		})
		if err != nil {
			msg := errdefs.Message(err)
			emit(buildMessage{Error: msg, ErrorDetail: &struct {
				Message string `json:"message"`
			}{msg}})
			return
		}
		aux := json.RawMessage(fmt.Sprintf(`{"ID":%q}`, res.ID))
		emit(buildMessage{Aux: &aux})
		if quiet {
			emit(buildMessage{Stream: res.ID + "\n"})
			return
		}
		emit(buildMessage{Stream: "Successfully built " + short(res.ID) + "\n"})
		for _, t := range res.Tags {
			emit(buildMessage{Stream: "Successfully tagged " + t + "\n"})
		}
	})
}
