package build

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/minibox/minibox/pkg/build/dockerfile"
	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/layer"
)

// CheckDockerfile parses a Dockerfile, reporting its errors as file:line (ErrInvalid).
func CheckDockerfile(name string, src []byte) error { return dockerfile.Check(name, src) }

// DockerStep is one instruction of a Dockerfile as Docker's classic builder counts them.
type DockerStep = dockerfile.Step

// DockerfileSteps lists a Dockerfile's instructions in order with their blocks.
func DockerfileSteps(name string, src []byte) ([]DockerStep, error) {
	return dockerfile.Steps(name, src)
}

// planDockerfile parses the Dockerfile, readies the context and has the Dockerfile
// frontend plan the stages the target needs.
func (bld *Builder) planDockerfile(ctx context.Context, req *Request, logf func(string, string), name string, workers int) (*dockerfile.Plan, error) {
	if req.FileName == "" {
		req.FileName = "Dockerfile"
	}
	df, err := dockerfile.Parse(req.FileName, req.File)
	if err != nil {
		return nil, err
	}
	if err := dockerfile.CheckPlatform(req.Platform); err != nil {
		return nil, err
	}
	if err := bld.prepareContext(req, req.FileName+".dockerignore"); err != nil {
		return nil, err
	}
	req.epoch = layer.DefaultEpoch
	if s, ok := req.BuildArgs["SOURCE_DATE_EPOCH"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errdefs.Invalid(fmt.Sprintf("SOURCE_DATE_EPOCH=%s: expected seconds since 1970", s))
		}
		req.epoch = time.Unix(n, 0).UTC()
	}
	dp, err := df.Plan(ctx, dockerfile.Options{BuildArgs: req.BuildArgs, Target: req.Target,
		ResolveBase: func(ctx context.Context, ref string) (*graph.Base, error) {
			return bld.imageBase(ctx, req, ref, logf)
		},
		Begin: func() { logf("build", "START image="+name) }})
	if err != nil {
		return nil, err
	}
	logf("build", fmt.Sprintf("mode=%s stages=%d blocks=%d workers=%d", parse.Dockerfile, dp.Stages, len(dp.Graph.Blocks), workers))
	return dp, nil
}
