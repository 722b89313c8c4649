package lazyfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

type file struct {
	h    tar.Header
	data string
}

// gzipLayer writes files as one gzip member per entry and per 4 MiB of a file, like
// minibox's layer writer.
func gzipLayer(t testing.TB, files []file) []byte {
	t.Helper()
	var raw, out bytes.Buffer
	tw := tar.NewWriter(&raw)
	member := func() {
		zw := gzip.NewWriter(&out)
		zw.Write(raw.Bytes())
		zw.Close()
		raw.Reset()
	}
	for _, f := range files {
		h := f.h
		h.Size, h.ModTime, h.Format = int64(len(f.data)), time.Unix(1700000000, 0), tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		for rest := f.data; len(rest) > 0; {
			n := min(len(rest), toc.ChunkSize)
			io.WriteString(tw, rest[:n])
			rest = rest[n:]
			if len(rest) > 0 {
				member() // the next chunk starts a member, as the layer writer does
			}
		}
		tw.Flush()
		member()
	}
	tw.Close()
	zw := gzip.NewWriter(&out)
	zw.Write(raw.Bytes())
	zw.Close()
	return out.Bytes()
}

var big = strings.Repeat("lazy layers read on demand\n", 40000) // ~1 MiB

func sample() []file {
	return []file{
		{h: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1000, Gid: 100}, data: "hello from a lazy layer\n"},
		{h: tar.Header{Name: "usr/bin/big", Typeflag: tar.TypeReg, Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.xattr.user.note": "kept"}}, data: big},
		{h: tar.Header{Name: "usr/bin/big2", Typeflag: tar.TypeLink, Linkname: "usr/bin/big"}},
		{h: tar.Header{Name: "usr/bin/sh", Typeflag: tar.TypeSymlink, Linkname: "big"}},
		{h: tar.Header{Name: "old/.wh.gone", Typeflag: tar.TypeReg}},
		{h: tar.Header{Name: "opq/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{h: tar.Header{Name: "opq/.wh..wh..opq", Typeflag: tar.TypeReg}},
		{h: tar.Header{Name: "opq/new", Typeflag: tar.TypeReg, Mode: 0o644}, data: "new\n"},
	}
}

// mountLayer indexes blob, writes it to a temp store and mounts it; everything is undone
// at cleanup, the mount first.
func mountLayer(t *testing.T, blob []byte, log *slog.Logger) (mnt, cache string) {
	t.Helper()
	testutil.RequirePrivileged(t, testutil.FUSE)
	dir := t.TempDir()
	dgst := digest.FromBytes(blob)
	blobPath := filepath.Join(dir, dgst.Encoded())
	if err := os.WriteFile(blobPath, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := toc.BuildFile(blobPath, dgst)
	if err != nil {
		t.Fatal(err)
	}
	cache, mnt = filepath.Join(dir, "cache"), filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	l, err := Open(x, blobPath, cache, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Mount(mnt, l)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			unix.Unmount(mnt, unix.MNT_DETACH)
		}
		l.Close()
	})
	return mnt, cache
}

func TestMountServesIndex(t *testing.T) {
	mnt, cache := mountLayer(t, gzipLayer(t, sample()), slog.New(slog.DiscardHandler))

	names, err := os.ReadDir(filepath.Join(mnt, "usr/bin"))
	if err != nil || len(names) != 3 {
		t.Fatalf("readdir usr/bin: %v %v", names, err)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 0 {
		t.Errorf("listing fetched %d files into the cache", len(ents))
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(mnt, "etc/motd"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode != syscall.S_IFREG|0o640 || st.Uid != 1000 || st.Gid != 100 || st.Size != 24 {
		t.Errorf("etc/motd stat mode %o uid %d gid %d size %d", st.Mode, st.Uid, st.Gid, st.Size)
	}
	b, err := os.ReadFile(filepath.Join(mnt, "usr/bin/big"))
	if err != nil || string(b) != big {
		t.Fatalf("read big: %d bytes, %v", len(b), err)
	}
	b, err = os.ReadFile(filepath.Join(mnt, "etc/motd"))
	if err != nil || string(b) != "hello from a lazy layer\n" {
		t.Fatalf("read motd: %q %v", b, err)
	}
	var a, c unix.Stat_t
	unix.Lstat(filepath.Join(mnt, "usr/bin/big"), &a)
	unix.Lstat(filepath.Join(mnt, "usr/bin/big2"), &c)
	if a.Ino != c.Ino {
		t.Errorf("hard link has inode %d, target %d", c.Ino, a.Ino)
	}
	if l, err := os.Readlink(filepath.Join(mnt, "usr/bin/sh")); l != "big" {
		t.Errorf("readlink = %q %v", l, err)
	}
	buf := make([]byte, 64)
	if k, err := unix.Lgetxattr(filepath.Join(mnt, "usr/bin/big"), "user.note", buf); err != nil || string(buf[:k]) != "kept" {
		t.Errorf("xattr user.note = %q %v", buf[:k], err)
	}
	if err := unix.Lstat(filepath.Join(mnt, "old/gone"), &st); err != nil || st.Mode != syscall.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout: mode %o rdev %d %v", st.Mode, st.Rdev, err)
	}
	if k, err := unix.Lgetxattr(filepath.Join(mnt, "opq"), "trusted.overlay.opaque", buf); err != nil || string(buf[:k]) != "y" {
		t.Errorf("opaque xattr = %q %v", buf[:k], err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "etc/new"), nil, 0o644); !errors.Is(err, syscall.EROFS) && !errors.Is(err, syscall.EACCES) {
		t.Errorf("write into a lazy layer: %v", err)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 2 {
		t.Errorf("cache holds %d files after reading two (one hard-linked)", len(ents))
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A corrupt blob must give EIO and a log line, not a hang or wrong bytes.
func TestCorruptBlobGivesEIO(t *testing.T) {
	blob := gzipLayer(t, sample())
	var logs lockedBuffer // the FUSE server writes it, the test reads it
	log := slog.New(slog.NewTextHandler(&logs, nil))
	// Index the good blob, then corrupt the stored bytes under the mount: flip a byte in the
	// middle of big's compressed data.
	mnt, _ := mountLayer(t, blob, log)
	blobPath := filepath.Join(filepath.Dir(mnt), digest.FromBytes(blob).Encoded())
	f, err := os.OpenFile(blobPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte{0}
	f.ReadAt(bad, int64(len(blob)/2))
	bad[0] ^= 0xff
	f.WriteAt(bad, int64(len(blob)/2))
	f.Close()

	done := make(chan error, 1)
	go func() {
		_, err := os.ReadFile(filepath.Join(mnt, "usr/bin/big"))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("read of a corrupt file: %v, want EIO", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("read of a corrupt file hangs")
	}
	if !strings.Contains(logs.String(), "usr/bin/big") {
		t.Errorf("no log line names the corrupt file: %q", logs.String())
	}
	// Other files still read.
	if b, err := os.ReadFile(filepath.Join(mnt, "etc/motd")); err != nil || len(b) != 24 {
		t.Errorf("motd after corruption: %q %v", b, err)
	}
}

// The mount works as an overlay lower layer: whiteouts hide the layer below, opaque
// directories hide its contents.
func TestOverlayLower(t *testing.T) {
	testutil.RequirePrivileged(t, testutil.FUSE, testutil.Overlay)
	mnt, _ := mountLayer(t, gzipLayer(t, sample()), slog.New(slog.DiscardHandler))
	base := t.TempDir()
	for _, p := range []string{"old/gone", "old/kept", "opq/hidden"} {
		os.MkdirAll(filepath.Join(base, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(base, p), []byte(p), 0o644)
	}
	work := t.TempDir()
	upper, wdir, merged := filepath.Join(work, "upper"), filepath.Join(work, "work"), filepath.Join(work, "merged")
	for _, d := range []string{upper, wdir, merged} {
		os.Mkdir(d, 0o755)
	}
	data := "lowerdir=" + mnt + ":" + base + ",upperdir=" + upper + ",workdir=" + wdir
	if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
		t.Fatalf("mount overlay %s: %v", data, err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })

	if _, err := os.Stat(filepath.Join(merged, "old/gone")); !os.IsNotExist(err) {
		t.Errorf("whited-out file visible: %v", err)
	}
	if _, err := os.Stat(filepath.Join(merged, "old/kept")); err != nil {
		t.Errorf("old/kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(merged, "opq/hidden")); !os.IsNotExist(err) {
		t.Errorf("file under an opaque directory visible: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(merged, "etc/motd")); err != nil || string(b) != "hello from a lazy layer\n" {
		t.Errorf("motd through overlay: %q %v", b, err)
	}
	// Writes go to the upper layer (copy-up from the lazy lower).
	if err := os.WriteFile(filepath.Join(merged, "etc/motd"), []byte("changed\n"), 0o644); err != nil {
		t.Errorf("copy-up: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "etc/motd")); string(b) != "changed\n" {
		t.Errorf("upper motd = %q", b)
	}
}

// A file larger than a chunk is fetched and verified chunk by chunk: a read in its middle
// fetches only the chunk it touches.
func TestLargeFileChunks(t *testing.T) {
	var data strings.Builder
	for i := 0; data.Len() < 9<<20+12345; i++ {
		fmt.Fprintf(&data, "line %08d of a large file\n", i)
	}
	huge := data.String()
	mnt, cache := mountLayer(t, gzipLayer(t, []file{
		{h: tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644}, data: huge},
	}), slog.New(slog.DiscardHandler))

	f, err := os.Open(filepath.Join(mnt, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 100)
	at := int64(5<<20 + 77)
	if _, err := f.ReadAt(buf, at); err != nil || string(buf) != huge[at:at+100] {
		t.Fatalf("read at %d: %q %v", at, buf, err)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), ".1") {
		t.Errorf("a read in chunk 1 cached %v", ents)
	}
	// Across a chunk boundary, and the short last chunk.
	at = 4<<20 - 50
	if _, err := f.ReadAt(buf, at); err != nil || string(buf) != huge[at:at+100] {
		t.Errorf("read across a boundary: %v", err)
	}
	all, err := os.ReadFile(filepath.Join(mnt, "huge"))
	if err != nil || string(all) != huge {
		t.Errorf("whole file: %d bytes, %v", len(all), err)
	}
}
