package registry

import (
	"context"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
)

// Push uploads the local image ref names to the registry and repository of ref, keeping
// its manifest byte for byte (so its digest is the same everywhere). It returns the
// manifest digest.
func (c *Client) Push(ctx context.Context, store *image.Store, ref string, a *Auth, progress func(Progress)) (digest.Digest, error) {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return "", err
	}
	if r.Digest != "" {
		return "", fmt.Errorf("push %s: push a tag, not a digest: %w", ref, errdefs.ErrInvalid)
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	defer store.Begin()()
	img, err := store.Resolve(r.String())
	if err != nil {
		return "", err
	}
	nref, err := reference(r)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %v: %w", ref, err, errdefs.ErrInvalid)
	}
	// The data root is an OCI layout, so go-containerregistry reads the image from it
	// directly (manifest bytes included).
	p, err := layout.FromPath(store.Root())
	if err != nil {
		return "", fmt.Errorf("open data root layout: %w", err)
	}
	h, err := v1.NewHash(img.ManifestDigest.String())
	if err != nil {
		return "", err
	}
	vimg, err := p.Image(h)
	if err != nil {
		return "", fmt.Errorf("read image %s: %w", r, err)
	}
	opts := c.options(ctx, a)
	layers, err := vimg.Layers()
	if err != nil {
		return "", err
	}
	// Layers one by one with their own progress, Parallel at a time; remote.Write then
	// sees them present and sends the config and manifest.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, max(1, c.Parallel))
	)
	report := func(p Progress) { mu.Lock(); progress(p); mu.Unlock() }
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return "", err
		}
		size, _ := l.Size()
		short := d.Hex[:12]
		report(Progress{Ref: r.String(), Status: "waiting", Layer: short, Total: size})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ch := make(chan v1.Update, 16)
			done := make(chan struct{})
			go func() {
				defer close(done)
				last := throttle(func(n int64) {
					report(Progress{Ref: r.String(), Status: "uploading", Layer: short, Current: n, Total: size})
				})
				for u := range ch {
					last(u.Complete)
				}
			}()
			err := remote.WriteLayer(nref.Context(), l, append(opts, remote.WithProgress(ch))...)
			<-done
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = classify(r.String(), fmt.Errorf("layer %s: %w", short, err))
				}
				return
			}
			progress(Progress{Ref: r.String(), Status: "complete", Layer: short, Current: size, Total: size})
		}()
	}
	wg.Wait()
	if first != nil {
		return "", first
	}
	if err := remote.Write(nref, vimg, opts...); err != nil {
		return "", classify(r.String(), err)
	}
	return img.ManifestDigest, nil
}
