package image

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A copy onto the caller's files (cp to the host) keeps modes and names but not owners or
// devices, renames through Rename, and still fills a directory the archive marks read-only.
func TestExtractAsCaller(t *testing.T) {
	b := mkTar(t, false,
		entry{hdr: tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o555, Uid: 4321, Gid: 4321}},
		entry{hdr: tar.Header{Name: "src/f", Mode: 0o640, Uid: 4321, Gid: 4321}, body: "data"},
		entry{hdr: tar.Header{Name: "src/link", Typeflag: tar.TypeLink, Linkname: "src/f"}},
		entry{hdr: tar.Header{Name: "src/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}},
		entry{hdr: tar.Header{Name: "other/g"}, body: "skipped"},
	)
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	rename := func(name string) (string, bool, error) {
		rest, ok := strings.CutPrefix(name, "src")
		return "copy" + rest, ok, nil
	}
	if err := ExtractInRoot(context.Background(), bytes.NewReader(b), fd, "/", ExtractOptions{Rename: rename, AsCaller: true}); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "copy"), 0o755)
	got, err := os.ReadFile(filepath.Join(dir, "copy", "link"))
	if err != nil || string(got) != "data" {
		t.Fatalf("hard link renamed with its target: %q, %v", got, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "copy", "f"), &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != os.Getuid() || st.Mode&0o7777 != 0o640 {
		t.Errorf("copy/f: uid %d mode %o, want the caller's uid %d and mode 640", st.Uid, st.Mode&0o7777, os.Getuid())
	}
	if fi, err := os.Stat(filepath.Join(dir, "copy")); err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("copy: %v %v, want mode 555 set after its entries", fi.Mode(), err)
	}
	for _, n := range []string{"copy/null", "other", "src"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s was written", n)
		}
	}
	// A hard link to a name Rename skips is refused rather than linked to something else.
	b = mkTar(t, false, entry{hdr: tar.Header{Name: "src/l", Typeflag: tar.TypeLink, Linkname: "other/g"}})
	if err := ExtractInRoot(context.Background(), bytes.NewReader(b), fd, "/", ExtractOptions{Rename: rename, AsCaller: true}); err == nil {
		t.Error("hard link to a skipped entry was made")
	}
}
