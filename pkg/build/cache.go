package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/layer"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MetaFile is written last into layers/<key>/: a directory without it is incomplete.
const MetaFile = "meta.json"

// cacheEntry is layers/<key>/meta.json: the layer a block produced.
type cacheEntry struct {
	Key     string        `json:"key"`
	Digest  digest.Digest `json:"digest"`
	DiffID  digest.Digest `json:"diff_id"`
	Size    int64         `json:"size"`
	Entries int           `json:"entries"`
	Created time.Time     `json:"created"`
	dir     string
}

func (e *cacheEntry) diff() string { return filepath.Join(e.dir, "diff") }

func (e *cacheEntry) descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: layer.MediaType, Digest: e.Digest, Size: e.Size}
}

func (b *Builder) cacheDir(key string) string { return filepath.Join(b.Root, "layers", key) }

// lookup returns the complete cache entry for key, or nil.
func (b *Builder) lookup(key string) *cacheEntry {
	dir := b.cacheDir(key)
	data, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Digest == "" {
		return nil
	}
	if fi, err := os.Stat(filepath.Join(dir, "diff")); err != nil || !fi.IsDir() {
		return nil
	}
	e.dir = dir
	return &e
}

// commit turns a finished upper directory into layers/<key>: the diff moves in, the layer
// blob is written to the content store, meta.json lands last, and the staged directory is
// renamed into place. A concurrent build that got there first wins; ours is dropped.
func (b *Builder) commit(ctx context.Context, key, upper string, epoch time.Time) (*cacheEntry, error) {
	staging, err := os.MkdirTemp(filepath.Join(b.Root, "tmp"), "layer-"+key[:12]+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // a no-op once renamed
	if err := os.Chmod(staging, 0o700); err != nil {
		return nil, err
	}
	diff := filepath.Join(staging, "diff")
	if err := os.Rename(upper, diff); err != nil {
		return nil, err
	}
	e := &cacheEntry{Key: key, Created: time.Now().UTC()}
	if err := b.writeBlob(ctx, diff, epoch, e); err != nil {
		return nil, err
	}
	meta, _ := json.MarshalIndent(e, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(staging, MetaFile), meta, 0o600); err != nil {
		return nil, err
	}
	dst := b.cacheDir(key)
	if err := os.Rename(staging, dst); err != nil {
		if existing := b.lookup(key); existing != nil {
			return existing, nil
		}
		if errors.Is(err, fs.ErrExist) || errors.Is(err, os.ErrExist) {
			// An incomplete leftover (no meta.json): replace it.
			os.RemoveAll(dst)
			err = os.Rename(staging, dst)
		}
		if err != nil {
			return nil, fmt.Errorf("store layer %s: %w", key[:12], err)
		}
	}
	e.dir = dst
	return e, nil
}

// writeBlob writes diff as a layer into the content store and fills e's digests.
func (b *Builder) writeBlob(ctx context.Context, diff string, epoch time.Time, e *cacheEntry) error {
	w, err := b.Images.Content().Writer(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	res, err := layer.Write(w, diff, layer.Options{Epoch: epoch})
	if err != nil {
		return err
	}
	if _, err := w.Commit(res.Digest, res.Size); err != nil {
		return err
	}
	e.Digest, e.DiffID, e.Size, e.Entries = res.Digest, res.DiffID, res.Size, res.Entries
	return nil
}

// ensureBlob rewrites a cached layer's blob when prune removed it; the writer is
// reproducible, so the digest must come out the same.
func (b *Builder) ensureBlob(ctx context.Context, e *cacheEntry, epoch time.Time) error {
	if b.Images.Content().Exists(e.Digest) {
		return nil
	}
	var again cacheEntry
	if err := b.writeBlob(ctx, e.diff(), epoch, &again); err != nil {
		return err
	}
	if again.Digest != e.Digest {
		return fmt.Errorf("cached layer %s rewrote as %s: the cache entry is damaged; rebuild with --no-cache", e.Digest, again.Digest)
	}
	return nil
}
