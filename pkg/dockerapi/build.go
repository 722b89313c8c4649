package dockerapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
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
	steps := newStepPrinter(pb.DockerfileSteps())
	streamJSON(ctx, func(emit func(any) error) {
		defer cleanup()
		text := func(s string) error { return emit(buildMessage{Stream: s}) }
		res, err := eng.Build(dctx, pb, func(v any) error {
			ev, ok := v.(api.BuildEvent)
			if !ok || quiet {
				return nil
			}
			return steps.event(ev, text)
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
		steps.rest(text)
		emit(buildMessage{Stream: "Successfully built " + short(res.ID) + "\n"})
		for _, t := range res.Tags {
			emit(buildMessage{Stream: "Successfully tagged " + fullRef(t) + "\n"})
		}
	})
}

// stepPrinter turns the engine's build events into the classic builder's stream:
// "Step 2/5 : RUN ..." as each instruction is reached (the ones that only set the
// config with the next one that runs, or at the end), what the steps print, and
// " ---> Using cache" for a cached one. The builder's own lines (a block's start and
// end, the build's summary) are not Docker's and stay out.
type stepPrinter struct {
	steps   []engine.BuildStep
	printed []bool
	byBlock map[string]int
	// Per block, the builder line that follows a state change and is left out.
	skip map[string]string
}

func newStepPrinter(steps []engine.BuildStep) *stepPrinter {
	p := &stepPrinter{steps: steps, printed: make([]bool, len(steps)), byBlock: map[string]int{}, skip: map[string]string{}}
	for i, s := range steps {
		if s.Block != "" {
			p.byBlock[s.Block] = i
		}
	}
	return p
}

// upTo prints the steps of i's stage (and the ARGs before the first FROM) up to i.
func (p *stepPrinter) upTo(i int, text func(string) error) error {
	for j := 0; j <= i; j++ {
		if p.printed[j] || p.steps[j].Stage != p.steps[i].Stage && p.steps[j].Stage >= 0 {
			continue
		}
		p.printed[j] = true
		if err := text(fmt.Sprintf("Step %d/%d : %s\n", j+1, len(p.steps), p.steps[j].Text)); err != nil {
			return err
		}
	}
	return nil
}

// rest prints the steps not reached by a block: the config set at the end.
func (p *stepPrinter) rest(text func(string) error) {
	for i := range p.steps {
		if !p.printed[i] {
			p.upTo(i, text)
		}
	}
}

func (p *stepPrinter) event(ev api.BuildEvent, text func(string) error) error {
	if len(p.steps) == 0 { // no Dockerfile steps known: the output as it comes
		if ev.Line != nil {
			return text(*ev.Line + "\n")
		}
		return nil
	}
	i, ok := p.byBlock[ev.Block]
	if !ok {
		return nil // the build's own blocks (base, finalize, summary) or a trigger's
	}
	switch {
	case ev.Line != nil:
		line := *ev.Line
		if pre, ok := p.skip[ev.Block]; ok && strings.HasPrefix(line, pre) {
			delete(p.skip, ev.Block)
			return nil
		}
		return text(line + "\n")
	case ev.State == api.BlockStart:
		p.skip[ev.Block] = "START "
		return p.upTo(i, text)
	case ev.State == api.BlockCached:
		p.skip[ev.Block] = ev.State + " "
		if err := p.upTo(i, text); err != nil {
			return err
		}
		return text(" ---> Using cache\n")
	default: // DONE, FAILED
		p.skip[ev.Block] = ev.State + " "
	}
	return nil
}
