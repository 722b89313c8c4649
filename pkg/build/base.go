package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/minibox/minibox/pkg/build/graph"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func isTarball(ref string) bool {
	for _, s := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(ref, s) {
			return true
		}
	}
	return false
}

// resolveBase turns a BASE reference into a baseInfo: scratch, a rootfs tarball in the
// context, a local image, or one pulled (always with pull).
func (bld *Builder) resolveBase(ctx context.Context, req *Request, ref string, emit func(block, line string)) (*graph.Base, error) {
	start := time.Now()
	var b *graph.Base
	var err error
	switch {
	case ref == "scratch":
		b = &graph.Base{Ref: ref, Digest: "scratch"}
	case isTarball(ref) && !strings.Contains(ref, "://"):
		b, err = bld.tarballBase(ctx, req, ref, emit)
	default:
		b, err = bld.imageBase(ctx, req, ref, emit)
	}
	if err != nil {
		return nil, err
	}
	emit("base", fmt.Sprintf("%s: ready (%s)", ref, FormatDuration(time.Since(start))))
	if n := len(onBuildOf(b.Raw)); n > 0 {
		// Docker runs ONBUILD for a Dockerfile's FROM only; say so rather than drop them
		// without a word.
		emit("base", fmt.Sprintf("%s: its %d ONBUILD trigger(s) run only when a Dockerfile builds FROM it; a MiniBox BASE does not run them", ref, n))
	}
	return b, nil
}

// onBuildOf reads the ONBUILD triggers of an image config blob.
func onBuildOf(raw []byte) []string {
	if len(raw) == 0 {
		return nil
	}
	var img struct {
		Config struct {
			OnBuild []string `json:"OnBuild"`
		} `json:"config"`
	}
	json.Unmarshal(raw, &img)
	return img.Config.OnBuild
}

func (bld *Builder) imageBase(ctx context.Context, req *Request, ref string, emit func(block, line string)) (*graph.Base, error) {
	var img *image.Image
	var err error
	if !req.Pull {
		img, err = bld.Images.Resolve(ref)
		if err == nil {
			emit("base", ref+": local image "+img.ID.Encoded()[:12])
		}
	}
	if req.Pull || errors.Is(err, errdefs.ErrNotFound) {
		pull := bld.Pull
		if req.Puller != nil {
			pull = req.Puller
		}
		if pull == nil {
			return nil, fmt.Errorf("BASE %s: not a local image and this daemon cannot pull: %w", ref, errdefs.ErrNotFound)
		}
		emit("base", ref+": pulling")
		img, err = pull(ctx, ref, func(line string) { emit("base", ref+": "+line) })
	}
	if err != nil {
		return nil, fmt.Errorf("BASE %s: %w", ref, err)
	}
	dirs, err := bld.Images.LayerDirs(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("BASE %s: unpack: %w", ref, err)
	}
	b := &graph.Base{Ref: ref, Digest: img.ManifestDigest.String(), Config: img.Config,
		Layers: img.Layers, DiffIDs: img.Config.RootFS.DiffIDs, Dirs: dirs}
	if raw, err := bld.Images.Content().ReadAll(img.ID); err == nil {
		b.Raw = raw
		var c struct {
			Config struct {
				Healthcheck json.RawMessage
			} `json:"config"`
		}
		if json.Unmarshal(raw, &c) == nil && len(c.Config.Healthcheck) > 0 && string(c.Config.Healthcheck) != "null" {
			b.Health = c.Config.Healthcheck
		}
	}
	return b, nil
}

// tarballBase unpacks a rootfs tarball from the context into the layer cache (keyed by
// its content digest) and writes it as a reproducible layer.
func (bld *Builder) tarballBase(ctx context.Context, req *Request, ref string, emit func(block, line string)) (*graph.Base, error) {
	p := filepath.Join(req.Context, filepath.FromSlash(ref))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("BASE %s: %w", ref, errdefs.NotFound(fmt.Sprintf("rootfs tarball %s not found in the build context", ref)))
	}
	if real != req.Context && !strings.HasPrefix(real, req.Context+string(filepath.Separator)) {
		return nil, fmt.Errorf("BASE %s: the tarball is outside the build context: %w", ref, errdefs.ErrForbidden)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	// The layer's bytes depend on the epoch too, so the cache key does.
	kh := sha256.Sum256([]byte(sum + "@" + req.epoch.UTC().Format(time.RFC3339)))
	key := "base-" + hex.EncodeToString(kh[:])
	emit("base", fmt.Sprintf("%s: rootfs tarball sha256:%s", ref, sum[:12]))
	e := bld.lookup(key)
	epoch := req.epoch
	if e == nil {
		staging, err := os.MkdirTemp(filepath.Join(bld.Root, "tmp"), "base-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(staging)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		r, done, err := image.Decompress(f)
		if err != nil {
			return nil, fmt.Errorf("BASE %s: %w", ref, err)
		}
		defer done()
		if err := image.Extract(ctx, r, staging, image.ExtractOptions{}); err != nil {
			return nil, fmt.Errorf("BASE %s: unpack: %w", ref, err)
		}
		if e, err = bld.commit(ctx, key, staging, epoch); err != nil {
			return nil, fmt.Errorf("BASE %s: %w", ref, err)
		}
		os.Mkdir(staging, 0o700) // the deferred RemoveAll has something to remove
	} else if err := bld.ensureBlob(ctx, e, epoch); err != nil {
		return nil, err
	}
	b := &graph.Base{Ref: ref, Digest: "sha256:" + sum, Dirs: []string{e.diff()}, Built: true}
	b.Layers = []ocispec.Descriptor{e.descriptor()}
	b.DiffIDs = []digest.Digest{e.DiffID}
	return b, nil
}
