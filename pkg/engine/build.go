package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/shimclient"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// buildArea is the builder: MiniBox files to images, with the block cache in layers/.
type buildArea struct {
	Builder *build.Builder
}

func (e *Engine) openBuild() error {
	log := e.Log.With("area", "build")
	b, err := build.New(e.Root, e.Images, shimclient.RunOnce, nil, log)
	if err != nil {
		return err
	}
	b.Workers = e.Cfg.BuildWorkers
	b.HoldKey = func(key string) (func(), error) { return prune.HoldLayer(e.Root, key) }
	b.HoldCacheMount = func(name string) (func(), error) { return prune.HoldCacheMount(e.Root, name) }
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

// maxBuildFile is the largest MiniBox file the daemon reads from a context (the most a
// build request may carry inline).
const maxBuildFile = 64 << 20

// maxSecret is the largest build secret (BuildKit's limit).
const maxSecret = 500 << 10

// PrepareBuild validates a build request: the context a directory outside the data root
// and under MINIBOX_BUILD_PREFIXES, the MiniBox content sent or read from a regular file
// inside the context, and parseable.
func (e *Engine) PrepareBuild(r api.BuildRequest, auth map[string]registry.Auth) (*PreparedBuild, error) {
	ctxPath := r.ContextPath
	if ctxPath == "" {
		ctxPath = r.Context
	}
	if ctxPath == "" {
		return nil, errdefs.Invalid("context_path is required: an absolute directory on the daemon's host")
	}
	dirfd, dir, err := e.openBuildContext(ctxPath)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	return prepareBuildIn(dirfd, ctxPath, dir, r, auth)
}

// prepareBuildIn reads and checks the build file of the context dirfd (named given by
// the caller, dir by the kernel) and the rest of the request.
func prepareBuildIn(dirfd int, ctxPath, dir string, r api.BuildRequest, auth map[string]registry.Auth) (*PreparedBuild, error) {
	var err error
	content := []byte(r.MiniBox)
	name := r.File
	if name == "" && len(strings.TrimSpace(r.MiniBox)) == 0 {
		// Docker's order after minibox's own: MiniBox, then Dockerfile, then Containerfile.
		name = "MiniBox"
		for _, n := range []string{"MiniBox", "Dockerfile", "Containerfile"} {
			var st unix.Stat_t
			if unix.Fstatat(dirfd, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
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
		if content, err = readBuildFile(dirfd, ctxPath, dir, name); err != nil {
			return nil, err
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
	for id, v := range r.Secrets {
		if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
			return nil, errdefs.Invalid(fmt.Sprintf("secrets: id %q: expected a name without /", id))
		}
		if len(v) > maxSecret {
			return nil, errdefs.Invalid(fmt.Sprintf("secrets: %s is larger than %d KiB", id, maxSecret>>10))
		}
	}
	tags := append([]string(nil), r.Tags...)
	if r.Image != "" && !contains(tags, r.Image) {
		tags = append([]string{r.Image}, tags...)
	}
	return &PreparedBuild{auth: auth, req: build.Request{
		File: content, FileName: filepath.Base(name), Context: dir, Tags: tags,
		NoCache: r.NoCache, Pull: r.Pull, Target: r.Target, BuildArgs: r.BuildArgs,
		Dockerfile: docker, Labels: r.Labels, Platform: r.Platform, Secrets: r.Secrets,
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

// openBuildContext opens the context directory (O_PATH) and checks where it lies; it
// returns the fd and the kernel's name for it.
func (e *Engine) openBuildContext(p string) (int, string, error) {
	if err := hostpath.Check("context_path", p); err != nil {
		return -1, "", err
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return -1, "", errdefs.Invalid(fmt.Sprintf("build context %s is not a directory on the daemon's host", p))
		}
		return -1, "", hostpath.OpenError("context_path", p, err)
	}
	dir, err := hostpath.FDPath(fd)
	if err == nil {
		err = e.hostPaths().PlaceDir("context_path", p, fd)
	}
	if err != nil {
		unix.Close(fd)
		return -1, "", err
	}
	return fd, dir, nil
}

// readBuildFile reads the MiniBox file name from the context dirfd: relative to the
// context, or absolute naming a file in it (as given or by its resolved name). The
// kernel resolves it beneath the context (openat2 RESOLVE_BENEATH), so neither "..", an
// absolute path elsewhere nor a symlink leading out reads a host file: 403.
func readBuildFile(dirfd int, given, real, name string) ([]byte, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, errdefs.Invalid("file contains a NUL byte")
	}
	rel := name
	if filepath.IsAbs(name) {
		rel = ""
		for _, base := range []string{filepath.Clean(given), real} {
			if r, err := filepath.Rel(base, filepath.Clean(name)); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
				rel = r
				break
			}
		}
		if rel == "" {
			return nil, errdefs.Forbidden(fmt.Sprintf("file %s lies outside the build context %s", name, given))
		}
	}
	fd, err := unix.Openat2(dirfd, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case errors.Is(err, unix.EXDEV):
		return nil, errdefs.Forbidden(fmt.Sprintf("file %s lies outside the build context %s", name, given))
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return nil, errdefs.Invalid(fmt.Sprintf("MiniBox content is required (none sent and %s is missing or empty)", name))
	case err != nil:
		return nil, errdefs.Invalid(fmt.Sprintf("file %s: %v", name, err))
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errdefs.Invalid(fmt.Sprintf("file %s is a %s, not a MiniBox file", name, hostpath.KindName(st.Mode)))
	}
	if st.Size > maxBuildFile {
		return nil, errdefs.Invalid(fmt.Sprintf("file %s is larger than %d MiB", name, maxBuildFile>>20))
	}
	// The magic link reopens the very regular file checked above.
	f, err := os.Open("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil, errdefs.Invalid(fmt.Sprintf("file %s: %v", name, err))
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, maxBuildFile))
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(content))) == 0 {
		return nil, errdefs.Invalid(fmt.Sprintf("MiniBox content is required (none sent and %s is missing or empty)", name))
	}
	return content, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
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
		out := api.BuildEvent{Block: ev.Block, State: ev.State, Title: ev.Title}
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

// BuildStep is one instruction of a Dockerfile build, for an edge that shows Docker's
// classic "Step 2/5 : RUN ..." lines: its text, its stage (-1 before the first FROM)
// and the block of the build's events it becomes ("" when it only sets the config).
type BuildStep struct {
	Text  string
	Stage int
	Block string
}

// DockerfileSteps is the build's Dockerfile as steps; nil for a MiniBox file.
func (pb *PreparedBuild) DockerfileSteps() []BuildStep {
	if !pb.req.Dockerfile {
		return nil
	}
	steps, err := build.DockerfileSteps(pb.req.FileName, pb.req.File)
	if err != nil {
		return nil
	}
	out := make([]BuildStep, len(steps))
	for i, s := range steps {
		out[i] = BuildStep{Text: s.Text, Stage: s.Stage, Block: s.Block}
	}
	return out
}
