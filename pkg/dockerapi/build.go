package dockerapi

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
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
	pb, err := s.eng.PrepareTarBuild(tc, imgconv.BuildRequest(req), auth)
	if err != nil {
		tc.Close()
		writeError(ctx, err)
		return
	}
	steps := dockerconv.NewStepPrinter(pb.DockerfileSteps())
	conn := ctx.Conn()
	streamJSON(ctx, func(emit func(any) error) {
		defer tc.Close()
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		say := func(line string) error { return emit(buildMessage{Message: jsonstream.Message{Stream: line}}) }
		res, err := s.eng.Build(opCtx, pb, func(ev build.Event) error {
			if quiet {
				return nil
			}
			return steps.Event(imgconv.BuildEvent(ev), say)
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
		steps.Rest(say)
		say("Successfully built " + dockerconv.ShortID(res.ID) + "\n")
		for _, t := range res.Tags {
			say("Successfully tagged " + oci.Familiar(t) + "\n")
		}
	})
}
