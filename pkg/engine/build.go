package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/container"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildArea is the builder: MiniBox files to images, with the block cache in layers/.
type buildArea struct {
	Builder *build.Builder
}

func (e *Engine) openBuild() error {
	log := e.Log.With("area", "build")
	b, err := build.New(e.Root, e.Images, container.RunOnce, nil, log)
	if err != nil {
		return err
	}
	b.Workers = e.Cfg.BuildWorkers
	b.HoldKey = func(key string) (func(), error) { return prune.HoldLayer(e.Root, key) }
	if e.Cfg.IndexLayers {
		// New layers are indexed at finalize so lazy serving never waits for it.
		b.OnLayer = func(d ocispec.Descriptor) {
			if err := e.indexLayer(d); err != nil {
				log.Warn("index built layer", "layer", d.Digest.String(), "err", err)
			}
		}
	}
	if e.Cfg.BuildPrefixes == nil {
		log.Info("MINIBOX_BUILD_PREFIXES is unset: builds may use any context path on this host")
	}
	e.Builder = b
	return nil
}

// PreparedBuild is a build request checked before its stream starts, so bad input is a
// plain 400/403 answer rather than an error line.
type PreparedBuild struct {
	req  build.Request
	auth map[string]registry.Auth
}

// PrepareBuild validates a build request: the context under MINIBOX_BUILD_PREFIXES (after
// symlinks), the MiniBox content present and parseable.
func (e *Engine) PrepareBuild(r api.BuildRequest, auth map[string]registry.Auth) (*PreparedBuild, error) {
	ctxPath := r.ContextPath
	if ctxPath == "" {
		ctxPath = r.Context
	}
	if ctxPath == "" {
		return nil, errdefs.Invalid("context_path is required: an absolute directory on the daemon's host")
	}
	dir, err := e.buildHostPath(ctxPath)
	if err != nil {
		return nil, err
	}
	content := []byte(r.MiniBox)
	name := r.File
	if name == "" && len(strings.TrimSpace(r.MiniBox)) == 0 {
		// Docker's order after minibox's own: MiniBox, then Dockerfile, then Containerfile.
		name = "MiniBox"
		for _, n := range []string{"MiniBox", "Dockerfile", "Containerfile"} {
			if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
				name = n
				break
			}
		}
	} else if name == "" {
		name = "MiniBox"
		if r.Dockerfile {
			name = "Dockerfile"
		}
	}
	docker := r.Dockerfile || IsDockerfileName(name)
	if len(strings.TrimSpace(r.MiniBox)) == 0 {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if p, err = e.buildHostPath(p); err != nil {
			return nil, err
		}
		if content, err = os.ReadFile(p); err != nil || len(strings.TrimSpace(string(content))) == 0 {
			what := "MiniBox"
			if docker {
				what = "Dockerfile"
			}
			return nil, errdefs.Invalid(fmt.Sprintf("%s content is required (none sent and %s is missing or empty)", what, name))
		}
	}
	if docker {
		if err := build.CheckDockerfile(filepath.Base(name), content); err != nil {
			return nil, err
		}
	} else if _, err := parse.Parse(filepath.Base(name), content); err != nil {
		return nil, err
	}
	for k := range r.Labels {
		if k == "" {
			return nil, errdefs.Invalid("labels: a label needs a key")
		}
	}
	tags := append([]string(nil), r.Tags...)
	if r.Image != "" && !contains(tags, r.Image) {
		tags = append([]string{r.Image}, tags...)
	}
	return &PreparedBuild{auth: auth, req: build.Request{
		File: content, FileName: filepath.Base(name), Context: dir, Tags: tags,
		NoCache: r.NoCache, Pull: r.Pull, Target: r.Target, BuildArgs: r.BuildArgs,
		Dockerfile: docker, Labels: r.Labels, Platform: r.Platform,
	}}, nil
}

// IsDockerfileName reports a file that is a Dockerfile by its name: Dockerfile,
// Containerfile, and their foo.Dockerfile or Dockerfile.foo variants.
func IsDockerfileName(name string) bool {
	b := strings.ToLower(filepath.Base(name))
	for _, n := range []string{"dockerfile", "containerfile"} {
		if b == n || strings.HasPrefix(b, n+".") || strings.HasSuffix(b, "."+n) {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// buildHostPath checks a daemon-host path for the builder: absolute, existing, symlinks
// resolved, under MINIBOX_BUILD_PREFIXES at a separator boundary (403 otherwise).
func (e *Engine) buildHostPath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", errdefs.Invalid(fmt.Sprintf("context path %q must be absolute", p))
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", errdefs.Invalid(fmt.Sprintf("build context %s does not exist on the daemon's host", p))
	}
	if e.Cfg.BuildPrefixes != nil {
		ok := false
		for _, pre := range e.Cfg.BuildPrefixes {
			if rp, err := filepath.EvalSymlinks(pre); err == nil {
				pre = rp
			}
			pre = filepath.Clean(pre)
			if real == pre || strings.HasPrefix(real, strings.TrimSuffix(pre, "/")+"/") {
				ok = true
				break
			}
		}
		if !ok {
			return "", errdefs.Forbidden(fmt.Sprintf("path %s is outside MINIBOX_BUILD_PREFIXES (%s)", p, strings.Join(e.Cfg.BuildPrefixes, ", ")))
		}
	}
	return real, nil
}

// Build runs a prepared build, sending each event (api.BuildEvent) to emit; a failing emit
// (the client went away) cancels the build. A failed block is a *build.BlockError.
func (e *Engine) Build(ctx context.Context, pb *PreparedBuild, emit func(any) error) (*api.BuildResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := e.Images.Begin()
	defer done()
	req := pb.req
	req.Puller = func(ctx context.Context, ref string, progress func(string)) (*image.Image, error) {
		var auth *registry.Auth
		if host := registryHost(ref); host != "" && pb.auth != nil {
			auth = registry.ForRegistry(pb.auth, host)
		}
		last := map[string]string{}
		return e.PullImage(ctx, ref, "", auth, func(ev api.PullEvent) error {
			// One line per layer state change, not per byte count.
			if ev.Layer != "" && last[ev.Layer] == ev.Status {
				return nil
			}
			last[ev.Layer] = ev.Status
			switch {
			case ev.Status == api.PullDone:
				progress("pulled " + ev.Digest)
			case ev.Layer != "":
				progress(shortLayer(ev.Layer) + " " + ev.Status)
			}
			return nil
		})
	}
	failed := false
	send := func(ev build.Event) {
		if failed {
			return
		}
		out := api.BuildEvent{Block: ev.Block, State: ev.State}
		if ev.State == "" {
			t := ev.Time
			line := ev.Line
			out.Time, out.Line = &t, &line
		} else if ev.State != api.BlockStart {
			d := ev.DurationMS
			out.DurationMS = &d
		}
		if err := emit(out); err != nil {
			failed = true
			cancel() // the client is gone: stop the build
		}
	}
	start := time.Now()
	res, err := e.Builder.Build(ctx, req, send)
	if err != nil {
		e.Log.Info("build failed", "tags", strings.Join(req.Tags, ","), "err", err)
		return nil, err
	}
	e.Log.Info("image built", "tags", strings.Join(req.Tags, ","), "digest", res.Digest, "duration", time.Since(start).Round(time.Millisecond))
	out := &api.BuildResult{Image: res.Image, Tags: res.Tags, Digest: res.Digest, ID: res.ID,
		CriticalPath: res.CriticalPath, DurationMS: res.DurationMS}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	for _, b := range res.Blocks {
		out.Blocks = append(out.Blocks, api.BuildBlock{Name: b.Name, State: b.State, DurationMS: b.DurationMS, Key: b.Key, Layer: b.Layer})
	}
	return out, nil
}

// BuildEnd turns a build's outcome into the stream's last line.
func BuildEnd(res *api.BuildResult, err error) api.BuildEnd {
	if err == nil {
		return api.BuildEnd{Result: res}
	}
	end := api.BuildEnd{Error: err.Error()}
	var be *build.BlockError
	if errors.As(err, &be) {
		end.Block, end.LastLines = be.Block, be.LastLines
		if end.LastLines == nil {
			end.LastLines = []string{}
		}
	}
	return end
}

func registryHost(ref string) string {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return ""
	}
	return r.Domain
}

func shortLayer(l string) string { return short12(l) }
