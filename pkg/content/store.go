package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Store holds blobs under <root>/blobs/sha256 and stages them in <root>/tmp.
type Store struct {
	root string
	dir  string // blobs/sha256
	tmp  string

	mu     sync.Mutex
	active map[string]bool // staging files being written, for prune's Busy
}

// Open makes (if needed) and opens the blob store of data root root.
func Open(root string) (*Store, error) {
	s := &Store{root: root, dir: filepath.Join(root, "blobs", "sha256"), tmp: filepath.Join(root, "tmp"), active: map[string]bool{}}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.tmp, 0o700); err != nil {
		return nil, err
	}
	return s, nil
}

// TempDir is the staging directory (tmp/ of the data root).
func (s *Store) TempDir() string { return s.tmp }

// Path is where blob dgst lives (whether or not it exists).
func (s *Store) Path(dgst digest.Digest) string {
	return filepath.Join(s.root, "blobs", dgst.Algorithm().String(), dgst.Encoded())
}

func check(dgst digest.Digest) error {
	if err := dgst.Validate(); err != nil {
		return fmt.Errorf("digest %q: %v: %w", dgst, err, errdefs.ErrInvalid)
	}
	if dgst.Algorithm() != digest.SHA256 {
		return fmt.Errorf("digest %s: only sha256 is supported: %w", dgst, errdefs.ErrInvalid)
	}
	return nil
}

// Exists reports whether blob dgst is stored.
func (s *Store) Exists(dgst digest.Digest) bool {
	if check(dgst) != nil {
		return false
	}
	_, err := os.Stat(s.Path(dgst))
	return err == nil
}

// Info returns the size of blob dgst, or ErrNotFound.
func (s *Store) Info(dgst digest.Digest) (int64, error) {
	if err := check(dgst); err != nil {
		return 0, err
	}
	fi, err := os.Stat(s.Path(dgst))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Open opens blob dgst for reading, or returns ErrNotFound.
func (s *Store) Open(dgst digest.Digest) (*os.File, error) {
	if err := check(dgst); err != nil {
		return nil, err
	}
	f, err := os.Open(s.Path(dgst))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
	}
	return f, err
}

// ReadAll reads a small blob (manifest, config, index) whole.
func (s *Store) ReadAll(dgst digest.Digest) ([]byte, error) {
	f, err := s.Open(dgst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Delete removes blob dgst; a missing blob is not an error. Its .index.json (owned by the
// lazy-layer code) is left for prune to decide.
func (s *Store) Delete(dgst digest.Digest) error {
	if err := check(dgst); err != nil {
		return err
	}
	if err := os.Remove(s.Path(dgst)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk calls fn for every stored blob, skipping staging leftovers and .index.json files.
func (s *Store) Walk(fn func(dgst digest.Digest, size int64) error) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.Contains(name, ".") {
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, name)
		if d.Validate() != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if err := fn(d, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

// Ingest writes r as a blob. With expected set, the content must have that digest; with
// want.Size > 0 (IngestDescriptor) also that size. The blob lands only when verified.
func (s *Store) Ingest(ctx context.Context, r io.Reader, expected digest.Digest) (ocispec.Descriptor, error) {
	return s.IngestDescriptor(ctx, r, ocispec.Descriptor{Digest: expected, Size: -1})
}

// IngestDescriptor is Ingest checking want.Digest (if set) and want.Size (if >= 0); the
// returned descriptor carries want's media type and annotations.
func (s *Store) IngestDescriptor(ctx context.Context, r io.Reader, want ocispec.Descriptor) (ocispec.Descriptor, error) {
	if want.Digest != "" {
		if err := check(want.Digest); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	w, err := s.Writer(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer w.Close()
	if want.Size >= 0 {
		// Read one byte past the size so an over-long stream is caught, not truncated.
		r = io.LimitReader(r, want.Size+1)
	}
	if _, err := io.Copy(w, r); err != nil {
		return ocispec.Descriptor{}, err
	}
	got, err := w.Commit(want.Digest, want.Size)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	want.Digest, want.Size = got.Digest, got.Size
	return want, nil
}

// Writer stages a blob in tmp/; Commit verifies and renames it, Close discards it.
type Writer struct {
	s    *Store
	ctx  context.Context
	f    *os.File
	dig  digest.Digester
	size int64
	done bool
}

// Writer starts a staged blob.
func (s *Store) Writer(ctx context.Context) (*Writer, error) {
	f, err := os.CreateTemp(s.tmp, "blob-*")
	if err != nil {
		return nil, err
	}
	s.hold(f.Name(), true)
	return &Writer{s: s, ctx: ctx, f: f, dig: digest.SHA256.Digester()}, nil
}

func (s *Store) hold(path string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.active[path] = true
	} else {
		delete(s.active, path)
	}
}

// Busy reports whether path is a staging file a writer of this store is filling: prune
// must leave it alone.
func (s *Store) Busy(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[path]
}

func (w *Writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	w.dig.Hash().Write(p[:n])
	w.size += int64(n)
	return n, err
}

// Size is how many bytes were written so far.
func (w *Writer) Size() int64 { return w.size }

// Digest is the digest of what was written so far.
func (w *Writer) Digest() digest.Digest { return w.dig.Digest() }

// Commit checks the digest (if expected is set) and size (if size >= 0), fsyncs and
// renames the blob into place. A blob already present is kept as is.
func (w *Writer) Commit(expected digest.Digest, size int64) (ocispec.Descriptor, error) {
	got := w.dig.Digest()
	if expected != "" && got != expected {
		return ocispec.Descriptor{}, fmt.Errorf("blob digest mismatch: got %s, want %s: %w", got, expected, errdefs.ErrInvalid)
	}
	if size >= 0 && w.size != size {
		return ocispec.Descriptor{}, fmt.Errorf("blob %s: size mismatch: got %d bytes, want %d: %w", got, w.size, size, errdefs.ErrInvalid)
	}
	desc := ocispec.Descriptor{Digest: got, Size: w.size}
	if err := w.f.Sync(); err != nil {
		return desc, err
	}
	if err := w.f.Close(); err != nil {
		return desc, err
	}
	w.done = true
	tmp := w.f.Name()
	defer w.s.hold(tmp, false)
	if _, err := os.Stat(w.s.Path(got)); err == nil {
		os.Remove(tmp)
		return desc, nil
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return desc, err
	}
	if err := os.Rename(tmp, w.s.Path(got)); err != nil {
		os.Remove(tmp)
		return desc, err
	}
	return desc, atomicfile.SyncDir(w.s.dir)
}

// Close discards an uncommitted blob.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	defer w.s.hold(w.f.Name(), false)
	return os.Remove(w.f.Name())
}

// Verify rereads blob dgst and checks its digest (a cheap guard before trusting a blob
// another process may have left).
func (s *Store) Verify(dgst digest.Digest) error {
	f, err := s.Open(dgst)
	if err != nil {
		return err
	}
	defer f.Close()
	v := dgst.Verifier()
	if _, err := io.Copy(v, f); err != nil {
		return err
	}
	if !v.Verified() {
		return fmt.Errorf("blob %s is corrupt: %w", dgst, errdefs.ErrInvalid)
	}
	return nil
}
