package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/testutil"
	"golang.org/x/sys/unix"
)

func fill(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "app/sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "app/b.txt"), []byte("bee\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "app/a.sh"), []byte("#!/bin/sh\necho a\n"), 0o755))
	must(os.Symlink("a.sh", filepath.Join(dir, "app/link")))
	must(os.Link(filepath.Join(dir, "app/b.txt"), filepath.Join(dir, "app/sub/hard")))
	big := bytes.Repeat([]byte("0123456789abcdef"), (ChunkSize*2+100)/16)
	must(os.WriteFile(filepath.Join(dir, "big"), big, 0o600))
}

func TestWriteReproducible(t *testing.T) {
	var digests []string
	for range 2 {
		dir := t.TempDir()
		fill(t, dir)
		// Different mtimes on disk must not change the result.
		os.Chtimes(filepath.Join(dir, "app/b.txt"), DefaultEpoch, DefaultEpoch.AddDate(len(digests), 0, 0))
		var buf bytes.Buffer
		res, err := Write(&buf, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Size != int64(buf.Len()) {
			t.Errorf("size %d, wrote %d", res.Size, buf.Len())
		}
		diff, names, err := Verify(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if diff != res.DiffID {
			t.Errorf("diffID %s, stream says %s", res.DiffID, diff)
		}
		want := "app/ app/a.sh app/b.txt app/link app/sub/ app/sub/hard big"
		if got := strings.Join(names, " "); got != want {
			t.Errorf("entries %q, want %q", got, want)
		}
		digests = append(digests, res.Digest.String())
		// Every member starts a readable gzip stream at its offset.
		for _, m := range res.Members {
			if m.Name == "" {
				continue
			}
			zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()[m.Offset:]))
			if err != nil {
				t.Fatalf("member %s@%d: %v", m.Name, m.Offset, err)
			}
			zr.Multistream(false)
			if _, err := io.Copy(io.Discard, zr); err != nil {
				t.Fatalf("member %s@%d: %v", m.Name, m.Offset, err)
			}
		}
		chunks := 0
		for _, m := range res.Members {
			if m.Name == "big" {
				chunks++
			}
		}
		if chunks != 3 {
			t.Errorf("big file in %d members, want 3", chunks)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("digests differ: %v", digests)
	}
}

func TestWriteHeaders(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir)
	var buf bytes.Buffer
	if _, err := Write(&buf, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(&buf)
	if zr.Name != "" || !zr.ModTime.IsZero() && zr.ModTime.Unix() != 0 {
		t.Errorf("gzip header has name %q time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(DefaultEpoch) {
			t.Errorf("%s mtime %v", h.Name, h.ModTime)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s has names %q %q", h.Name, h.Uname, h.Gname)
		}
		switch h.Name {
		case "app/link":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "a.sh" {
				t.Errorf("link: %+v", h)
			}
		case "app/sub/hard":
			if h.Typeflag != tar.TypeLink || h.Linkname != "app/b.txt" {
				t.Errorf("hard link: %+v", h)
			}
		case "app/a.sh":
			if h.Mode&0o777 != 0o755 {
				t.Errorf("mode %o", h.Mode)
			}
		}
	}
}

func TestWhiteouts(t *testing.T) {
	testutil.RequirePrivileged(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc/opq"), 0o755)
	if err := unix.Mknod(filepath.Join(dir, "etc/gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "etc/opq"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "etc/owned"), nil, 0o644)
	os.Lchown(filepath.Join(dir, "etc/owned"), 1000, 1001)
	entries, err := Plan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Header.Name)
		if e.Header.Name == "etc/owned" && (e.Header.Uid != 1000 || e.Header.Gid != 1001) {
			t.Errorf("owner %d:%d", e.Header.Uid, e.Header.Gid)
		}
		if _, ok := e.Header.PAXRecords["SCHILY.xattr.trusted.overlay.opaque"]; ok {
			t.Errorf("%s keeps the overlay xattr", e.Header.Name)
		}
	}
	want := "etc/ etc/.wh.gone etc/opq/ etc/opq/.wh..wh..opq etc/owned"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("entries %q, want %q", s, want)
	}
}
