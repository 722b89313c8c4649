package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/toc"
)

// A plain tar is read once and lands three ways: a gzip blob of independent members that
// decompresses to the very tar (its diff_id), a seekable index beside it, and the layer
// unpacked, so that neither the first run nor --lazy has to unpack it.
func TestImportUnpacksAndIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3*memberSize+12345)
	for i := range big {
		big[i] = byte(rng.IntN(16))
	}
	raw := mkTar(t, false,
		entry{hdr: tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755}},
		entry{hdr: tar.Header{Name: "data/big", Mode: 0o644}, body: string(big)},
		entry{hdr: tar.Header{Name: "data/small", Mode: 0o600}, body: "small\n"})
	s := newStore(t)
	img, err := s.Import(context.Background(), bytes.NewReader(raw), "multi")
	if err != nil {
		t.Fatal(err)
	}
	layer := img.Layers[0]
	if want := digest.FromBytes(raw); img.Config.RootFS.DiffIDs[0] != want {
		t.Errorf("diff_id %s, want %s", img.Config.RootFS.DiffIDs[0], want)
	}
	blob, err := os.ReadFile(s.content.Path(layer.Digest))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, raw) {
		t.Fatalf("blob decompresses to %d bytes (%v), want the %d of the tar", len(plain), err, len(raw))
	}

	x, err := toc.Read(toc.Path(s.content.Path(layer.Digest)))
	if err != nil {
		t.Fatalf("no index beside the blob: %v", err)
	}
	if !x.Seekable || x.Compression != toc.Gzip || len(x.Checkpoints) != 4 || x.Blob != layer.Digest || x.BlobSize != layer.Size {
		t.Errorf("index: seekable %v, %s, %d checkpoints, blob %s (%d bytes)", x.Seekable, x.Compression, len(x.Checkpoints), x.Blob, x.BlobSize)
	}
	// The index matches one built from the blob itself (as for a pulled layer).
	y, err := toc.BuildFile(s.content.Path(layer.Digest), layer.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Checkpoints) != len(x.Checkpoints) || y.Checkpoints[2] != x.Checkpoints[2] || y.TarSize != x.TarSize || !y.Seekable {
		t.Errorf("index from the blob: %+v, at import: %+v", y.Checkpoints, x.Checkpoints)
	}
	e, _ := x.Lookup("data/big")
	r, err := x.OpenRange(bytes.NewReader(blob), e, 2*memberSize+5, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, big[2*memberSize+5:2*memberSize+105]) {
		t.Error("a range read through the index differs from the file")
	}

	dir := s.ExtractedDir(layer.Digest)
	b, err := os.ReadFile(filepath.Join(dir, "data/big"))
	if err != nil || sha256.Sum256(b) != sha256.Sum256(big) {
		t.Fatalf("unpacked data/big: %d bytes, %v", len(b), err)
	}
	if st, err := os.Stat(filepath.Join(dir, "data/small")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("unpacked data/small: %v %v", st, err)
	}
	if ents, _ := os.ReadDir(s.content.TempDir()); len(ents) != 0 {
		t.Errorf("staging left in tmp/: %v", ents)
	}

	// The same tar gives the same blob: members are compressed apart, but deterministically.
	img2, err := s.Import(context.Background(), bytes.NewReader(raw), "again")
	if err != nil {
		t.Fatal(err)
	}
	if img2.Layers[0].Digest != layer.Digest {
		t.Errorf("re-import made blob %s, first %s", img2.Layers[0].Digest, layer.Digest)
	}
}

// A tar the unpacking refuses (an entry escaping the layer) is still imported, as before:
// its first run reports the refusal.
func TestImportKeepsWhatUnpackRefuses(t *testing.T) {
	raw := mkTar(t, false, entry{hdr: tar.Header{Name: "../escape", Mode: 0o644}, body: "x"})
	s := newStore(t)
	img, err := s.Import(context.Background(), bytes.NewReader(raw), "bad")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.ExtractedDir(img.Layers[0].Digest)); err == nil {
		t.Error("a refused layer was kept unpacked")
	}
	if _, err := s.Unpack(context.Background(), img.Layers[0]); err == nil {
		t.Error("unpacking the layer later succeeded")
	}
	if ents, _ := os.ReadDir(s.content.TempDir()); len(ents) != 0 {
		t.Errorf("staging left in tmp/: %v", ents)
	}
}
