package rundir

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// A restart with the same names must not replace the file a running container has bound.
func TestReplaceIfChangedKeepsAnUnchangedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hosts")
	if err := ReplaceIfChanged(p, []byte("a\n")); err != nil {
		t.Fatal(err)
	}
	before := inode(t, p)
	if err := ReplaceIfChanged(p, []byte("a\n")); err != nil {
		t.Fatal(err)
	}
	if inode(t, p) != before {
		t.Error("an unchanged file was replaced")
	}
	if err := ReplaceIfChanged(p, []byte("b\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "b\n" {
		t.Errorf("content %q, want b", b)
	}
}

func TestRemoveFilesKeepsDirectories(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"config.json", "hosts", "rootfs/etc/x"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveFiles(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); !os.IsNotExist(err) {
		t.Errorf("config.json: %v, want removed", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rootfs/etc/x")); err != nil {
		t.Errorf("a directory's content went: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("dir: %v, want removed", err)
	}
}
