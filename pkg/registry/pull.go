package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxManifest bounds a manifest or index read into memory (the distribution spec's 4 MiB).
const maxManifest = 4 << 20

// Pull fetches ref (resolving an index to platform) into store and names it ref's
// normalised form. Layers already stored are not fetched again. progress may be nil.
func (c *Client) Pull(ctx context.Context, store *image.Store, ref string, platform ocispec.Platform, a *Auth, progress func(Progress)) (*image.Image, error) {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	defer store.Begin()()
	nref, err := reference(r)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %v: %w", ref, err, errdefs.ErrInvalid)
	}
	opts := c.options(ctx, a)
	desc, err := remote.Get(nref, opts...)
	if err != nil {
		return nil, classify(r.String(), err)
	}
	raw, mt := desc.Manifest, string(desc.MediaType)
	top := digest.FromBytes(raw)
	if r.Digest != "" && top != r.Digest {
		return nil, fmt.Errorf("%s: registry sent a manifest with digest %s: %w", r, top, errdefs.ErrInvalid)
	}
	var repoDigest digest.Digest
	if oci.IsIndex(mt) {
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, fmt.Errorf("%s: index: %v: %w", r, err, errdefs.ErrInvalid)
		}
		m, err := image.MatchManifest(idx.Manifests, platform)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
		// Keep the index too: its digest is what `name@sha256:` users copy from registries.
		if _, err := store.PutBlob(ctx, raw); err != nil {
			return nil, err
		}
		repoDigest = top
		md, err := remote.Get(nref.Context().Digest(m.Digest.String()), opts...)
		if err != nil {
			return nil, classify(r.String(), err)
		}
		raw, mt = md.Manifest, string(md.MediaType)
		if got := digest.FromBytes(raw); got != m.Digest {
			return nil, fmt.Errorf("%s: manifest digest %s, index says %s: %w", r, got, m.Digest, errdefs.ErrInvalid)
		}
	}
	if !oci.IsManifest(mt) {
		return nil, fmt.Errorf("%s: unsupported manifest type %q: %w", r, mt, errdefs.ErrInvalid)
	}
	if len(raw) > maxManifest {
		return nil, fmt.Errorf("%s: manifest larger than 4 MiB: %w", r, errdefs.ErrTooLarge)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest: %v: %w", r, err, errdefs.ErrInvalid)
	}
	blobs := append([]ocispec.Descriptor{m.Config}, m.Layers...)
	fresh, err := c.fetchBlobs(ctx, store, nref.Context(), r.String(), blobs, opts, progress)
	if err != nil {
		return nil, err
	}
	if _, err := store.PutManifest(ctx, r.String(), mt, raw, repoDigest); err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if fresh[l.Digest] {
			store.LayerLanded(l)
		}
	}
	return store.Resolve(r.String())
}

// fetchBlobs downloads the blobs not yet stored, Parallel at a time, and returns which
// ones it stored.
func (c *Client) fetchBlobs(ctx context.Context, store *image.Store, repo name.Repository, ref string, blobs []ocispec.Descriptor, opts []remote.Option, progress func(Progress)) (map[digest.Digest]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		fresh = map[digest.Digest]bool{}
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, max(1, c.Parallel))
		seen  = map[digest.Digest]bool{}
	)
	report := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		progress(p)
	}
	for i, b := range blobs {
		if seen[b.Digest] {
			continue
		}
		seen[b.Digest] = true
		short := b.Digest.Encoded()
		if len(short) > 12 {
			short = short[:12]
		}
		isLayer := i > 0
		if store.Content().Exists(b.Digest) {
			if isLayer {
				report(Progress{Ref: ref, Status: "exists", Layer: short, Current: b.Size, Total: b.Size})
			}
			continue
		}
		if isLayer {
			report(Progress{Ref: ref, Status: "waiting", Layer: short, Total: b.Size})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			var onBytes func(int64)
			if isLayer {
				onBytes = throttle(func(n int64) {
					report(Progress{Ref: ref, Status: "downloading", Layer: short, Current: n, Total: b.Size})
				})
			}
			err := c.fetchBlob(ctx, store, repo, b, opts, onBytes, func(attempt int, err error) {
				c.log.Warn("blob download failed, retrying", "ref", ref, "blob", short, "attempt", attempt, "err", err)
				if isLayer {
					report(Progress{Ref: ref, Status: "retrying", Layer: short, Total: b.Size})
				}
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = classify(ref, fmt.Errorf("blob %s: %w", short, err))
					cancel()
				}
				return
			}
			fresh[b.Digest] = true
			if isLayer {
				progress(Progress{Ref: ref, Status: "complete", Layer: short, Current: b.Size, Total: b.Size})
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return fresh, ctx.Err()
}

// fetchBlob downloads one blob into the store, verifying digest and size, retrying
// transient failures (a broken connection mid-body included) with backoff.
func (c *Client) fetchBlob(ctx context.Context, store *image.Store, repo name.Repository, b ocispec.Descriptor, opts []remote.Option, onBytes func(int64), onRetry func(int, error)) error {
	wait := c.Backoff
	var err error
	for attempt := 1; attempt <= max(1, c.Attempts); attempt++ {
		if attempt > 1 {
			onRetry(attempt, err)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			wait *= 2
		}
		err = c.fetchOnce(ctx, store, repo, b, opts, onBytes)
		if err == nil || ctx.Err() != nil || errors.Is(err, errdefs.ErrUnauthorized) || errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrForbidden) {
			return err
		}
		if c := classify("", err); errors.Is(c, errdefs.ErrNotFound) || errors.Is(c, errdefs.ErrUnauthorized) {
			return err
		}
	}
	return err
}

func (c *Client) fetchOnce(ctx context.Context, store *image.Store, repo name.Repository, b ocispec.Descriptor, opts []remote.Option, onBytes func(int64)) error {
	l, err := remote.Layer(repo.Digest(b.Digest.String()), opts...)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if onBytes != nil {
		r = &counter{r: rc, fn: onBytes}
	}
	_, err = store.Content().IngestDescriptor(ctx, r, ocispec.Descriptor{Digest: b.Digest, Size: b.Size})
	return err
}

type counter struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.fn(c.n)
	return n, err
}

// throttle passes on at most ten updates a second.
func throttle(fn func(int64)) func(int64) {
	var last time.Time
	return func(n int64) {
		if now := time.Now(); now.Sub(last) >= 100*time.Millisecond {
			last = now
			fn(n)
		}
	}
}
