package dataroot

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestSkeletonModes(t *testing.T) {
	root := t.TempDir()
	// A directory made earlier with a wider mode is narrowed.
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o777); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := MakeSkeleton(root); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range Skeleton {
		st, err := os.Stat(filepath.Join(root, d.Path))
		if err != nil || !st.IsDir() || st.Mode().Perm() != d.Mode {
			t.Errorf("%s: %v, %v; want a directory of mode %v", d.Path, st.Mode(), err, d.Mode)
		}
	}
}

func TestClearTmpEmptiesIt(t *testing.T) {
	root := t.TempDir()
	tmp := filepath.Join(root, "tmp")
	for _, p := range []string{"build-1/block/f", clearingPrefix + "import-2/x", "loose"} {
		if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, p), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := ClearTmp(root, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Fatalf("tmp/ after clearing: %v, %v", ents, err)
	}
}

func TestStaleBuildLocks(t *testing.T) {
	root := t.TempDir()
	layers := filepath.Join(root, "layers")
	if err := os.MkdirAll(filepath.Join(layers, "landed"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"landed.lock", "cut-short.lock"} {
		if err := os.WriteFile(filepath.Join(layers, l), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	RemoveStaleBuildLocks(root, slog.New(slog.DiscardHandler))
	if _, err := os.Stat(filepath.Join(layers, "landed.lock")); err != nil {
		t.Errorf("the lock beside its entry went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(layers, "cut-short.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock of an entry that never landed stays: %v", err)
	}
}
