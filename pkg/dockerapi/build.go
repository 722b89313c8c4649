package dockerapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// buildMessage is one line of Docker's build stream. The legacy "error" string beside
// errorDetail is what older clients (docker-py, compose 1.x) look for.
type buildMessage struct {
	jsonstream.Message
	ErrorMessage string `json:"error,omitempty"`
}

// buildRequestOf reads POST /build's query: the tags, the Dockerfile's name in the
// context, build args, labels, target, platform, nocache, pull and q. Options the
// classic builder has and minibox's builder cannot honour are a 400 naming the
// parameter when set to anything but their default.
func buildRequestOf(ctx *fasthttp.RequestCtx) (api.BuildRequest, bool, error) {
	req := api.BuildRequest{File: query(ctx, "dockerfile"), Target: query(ctx, "target"), Platform: query(ctx, "platform"),
		NoCache: queryBool(ctx, "nocache"), Pull: queryBool(ctx, "pull")}
	quiet := queryBool(ctx, "q")
	bad := func(format string, args ...any) (api.BuildRequest, bool, error) {
		return api.BuildRequest{}, false, errdefs.Invalid(fmt.Sprintf(format, args...))
	}
	for _, t := range ctx.QueryArgs().PeekMulti("t") {
		ref, err := oci.ParseNormalized(string(t))
		if err != nil {
			return bad("query parameter t: %q is not an image name: %s", t, errdefs.Message(err))
		}
		req.Tags = append(req.Tags, ref.String())
	}
	if v := query(ctx, "buildargs"); v != "" && v != "null" {
		var m map[string]*string
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return bad("query parameter buildargs: expected a JSON object of strings: %v", err)
		}
		for k, val := range m {
			// A null value (--build-arg NAME with NAME unset on the client) leaves the
			// ARG's default, as dockerd does.
			if val != nil {
				if req.BuildArgs == nil {
					req.BuildArgs = map[string]string{}
				}
				req.BuildArgs[k] = *val
			}
		}
	}
	if v := query(ctx, "labels"); v != "" && v != "null" {
		if err := json.Unmarshal([]byte(v), &req.Labels); err != nil {
			return bad("query parameter labels: expected a JSON object of strings: %v", err)
		}
	}
	if err := refuseUnsupportedBuildOptions(ctx); err != nil {
		return api.BuildRequest{}, false, err
	}
	return req, quiet, nil
}

// refuseUnsupportedBuildOptions is a 400 naming the first of POST /build's parameters
// that is set to anything but its default and that minibox's builder cannot honour.
func refuseUnsupportedBuildOptions(ctx *fasthttp.RequestCtx) error {
	invalid := func(format string, args ...any) error { return errdefs.Invalid(fmt.Sprintf(format, args...)) }
	switch {
	case query(ctx, "remote") != "":
		return invalid("query parameter remote: building from a URL is not supported by minibox; send the context as a tar")
	case query(ctx, "version") == "2":
		return invalid("query parameter version: BuildKit sessions are not supported by minibox (Builder-Version 1); unset DOCKER_BUILDKIT or set it to 0")
	case query(ctx, "outputs") != "" && query(ctx, "outputs") != "null" && query(ctx, "outputs") != "[]":
		return invalid("query parameter outputs: build outputs other than an image are not supported by minibox")
	case queryBool(ctx, "squash"):
		return invalid("query parameter squash: not supported by minibox")
	}
	if m := query(ctx, "networkmode"); m != "" && m != "default" {
		return invalid("query parameter networkmode: %s is not supported by minibox's builder (default only)", m)
	}
	for _, p := range []string{"memory", "memswap", "cpushares", "cpuperiod", "cpuquota", "shmsize"} {
		if v := query(ctx, p); v != "" && v != "0" {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return invalid("query parameter %s: %q is not an integer", p, v)
			}
			return invalid("query parameter %s: resource limits of build steps are not supported by minibox", p)
		}
	}
	for _, p := range []string{"cpusetcpus", "cpusetmems", "cgroupparent", "extrahosts"} {
		if v := query(ctx, p); v != "" {
			return invalid("query parameter %s: not supported by minibox's builder", p)
		}
	}
	if v := query(ctx, "ulimits"); v != "" && v != "null" && v != "[]" {
		return invalid("query parameter ulimits: ulimits of build steps are not supported by minibox")
	}
	if v := query(ctx, "isolation"); v != "" && v != "default" {
		return invalid("query parameter isolation: %s is not supported by minibox", v)
	}
	return nil
}

// build is POST /build: the body is the context as a tar, unpacked into the data root's
// tmp/ and built by the engine's builder; the answer streams Docker's JSON messages
// ({"stream"}, {"aux":{"ID"}}, {"errorDetail"}).
func (s *Server) build(ctx *fasthttp.RequestCtx) {
	req, quiet, err := buildRequestOf(ctx)
	var auth map[string]registry.Auth
	if err == nil {
		auth, err = registry.DecodeConfigHeader(string(ctx.Request.Header.Peek("X-Registry-Config")))
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	tc, err := s.eng.UnpackBuildContext(s.ctx, bodyReader(ctx))
	if err != nil {
		writeError(ctx, err)
		return
	}
	pb, err := s.eng.PrepareTarBuild(tc, req, auth)
	if err != nil {
		tc.Close()
		writeError(ctx, err)
		return
	}
	steps := newStepPrinter(pb.DockerfileSteps())
	conn := ctx.Conn()
	streamJSON(ctx, func(emit func(any) error) {
		defer tc.Close()
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		say := func(line string) error { return emit(buildMessage{Message: jsonstream.Message{Stream: line}}) }
		res, err := s.eng.Build(opCtx, pb, func(v any) error {
			ev, ok := v.(api.BuildEvent)
			if !ok || quiet {
				return nil
			}
			return steps.event(ev, say)
		})
		if err != nil {
			msg := errdefs.Message(err)
			emit(buildMessage{Message: jsonstream.Message{Error: &jsonstream.Error{Message: msg}}, ErrorMessage: msg})
			return
		}
		aux := json.RawMessage(fmt.Sprintf(`{"ID":%q}`, res.ID))
		emit(buildMessage{Message: jsonstream.Message{Aux: &aux}})
		if quiet {
			say(res.ID + "\n")
			return
		}
		steps.rest(say)
		say("Successfully built " + shortID(res.ID) + "\n")
		for _, t := range res.Tags {
			say("Successfully tagged " + oci.Familiar(t) + "\n")
		}
	})
}

// shortID is the 12 hex digits of an image ID, as "Successfully built" shows it.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
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
	// Blocks that started and whose naming line ("file:line:col: instruction") is due.
	naming map[string]bool
}

// isStepName reports the builder's line naming a step: "file:line:col: instruction".
func isStepName(line string) bool {
	pos, _, ok := strings.Cut(line, ": ")
	if !ok {
		return false
	}
	parts := strings.Split(pos, ":")
	if len(parts) < 3 {
		return false
	}
	for _, n := range parts[len(parts)-2:] {
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return false
		}
	}
	return true
}

func newStepPrinter(steps []engine.BuildStep) *stepPrinter {
	p := &stepPrinter{steps: steps, printed: make([]bool, len(steps)), byBlock: map[string]int{}, skip: map[string]string{}, naming: map[string]bool{}}
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
		if p.naming[ev.Block] && isStepName(line) {
			// The builder names the step ("Dockerfile:3:1: RUN ..."): the Step line did.
			delete(p.naming, ev.Block)
			return nil
		}
		return text(line + "\n")
	case ev.State == api.BlockStart:
		p.skip[ev.Block] = "START "
		p.naming[ev.Block] = true
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
