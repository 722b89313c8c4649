package imagesvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/toc"
)

// openLazy hooks indexing into the image store and starts the start-up work in the
// background.
func (s *Service) openLazy() {
	s.lazy = &lazyfs.Client{Paths: lazyfs.Paths{Root: s.cfg.Root}, Command: s.lazyCommand}
	s.startup = make(chan struct{})
	prev := s.store.OnLayer
	s.store.OnLayer = func(d ocispec.Descriptor) {
		if prev != nil {
			prev(d)
		}
		// Unpacked now, beside its indexing, unless containers start lazily by default:
		// the first run then only mounts, as Docker's and Podman's do after a pull or
		// load. (An import has unpacked its layer already.) Failures are not the pull's:
		// the first run unpacks again and says why.
		var unpacked chan struct{}
		if !s.cfg.Lazy {
			unpacked = make(chan struct{})
			go func() {
				defer close(unpacked)
				if _, err := s.store.Unpack(context.Background(), d); err != nil {
					s.log.Warn("layer not unpacked", "layer", short(d.Digest), "err", err)
				}
			}()
		}
		// Indexing failures are not the pull's: the layer is then unpacked, not lazy.
		if err := s.IndexLayer(d); err != nil {
			s.log.Warn("layer not indexed; it will be unpacked instead of served lazily", "layer", short(d.Digest), "err", err)
		}
		if unpacked != nil {
			<-unpacked
		}
	}
	go func() {
		defer close(s.startup)
		s.detachStale()
		if s.cfg.IndexOnStartup {
			s.indexAll(context.Background())
		}
	}()
}

// detachStale detaches lazy mounts whose server died (ENOTCONN); the layer is mounted
// again by a new server when next needed.
func (s *Service) detachStale() {
	ents, _ := os.ReadDir(filepath.Join(s.cfg.Root, "lazy"))
	for _, ent := range ents {
		d := digest.NewDigestFromEncoded(digest.SHA256, ent.Name())
		if d.Validate() != nil {
			continue
		}
		dir := s.lazy.Paths.Mount(d)
		if lazyfs.Stale(dir) {
			if err := lazyfs.Detach(dir); err != nil {
				s.log.Warn("detach stale lazy mount", "dir", dir, "err", err)
			} else {
				s.log.Info("stale lazy mount detached", "layer", short(d))
			}
		}
	}
}

// indexAll indexes every layer of every image that has no index yet.
func (s *Service) indexAll(ctx context.Context) {
	imgs, err := s.store.List()
	if err != nil {
		s.log.Warn("background indexing: list images", "err", err)
		return
	}
	start, n := time.Now(), 0
	for _, img := range imgs {
		for _, l := range img.Layers {
			if ctx.Err() != nil {
				return
			}
			if _, err := os.Stat(toc.Path(s.blobPath(l.Digest))); err == nil {
				continue
			}
			if err := s.IndexLayer(l); err != nil {
				s.log.Warn("background indexing", "layer", short(l.Digest), "err", err)
				continue
			}
			n++
		}
	}
	if n > 0 {
		s.log.Info("layers indexed", "count", n, "duration", time.Since(start).Round(time.Millisecond))
	}
}

func (s *Service) blobPath(d digest.Digest) string {
	return filepath.Join(s.cfg.Root, "blobs", "sha256", d.Encoded())
}

// IndexLayer writes blobs/sha256/<hex>.index.json for a layer blob already in the store,
// once however many callers ask at the same time; an existing index is kept. The builder
// calls it at finalize (when MINIBOX_INDEX_LAYERS is on), the image store's OnLayer hook
// after pull, load and import.
func (s *Service) IndexLayer(desc ocispec.Descriptor) error {
	_, err := s.layerIndex(desc.Digest)
	return err
}

// layerIndex returns a layer's index, building it first if missing (deferred indexing).
func (s *Service) layerIndex(d digest.Digest) (*toc.Index, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("layer %q: %v: %w", d, err, errdefs.ErrInvalid)
	}
	p := toc.Path(s.blobPath(d))
	if x, err := toc.Read(p); err == nil {
		return x, nil
	}
	v, err, _ := s.indexing.Do(d.String(), func() (any, error) {
		if x, err := toc.Read(p); err == nil {
			return x, nil
		}
		start := time.Now()
		x, err := toc.BuildFile(s.blobPath(d), d)
		if err != nil {
			return nil, err
		}
		if err := toc.Write(p, x); err != nil {
			return nil, err
		}
		s.log.Debug("layer indexed", "layer", short(d), "entries", len(x.Entries), "seekable", x.Seekable,
			"duration", time.Since(start).Round(time.Millisecond))
		return x, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*toc.Index), nil
}

// LazyLayerDirs returns img's layer directories top first, as overlay's lowerdir wants:
// lazy/<hex> FUSE mounts for layers that can be served in place, extracted/<hex> for the
// rest (zstd, or large single-member gzip layers from elsewhere).
func (s *Service) LazyLayerDirs(ctx context.Context, img *image.Image) ([]string, error) {
	dirs := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		dir, err := s.LazyLayerDir(ctx, l)
		if err != nil {
			return nil, err
		}
		dirs[len(dirs)-1-i] = dir
	}
	return dirs, nil
}

// LazyWarnings says which of img's layers --lazy cannot serve in place, and why: they are
// unpacked instead (the start would otherwise fall back without a word).
func (s *Service) LazyWarnings(img *image.Image) []string {
	var ws []string
	for _, l := range img.Layers {
		x, err := s.layerIndex(l.Digest)
		switch {
		case err != nil:
			ws = append(ws, fmt.Sprintf("--lazy: layer %s cannot be served lazily (%v); it is unpacked instead", short(l.Digest), err))
		case !x.Seekable:
			ws = append(ws, fmt.Sprintf("--lazy: layer %s cannot be served lazily (%s, %d MB, with no place to start reading near each file); it is unpacked instead",
				short(l.Digest), x.Compression, x.BlobSize>>20))
		}
	}
	return ws
}

// LazyLayerDir is one layer's directory for overlay: its lazy mount when it can be
// served in place, else the layer unpacked.
func (s *Service) LazyLayerDir(ctx context.Context, l ocispec.Descriptor) (string, error) {
	x, err := s.layerIndex(l.Digest)
	if err != nil || !x.Seekable {
		if err != nil {
			s.log.Warn("layer cannot be indexed; unpacking it", "layer", short(l.Digest), "err", err)
		}
		return s.store.Unpack(ctx, l)
	}
	return s.lazy.Mount(ctx, l.Digest)
}
