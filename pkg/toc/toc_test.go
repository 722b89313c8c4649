package toc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
)

type file struct {
	h    tar.Header
	data string
}

func sample() []file {
	big := strings.Repeat("0123456789abcdef", 8192) // 128 KiB
	return []file{
		{h: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 0}, data: "root:x:0:0::/root:/bin/sh\n"},
		{h: tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "bin/tool", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 1000, Gid: 100,
			PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\xff"}}, data: big},
		{h: tar.Header{Name: "bin/link", Typeflag: tar.TypeLink, Linkname: "bin/tool"}},
		{h: tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "tool"}},
		{h: tar.Header{Name: "empty", Typeflag: tar.TypeReg, Mode: 0o600}},
		{h: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{h: tar.Header{Name: "gone/.wh.old", Typeflag: tar.TypeReg}},
		{h: tar.Header{Name: "opq/", Typeflag: tar.TypeDir, Mode: 0o700}},
		{h: tar.Header{Name: "opq/.wh..wh..opq", Typeflag: tar.TypeReg}},
	}
}

// layer writes files as a tar; perMember puts each entry in its own gzip member, as
// minibox's layer writer does.
func layer(t testing.TB, files []file, compression string, perMember bool) []byte {
	t.Helper()
	var raw, out bytes.Buffer
	tw := tar.NewWriter(&raw)
	zw := gzip.NewWriter(&out)
	flushMember := func() {
		if compression != Gzip || !perMember {
			return
		}
		zw.Write(raw.Bytes())
		raw.Reset()
		zw.Close()
		zw = gzip.NewWriter(&out)
	}
	for _, f := range files {
		h := f.h
		h.Size = int64(len(f.data))
		h.ModTime = time.Unix(1700000000, 0)
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.data)
		tw.Flush()
		flushMember()
	}
	tw.Close()
	switch compression {
	case None:
		return raw.Bytes()
	case Gzip:
		zw.Write(raw.Bytes())
		zw.Close()
		return out.Bytes()
	}
	t.Fatalf("compression %s", compression)
	return nil
}

func TestBuildAndRead(t *testing.T) {
	for _, tc := range []struct {
		compression string
		perMember   bool
	}{{None, false}, {Gzip, false}, {Gzip, true}} {
		t.Run(fmt.Sprintf("%s-permember=%v", tc.compression, tc.perMember), func(t *testing.T) {
			blob := layer(t, sample(), tc.compression, tc.perMember)
			x, err := Build(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			x.BlobSize = int64(len(blob))
			if x.Compression != tc.compression || !x.Seekable {
				t.Errorf("compression %s seekable %v", x.Compression, x.Seekable)
			}
			if tc.perMember && len(x.Checkpoints) < len(sample()) {
				t.Errorf("%d checkpoints for %d members", len(x.Checkpoints), len(sample()))
			}
			for _, f := range sample() {
				if f.h.Typeflag != tar.TypeReg || strings.Contains(f.h.Name, ".wh.") {
					continue
				}
				e, ok := x.Lookup(f.h.Name)
				if !ok {
					t.Fatalf("no entry %s", f.h.Name)
				}
				if e.Digest != digest.FromString(f.data) || e.Size != int64(len(f.data)) {
					t.Errorf("%s: digest %s size %d", e.Name, e.Digest, e.Size)
				}
				if tc.perMember && e.Offset-x.Checkpoint(e.Offset).U > 4096 {
					t.Errorf("%s: %d bytes to skip in a per-file member layer", e.Name, e.Offset-x.Checkpoint(e.Offset).U)
				}
				r, err := x.Open(bytes.NewReader(blob), e)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil || string(got) != f.data {
					t.Errorf("%s: read %d bytes, %v", e.Name, len(got), err)
				}
			}
			checkSpecialEntries(t, x)
		})
	}
}

// checkSpecialEntries checks what the sample layer holds besides file contents: owners,
// modes, xattrs, links, devices, whiteouts, opaque directories and the root.
func checkSpecialEntries(t *testing.T, x *Index) {
	t.Helper()
	tool, _ := x.Lookup("bin/tool")
	if tool.Mode != 0o4755 || tool.UID != 1000 || tool.GID != 100 || string(tool.Xattrs["security.capability"]) != "\x01\x00\xff" {
		t.Errorf("bin/tool = %+v", tool)
	}
	if e, _ := x.Lookup("bin/link"); e.Type != TypeLink || e.Linkname != "bin/tool" {
		t.Errorf("bin/link = %+v", e)
	}
	if e, _ := x.Lookup("bin/sh"); e.Type != TypeSymlink || e.Linkname != "tool" {
		t.Errorf("bin/sh = %+v", e)
	}
	if e, _ := x.Lookup("dev/null"); e.Type != TypeChar || e.Devmajor != 1 || e.Devminor != 3 {
		t.Errorf("dev/null = %+v", e)
	}
	if e, ok := x.Lookup("gone/old"); !ok || e.Type != TypeWhiteout {
		t.Errorf("gone/old = %+v", e)
	}
	if e, _ := x.Lookup("opq"); !e.Opaque || e.Mode != 0o700 {
		t.Errorf("opq = %+v", e)
	}
	if e, ok := x.Lookup("."); !ok || e.Type != TypeDir {
		t.Errorf(". = %+v", e)
	}
}

func TestSingleMemberLargeLayerIsNotSeekable(t *testing.T) {
	var files []file
	for i := range 3 {
		files = append(files, file{h: tar.Header{Name: fmt.Sprintf("f%d", i), Typeflag: tar.TypeReg, Mode: 0o644},
			data: strings.Repeat(string(rune('a'+i)), 3<<20)})
	}
	x, err := Build(bytes.NewReader(layer(t, files, Gzip, false)))
	if err != nil {
		t.Fatal(err)
	}
	if x.Seekable {
		t.Error("a 9 MiB single-member gzip layer claims to be seekable")
	}
	y, err := Build(bytes.NewReader(layer(t, files, Gzip, true)))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Seekable {
		t.Error("a per-file member layer is not seekable")
	}
}

func TestEscapeRefused(t *testing.T) {
	for _, h := range []tar.Header{
		{Name: "../evil", Typeflag: tar.TypeReg},
		{Name: "a/../../evil", Typeflag: tar.TypeReg},
		{Name: "l", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"},
	} {
		_, err := Build(bytes.NewReader(layer(t, []file{{h: h}}, None, false)))
		if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%s: err %v, want invalid", h.Name, err)
		}
	}
}

func TestCorruptGzip(t *testing.T) {
	blob := layer(t, sample(), Gzip, true)
	blob = blob[:len(blob)/2]
	if _, err := Build(bytes.NewReader(blob)); err == nil {
		t.Error("truncated layer indexed without error")
	}
}

func TestWriteRead(t *testing.T) {
	blob := layer(t, sample(), Gzip, true)
	x, err := Build(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "abc"+Suffix)
	if err := Write(p, x); err != nil {
		t.Fatal(err)
	}
	y, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Entries) != len(x.Entries) || y.Checkpoints[len(y.Checkpoints)-1] != x.Checkpoints[len(x.Checkpoints)-1] {
		t.Error("round trip changed the index")
	}
	if e, _ := y.Lookup("bin/tool"); string(e.Xattrs["security.capability"]) != "\x01\x00\xff" {
		t.Error("xattr bytes lost in JSON")
	}
	if _, err := Read(p + ".missing"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing index: %v", err)
	}
}
