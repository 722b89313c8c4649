package content

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestIngestVerifies(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := "hello blob"
	want := digest.FromString(data)

	if _, err := s.Ingest(ctx, strings.NewReader("other"), want); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("wrong content: err = %v, want ErrInvalid", err)
	}
	if s.Exists(want) {
		t.Fatal("mismatched blob was stored")
	}
	if _, err := s.IngestDescriptor(ctx, strings.NewReader(data+"x"), ocispec.Descriptor{Digest: "", Size: int64(len(data))}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("long content: err = %v, want ErrInvalid", err)
	}
	d, err := s.Ingest(ctx, strings.NewReader(data), want)
	if err != nil || d.Digest != want || d.Size != int64(len(data)) {
		t.Fatalf("Ingest = %+v, %v", d, err)
	}
	b, err := os.ReadFile(s.Path(want))
	if err != nil || string(b) != data {
		t.Fatalf("blob = %q, %v", b, err)
	}
	// Staging leaves nothing behind, and .index.json files are not blobs.
	if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ has %d leftovers", len(ents))
	}
	os.WriteFile(s.Path(want)+".index.json", []byte("{}"), 0o644)
	var seen []digest.Digest
	s.Walk(func(d digest.Digest, _ int64) error { seen = append(seen, d); return nil })
	if len(seen) != 1 || seen[0] != want {
		t.Errorf("Walk = %v, want [%s]", seen, want)
	}
	if _, err := s.Open(digest.FromString("nope")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Open(missing) = %v, want ErrNotFound", err)
	}
	if err := s.Delete(want); err != nil || s.Exists(want) {
		t.Errorf("Delete = %v, exists %v", err, s.Exists(want))
	}
	if _, err := os.Stat(s.Path(want) + ".index.json"); err != nil {
		t.Errorf("Delete removed the layer index: %v", err)
	}
}
