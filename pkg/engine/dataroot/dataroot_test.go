package dataroot

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/shimfiles"
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

// A directory in the trash holds whatever its container wrote (its upper layer): a file
// there that reads as a shim's record must not make the next daemon end the process it
// names.
func TestClearTmpIgnoresRecordsInTheTrash(t *testing.T) {
	root := t.TempDir()
	tmp := filepath.Join(root, "tmp")
	planted := filepath.Join(tmp, rundir.TrashPrefix+"ctr-1234", "upper")
	if err := os.MkdirAll(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := exec.Command("sleep", "60")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	if err := shimfiles.RecordProc(planted, "shim", victim.Process.Pid, true); err != nil {
		t.Fatal(err)
	}
	if err := ClearTmp(root, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// (Killed, our child would stay a zombie until waited for.)
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim.Process.Pid)); err != nil || strings.Contains(string(stat), ") Z ") {
		t.Errorf("the process a record in the trash names was ended (%q, %v): want it left running", stat, err)
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("tmp/ after clearing: %v, %v", ents, err)
	}
}
