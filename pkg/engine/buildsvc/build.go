// Package buildsvc is the daemon's build service: a build request checked at its edge
// (the context a directory of the daemon's host outside the data root and under
// MINIBOX_BUILD_PREFIXES, or a tar it unpacks; the build file read beneath the context),
// then run by pkg/build into the image store. It speaks its own types and pkg/build's:
// the API edges convert.
package buildsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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

// Config is what the build service reads of the daemon's configuration.
type Config struct {
	Root          string   // the data root
	Workers       int      // blocks built at the same time (0: the builder's default)
	BuildPrefixes []string // allowed roots of build contexts; nil: any path
	MaxImportSize int64    // bytes a context sent as a tar may hold once unpacked (0: no limit)
}

// PullProgress is one step of a base image's pull: a layer's new status, or Done with
// the pulled image's digest.
type PullProgress struct {
	Layer  string
	Status string
	Done   bool
	Digest string
}

// Deps are the build service's collaborators.
type Deps struct {
	Log   *slog.Logger
	Store *image.Store // where built images and their layers land
	// Pull pulls a base image for this host's platform (the image service's pull).
	Pull func(ctx context.Context, ref string, auth *registry.Auth, progress func(PullProgress)) (*image.Image, error)
	// IndexLayer, when set, indexes each new layer as it lands, so lazy serving never
	// waits for it.
	IndexLayer func(ocispec.Descriptor) error
}

// Service runs builds: MiniBox files and Dockerfiles to images, with the block cache in
// layers/.
type Service struct {
	cfg     Config
	log     *slog.Logger
	store   *image.Store
	pull    func(ctx context.Context, ref string, auth *registry.Auth, progress func(PullProgress)) (*image.Image, error)
	places  hostpath.Policy
	builder *build.Builder
}

// New opens the builder on cfg.Root (whose skeleton exists).
func New(cfg Config, d Deps) (*Service, error) {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("area", "build")
	b, err := build.New(cfg.Root, d.Store, shimclient.RunOnce, nil, log)
	if err != nil {
		return nil, err
	}
	b.Workers = cfg.Workers
	b.HoldKey = func(key string) (func(), error) { return prune.HoldLayer(cfg.Root, key) }
	b.HoldCacheMount = func(name string) (func(), error) { return prune.HoldCacheMount(cfg.Root, name) }
	if d.IndexLayer != nil {
		b.OnLayer = func(desc ocispec.Descriptor) {
			if err := d.IndexLayer(desc); err != nil {
				log.Warn("index built layer", "layer", desc.Digest.String(), "err", err)
			}
		}
	}
	if cfg.BuildPrefixes == nil {
		log.Info("MINIBOX_BUILD_PREFIXES is unset: builds may use any context path on this host")
	}
	return &Service{cfg: cfg, log: log, store: d.Store, pull: d.Pull, builder: b,
		places: hostpath.New(cfg.Root, cfg.BuildPrefixes)}, nil
}

// Request is a build as its caller asks for it. Image (the original's key) and Tags name
// the result; Content is the build file's content, else the daemon reads File in the
// context (by default MiniBox, else Dockerfile, else Containerfile); ContextPath is an
// absolute directory on the daemon's host.
type Request struct {
	ContextPath string
	Content     string
	File        string
	// Dockerfile: the file is a Dockerfile (or Containerfile); otherwise its name decides
	// (Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*), and a MiniBox file is read.
	Dockerfile bool
	Image      string
	Tags       []string
	NoCache    bool
	Pull       bool
	Target     string
	BuildArgs  map[string]string
	Labels     map[string]string // added to the image's labels
	Platform   string            // only the daemon's own is built
	// Secrets are what RUN --mount=type=secret,id=<id> reads: by id, the content. They
	// reach neither the image nor the cache key.
	Secrets map[string][]byte
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
func (s *Service) PrepareBuild(r Request, auth map[string]registry.Auth) (*PreparedBuild, error) {
	ctxPath := r.ContextPath
	if ctxPath == "" {
		return nil, errdefs.Invalid("context_path is required: an absolute directory on the daemon's host")
	}
	dirfd, dir, err := s.openBuildContext(ctxPath)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	return prepareBuildIn(dirfd, ctxPath, dir, r, auth)
}

// prepareBuildIn reads and checks the build file of the context dirfd (named given by
// the caller, dir by the kernel) and the rest of the request.
func prepareBuildIn(dirfd int, ctxPath, dir string, r Request, auth map[string]registry.Auth) (*PreparedBuild, error) {
	var err error
	content := []byte(r.Content)
	name := r.File
	if name == "" && len(strings.TrimSpace(r.Content)) == 0 {
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
	if len(strings.TrimSpace(r.Content)) == 0 {
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
	if r.Image != "" && !slices.Contains(tags, r.Image) {
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
func (s *Service) openBuildContext(p string) (int, string, error) {
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
		err = s.places.PlaceDir("context_path", p, fd)
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

// Build runs a prepared build, sending each event to emit; a failing emit (the client
// went away) cancels the build. A failed block is a *build.BlockError.
func (s *Service) Build(ctx context.Context, pb *PreparedBuild, emit func(build.Event) error) (*build.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := s.store.Begin()
	defer done()
	req := pb.req
	req.Puller = func(ctx context.Context, ref string, progress func(string)) (*image.Image, error) {
		var auth *registry.Auth
		if host := registryHost(ref); host != "" && pb.auth != nil {
			auth = registry.ForRegistry(pb.auth, host)
		}
		last := map[string]string{}
		return s.pull(ctx, ref, auth, func(ev PullProgress) {
			// One line per layer state change, not per byte count.
			if ev.Layer != "" && last[ev.Layer] == ev.Status {
				return
			}
			last[ev.Layer] = ev.Status
			switch {
			case ev.Done:
				progress("pulled " + ev.Digest)
			case ev.Layer != "":
				progress(short12(ev.Layer) + " " + ev.Status)
			}
		})
	}
	failed := false
	send := func(ev build.Event) {
		if failed {
			return
		}
		if err := emit(ev); err != nil {
			failed = true
			cancel() // the client is gone: stop the build
		}
	}
	start := time.Now()
	res, err := s.builder.Build(ctx, req, send)
	if err != nil {
		s.log.Info("build failed", "tags", strings.Join(req.Tags, ","), "err", err)
		return nil, err
	}
	s.log.Info("image built", "tags", strings.Join(req.Tags, ","), "digest", res.Digest, "duration", time.Since(start).Round(time.Millisecond))
	return res, nil
}

func registryHost(ref string) string {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return ""
	}
	return r.Domain
}

// short12 is an ID or digest as shown: 12 hex characters, without "sha256:".
func short12(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

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
