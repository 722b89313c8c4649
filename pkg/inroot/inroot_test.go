package inroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Create makes what is missing and follows symlinks as the container would, so that an
// absolute link, "..", or a link to the host's / all stay inside root.
func TestCreateStaysInRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.Symlink("/etc", filepath.Join(root, "abs"))
	os.Symlink("../../../../"+strings.TrimPrefix(outside, "/"), filepath.Join(root, "up"))
	os.Symlink(outside, filepath.Join(root, "host"))
	rfd, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	for _, tc := range []struct {
		p    string
		dir  bool
		want string // where it must land, relative to root
	}{
		{"/a/b/c", true, "a/b/c"},
		{"/a/b/file", false, "a/b/file"},
		{"/abs/x", false, "etc/x"},
		{"/up/y", false, strings.TrimPrefix(outside, "/") + "/y"},
		{"/host/z", true, strings.TrimPrefix(outside, "/") + "/z"},
		{"/../../w", false, "w"},
	} {
		fd, err := Create(rfd, tc.p, tc.dir)
		if err != nil {
			t.Errorf("Create(%s): %v", tc.p, err)
			continue
		}
		unix.Close(fd)
		fi, err := os.Lstat(filepath.Join(root, tc.want))
		if err != nil || fi.IsDir() != tc.dir {
			t.Errorf("Create(%s): %s in root: %v %v", tc.p, tc.want, fi, err)
		}
	}
	if names, _ := os.ReadDir(outside); len(names) != 0 {
		t.Errorf("Create wrote outside root: %v", names)
	}
	// A file in the way of a directory is an error, not a replacement.
	os.WriteFile(filepath.Join(root, "f"), nil, 0o644)
	if fd, err := Create(rfd, "/f/sub", true); err == nil {
		unix.Close(fd)
		t.Error("Create went through a regular file")
	}
}
