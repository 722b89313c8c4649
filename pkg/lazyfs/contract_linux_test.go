package lazyfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/testutil"
	"golang.org/x/sys/unix"
)

// describe lists every path under dir with what a container can observe of it: type, mode,
// owner, size, rdev, link target, content digest, xattrs.
func describe(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Errorf("lstat %s: %v", rel, err)
			return nil
		}
		line := fmt.Sprintf("%s mode=%o uid=%d gid=%d", rel, st.Mode, st.Uid, st.Gid)
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			line += fmt.Sprintf(" nlink=%d", st.Nlink)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				t.Errorf("read %s: %v", rel, err)
			}
			line += fmt.Sprintf(" size=%d sum=%x", st.Size, sum(b))
		case unix.S_IFLNK:
			l, _ := os.Readlink(p)
			line += " -> " + l
		case unix.S_IFCHR, unix.S_IFBLK:
			line += fmt.Sprintf(" rdev=%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		if rel != "." { // the root's own mode is the mount point's for an extracted dir
			buf := make([]byte, 4096)
			n, _ := unix.Llistxattr(p, buf)
			var names []string
			for _, x := range bytes.Split(buf[:n], []byte{0}) {
				if len(x) > 0 && !bytes.HasPrefix(x, []byte("security.selinux")) {
					names = append(names, string(x))
				}
			}
			sort.Strings(names)
			for _, x := range names {
				v := make([]byte, 256)
				k, _ := unix.Lgetxattr(p, x, v)
				line += fmt.Sprintf(" %s=%q", x, v[:k])
			}
			out = append(out, line)
		}
		return nil
	})
	return out
}

func sum(b []byte) uint64 {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// The contract: a lazily served layer looks exactly like the same layer unpacked, for the
// busybox rootfs and for a layer with every entry type, whiteouts and xattrs.
func TestLazyMatchesUnpacked(t *testing.T) {
	bb, err := os.ReadFile("../../testdata/busybox.tar")
	if err != nil {
		testutil.Unavailable(t, "testdata/busybox.tar: %v (make testdata)", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bb)
	zw.Close()
	// zstd, one frame per entry (as zstd:chunked layers are).
	var zs bytes.Buffer
	enc, _ := zstd.NewWriter(nil)
	tr := tar.NewReader(bytes.NewReader(bb))
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		tw.WriteHeader(h)
		io.Copy(tw, tr)
		tw.Flush()
		zs.Write(enc.EncodeAll(raw.Bytes(), nil))
		raw.Reset()
	}
	tw.Close()
	zs.Write(enc.EncodeAll(raw.Bytes(), nil))

	for name, blob := range map[string][]byte{"busybox": gz.Bytes(), "sample": gzipLayer(t, sample()), "busybox-zstd": zs.Bytes()} {
		t.Run(name, func(t *testing.T) {
			mnt, _ := mountLayer(t, blob, slog.New(slog.DiscardHandler))
			ex := t.TempDir()
			zr, done, err := image.Decompress(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if err := image.Extract(context.Background(), zr, ex, image.ExtractOptions{}); err != nil {
				t.Fatal(err)
			}
			lazy, eager := describe(t, mnt), describe(t, ex)
			if len(lazy) != len(eager) {
				t.Errorf("lazy has %d paths, unpacked %d", len(lazy), len(eager))
			}
			for i := 0; i < len(lazy) && i < len(eager); i++ {
				if lazy[i] != eager[i] {
					t.Errorf("lazy:     %s\nunpacked: %s", lazy[i], eager[i])
				}
			}
		})
	}
}
