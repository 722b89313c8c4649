package rundir

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// A discarded directory is gone from its place at once and from the trash soon after.
func TestTrashDiscards(t *testing.T) {
	root := t.TempDir()
	trashDir := filepath.Join(root, "tmp")
	if err := os.Mkdir(trashDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tr := NewTrash(trashDir)
	dir := filepath.Join(root, "ctr")
	for _, f := range []string{"config.json", "upper/etc/x", "work/work/incompat/volatile/y"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Discard(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("dir: %v, want gone", err)
	}
	if err := tr.Discard(dir); err != nil { // gone already: nothing to do
		t.Errorf("second discard: %v", err)
	}
	tr.Close(10 * time.Second)
	if ents, err := os.ReadDir(trashDir); err != nil || len(ents) != 0 {
		t.Errorf("trash after close: %v, %v", ents, err)
	}
	// Once closed (a daemon stopping while a run ends), a discard deletes in place.
	if err := os.MkdirAll(filepath.Join(dir, "upper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tr.Discard(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("dir after a discard once closed: %v, want gone", err)
	}
	if ents, _ := os.ReadDir(trashDir); len(ents) != 0 {
		t.Errorf("trash after a discard once closed: %v", ents)
	}
}

// A hold puts a deletion off until it is released, or trashDefer after the discard.
func TestTrashHoldDefersDeletion(t *testing.T) {
	root := t.TempDir()
	trashDir := filepath.Join(root, "tmp")
	if err := os.Mkdir(trashDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tr := NewTrash(trashDir)
	defer tr.Close(10 * time.Second)
	release := tr.Hold()
	dir := filepath.Join(root, "ctr")
	if err := os.MkdirAll(filepath.Join(dir, "upper"), 0o755); err != nil {
		t.Fatal(err)
	}
	discarded := time.Now()
	if err := tr.Discard(dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(trashDefer / 4)
	ents, err := os.ReadDir(trashDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) == 0 && time.Since(discarded) < trashDefer {
		t.Error("deleted while held, before trashDefer")
	}
	release()
	release() // twice: once counts
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if ents, _ := os.ReadDir(trashDir); len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not deleted after the release")
		}
	}
	tr.mu.Lock()
	holds, idle := tr.holds, tr.idle
	tr.mu.Unlock()
	if holds != 0 || idle != nil {
		t.Errorf("after the release: %d holds, idle %v", holds, idle)
	}
}

// Without a trash, Discard deletes in place.
func TestNilTrashDeletes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ctr")
	if err := os.MkdirAll(filepath.Join(dir, "upper"), 0o755); err != nil {
		t.Fatal(err)
	}
	var tr *Trash
	if err := tr.Discard(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("dir: %v, want gone", err)
	}
	tr.Close(time.Second)
}
