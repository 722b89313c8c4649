package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/testutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

type entry struct {
	hdr  tar.Header
	body string
}

func mkTar(t testing.TB, gz bool, ents ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, e := range ents {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		h.Size = int64(len(e.body))
		h.Format = tar.FormatPAX
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	w.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "root"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func putLayer(t testing.TB, s *Store, b []byte) ocispec.Descriptor {
	t.Helper()
	d, err := s.Content().Ingest(context.Background(), bytes.NewReader(b), "")
	if err != nil {
		t.Fatal(err)
	}
	d.MediaType = ocispec.MediaTypeImageLayerGzip
	return d
}

func TestUnpackKeepsEverything(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := newStore(t)
	mt := time.Unix(1600000000, 0)
	layer := putLayer(t, s, mkTar(t, true,
		entry{hdr: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		entry{hdr: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 7, Gid: 8, ModTime: mt}},
		entry{hdr: tar.Header{Name: "etc/passwd", Mode: 0o4755, Uid: 1000, Gid: 1001, ModTime: mt,
			PAXRecords: map[string]string{"SCHILY.xattr.user.test": "v"}}, body: "root:x:0:0\n"},
		entry{hdr: tar.Header{Name: "etc/hard", Typeflag: tar.TypeLink, Linkname: "etc/passwd"}},
		entry{hdr: tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox", Uid: 5}},
		entry{hdr: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}},
		entry{hdr: tar.Header{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
		entry{hdr: tar.Header{Name: "lib", Typeflag: tar.TypeSymlink, Linkname: "usr/lib"}},
		entry{hdr: tar.Header{Name: "usr/lib/", Typeflag: tar.TypeDir, Mode: 0o755}},
		entry{hdr: tar.Header{Name: "lib/libc.so"}, body: "elf"}, // through an inside symlink: fine
		entry{hdr: tar.Header{Name: "var/.wh.gone"}},
		entry{hdr: tar.Header{Name: "opt/.wh..wh..opq"}},
		entry{hdr: tar.Header{Name: "sneaky", PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}}, body: "x"},
	))
	dir, err := s.Unpack(context.Background(), layer)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(s.Root(), "extracted", layer.Digest.Encoded()) {
		t.Errorf("dir = %s", dir)
	}
	var st unix.Stat_t
	must := func(p string) *unix.Stat_t {
		t.Helper()
		if err := unix.Lstat(filepath.Join(dir, p), &st); err != nil {
			t.Fatalf("lstat %s: %v", p, err)
		}
		return &st
	}
	if s := must("etc/passwd"); s.Mode&0o7777 != 0o4755 || s.Uid != 1000 || s.Gid != 1001 || s.Mtim.Sec != mt.Unix() || s.Nlink != 2 {
		t.Errorf("etc/passwd: mode %o uid %d gid %d mtime %d nlink %d", s.Mode&0o7777, s.Uid, s.Gid, s.Mtim.Sec, s.Nlink)
	}
	if s := must("etc"); s.Mode&0o777 != 0o750 || s.Uid != 7 || s.Mtim.Sec != mt.Unix() {
		t.Errorf("etc: mode %o uid %d mtime %d", s.Mode&0o777, s.Uid, s.Mtim.Sec)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(dir, "etc/passwd"), "user.test", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr = %q, %v", buf[:n], err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin/sh")); err != nil || l != "/bin/busybox" || must("bin/sh").Uid != 5 {
		t.Errorf("bin/sh -> %q, %v", l, err)
	}
	if s := must("dev/null"); s.Mode&unix.S_IFMT != unix.S_IFCHR || s.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null: mode %o rdev %d", s.Mode, s.Rdev)
	}
	if s := must("fifo"); s.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo mode %o", s.Mode)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "usr/lib/libc.so")); err != nil || string(b) != "elf" {
		t.Errorf("usr/lib/libc.so = %q, %v", b, err)
	}
	if s := must("var/gone"); s.Mode&unix.S_IFMT != unix.S_IFCHR || s.Rdev != 0 {
		t.Errorf("whiteout: mode %o rdev %d", s.Mode, s.Rdev)
	}
	if n, err := unix.Getxattr(filepath.Join(dir, "opt"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	if n, err := unix.Lgetxattr(filepath.Join(dir, "sneaky"), "trusted.overlay.redirect", buf); err == nil {
		t.Errorf("a layer set trusted.overlay.redirect = %q", buf[:n])
	}
	if _, err := os.Stat(filepath.Join(dir, "opt/.wh..wh..opq")); err == nil {
		t.Error("opaque marker left as a file")
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ has leftovers: %v", ents)
	}
}

func TestUnpackRootMode(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := newStore(t)
	layer := putLayer(t, s, mkTar(t, true, entry{hdr: tar.Header{Name: "a"}, body: "x"}))
	dir, err := s.Unpack(context.Background(), layer)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("layer root mode = %v, %v; want 0755", fi.Mode(), err)
	}
}

func TestUnpackOnceConcurrently(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := newStore(t)
	var ents []entry
	for i := 0; i < 300; i++ {
		ents = append(ents, entry{hdr: tar.Header{Name: "d/f" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()}, body: "data"})
	}
	layer := putLayer(t, s, mkTar(t, true, ents...))
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Add(1)
		go func() { defer wg.Done(); dirs[i], errs[i] = s.Unpack(context.Background(), layer) }()
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("unpack %d = %s, %v", i, dirs[i], errs[i])
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ has leftovers: %v", ents)
	}
}

// TestUnpackRefusesEscapes feeds layers that try to write outside the layer directory.
func TestUnpackRefusesEscapes(t *testing.T) {
	testutil.RequirePrivileged(t)
	outside := t.TempDir() // a canary beside the data root: must stay empty
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	cases := map[string][]entry{
		"dotdot":         {{hdr: tar.Header{Name: "../../../../" + outside + "/pwned"}, body: "x"}},
		"dotdot-middle":  {{hdr: tar.Header{Name: "a/../../pwned"}, body: "x"}},
		"absolute":       {{hdr: tar.Header{Name: outside + "/pwned"}, body: "x"}},
		"symlink-abs":    {{hdr: tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: outside}}, {hdr: tar.Header{Name: "evil/pwned"}, body: "x"}},
		"symlink-rel":    {{hdr: tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../../../" + outside}}, {hdr: tar.Header{Name: "evil/pwned"}, body: "x"}},
		"symlink-nested": {{hdr: tar.Header{Name: "a/b/", Typeflag: tar.TypeDir}}, {hdr: tar.Header{Name: "a/b/up", Typeflag: tar.TypeSymlink, Linkname: "../../.."}}, {hdr: tar.Header{Name: "a/b/up/pwned"}, body: "x"}},
		"symlink-file":   {{hdr: tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: victim}}, {hdr: tar.Header{Name: "evil"}, body: "x"}, {hdr: tar.Header{Name: "evil2", Typeflag: tar.TypeSymlink, Linkname: outside}}, {hdr: tar.Header{Name: "evil2/victim"}, body: "x"}},
		"hardlink-out":   {{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../../../../../" + victim}}},
		"hardlink-abs":   {{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: victim}}},
		"hardlink-via-symlink": {{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: outside}},
			{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "s/victim"}}},
		"whiteout-via-symlink": {{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: outside}},
			{hdr: tar.Header{Name: "s/.wh.victim"}}},
		"opaque-via-symlink": {{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: outside}},
			{hdr: tar.Header{Name: "s/.wh..wh..opq"}}},
	}
	for name, ents := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			layer := putLayer(t, s, mkTar(t, true, ents...))
			_, err := s.Unpack(context.Background(), layer)
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Unpack = %v, want a refusal (ErrInvalid)", err)
			}
			t.Logf("refused: %v", err)
			if _, err := os.Stat(s.ExtractedDir(layer.Digest)); err == nil {
				t.Error("a refused layer was left in extracted/")
			}
			if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
				t.Errorf("tmp/ has leftovers: %v", ents)
			}
			got, _ := os.ReadDir(outside)
			if len(got) != 1 || got[0].Name() != "victim" {
				t.Errorf("outside dir now holds %v", got)
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep" {
				t.Errorf("victim = %q", b)
			}
			var st unix.Stat_t
			if unix.Stat(victim, &st); st.Nlink != 1 {
				t.Errorf("victim has %d links", st.Nlink)
			}
			if n, _ := unix.Getxattr(outside, "trusted.overlay.opaque", make([]byte, 4)); n > 0 {
				t.Error("outside dir marked opaque")
			}
		})
	}
}

func TestUnpackRefusesTarBomb(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := newStore(t)
	s.MaxLayerEntries = 1000
	var ents []entry
	for i := 0; i < 1001; i++ {
		ents = append(ents, entry{hdr: tar.Header{Name: "f" + time.Duration(i).String()}})
	}
	layer := putLayer(t, s, mkTar(t, true, ents...))
	_, err := s.Unpack(context.Background(), layer)
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "tar bomb") {
		t.Fatalf("Unpack = %v, want a tar bomb refusal", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ has leftovers: %v", ents)
	}
}

func TestUnpackRefusesCorruptBlob(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := newStore(t)
	layer := putLayer(t, s, mkTar(t, false, entry{hdr: tar.Header{Name: "a"}, body: "good"}))
	b, _ := os.ReadFile(s.Content().Path(layer.Digest))
	copy(b[512:], "evil")
	os.WriteFile(s.Content().Path(layer.Digest), b, 0o644)
	if _, err := s.Unpack(context.Background(), layer); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Unpack of a corrupt blob = %v, want ErrInvalid", err)
	}
}
