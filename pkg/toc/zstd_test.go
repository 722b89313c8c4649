package toc

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

// zstdLayer writes files as a zstd tar: one frame per entry (as zstd:chunked does, with a
// skippable frame in between) or one frame for all.
func zstdLayer(t testing.TB, files []file, perFrame bool) []byte {
	t.Helper()
	enc, _ := zstd.NewWriter(nil)
	var raw, out bytes.Buffer
	tw := tar.NewWriter(&raw)
	flush := func() {
		out.Write(enc.EncodeAll(raw.Bytes(), nil))
		raw.Reset()
	}
	for i, f := range files {
		h := f.h
		h.Size, h.ModTime, h.Format = int64(len(f.data)), time.Unix(1700000000, 0), tar.FormatPAX
		tw.WriteHeader(&h)
		io.WriteString(tw, f.data)
		tw.Flush()
		if perFrame {
			flush()
			if i == 2 {
				var skip [8]byte
				binary.LittleEndian.PutUint32(skip[:4], 0x184D2A5E)
				binary.LittleEndian.PutUint32(skip[4:], 5)
				out.Write(skip[:])
				out.WriteString("skip!")
			}
		}
	}
	tw.Close()
	flush()
	return out.Bytes()
}

func buildFile(t *testing.T, blob []byte) *Index {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(p, blob, 0o644)
	x, err := BuildFile(p, digest.FromBytes(blob))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestZstd(t *testing.T) {
	big := []file{}
	for i := range 3 {
		big = append(big, file{h: tar.Header{Name: fmt.Sprintf("f%d", i), Typeflag: tar.TypeReg, Mode: 0o644},
			data: strings.Repeat(string(rune('a'+i)), 3<<20)})
	}
	for _, tc := range []struct {
		name     string
		files    []file
		perFrame bool
		seekable bool
	}{
		{"per-file frames", sample(), true, true},
		{"one small frame", sample(), false, true},
		{"one large frame", big, false, false},
		{"large, per-file frames", big, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := zstdLayer(t, tc.files, tc.perFrame)
			x := buildFile(t, blob)
			if x.Compression != Zstd || x.Seekable != tc.seekable {
				t.Fatalf("compression %s seekable %v, want zstd %v", x.Compression, x.Seekable, tc.seekable)
			}
			if tc.perFrame && len(x.Checkpoints) < len(tc.files) {
				t.Errorf("%d checkpoints for %d frames", len(x.Checkpoints), len(tc.files))
			}
			for _, f := range tc.files {
				if f.h.Typeflag != tar.TypeReg || strings.Contains(f.h.Name, ".wh.") {
					continue
				}
				e, _ := x.Lookup(f.h.Name)
				r, err := x.Open(bytes.NewReader(blob), e)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(got) != f.data {
					t.Errorf("%s: read %d bytes, %v", e.Name, len(got), err)
				}
			}
			// Read as a stream, frames are unknown: only a small layer is read from its start.
			y, err := Build(bytes.NewReader(blob))
			small := len(tc.files) == len(sample())
			if err != nil || y.Seekable != small || len(y.Entries) != len(x.Entries) {
				t.Errorf("stream index: seekable %v, %d entries, %v", y.Seekable, len(y.Entries), err)
			}
		})
	}
}

func TestZstdCorruptFrames(t *testing.T) {
	blob := zstdLayer(t, sample(), true)
	p := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(p, blob[:len(blob)-7], 0o644)
	if _, err := BuildFile(p, digest.FromBytes(blob)); err == nil {
		t.Error("truncated zstd layer indexed")
	}
}
