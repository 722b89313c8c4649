package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Fatalf("got %q %v", b, st.Mode())
	}
}

func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("old"), 0o644)
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("want error")
	}
	b, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(b) != "old" || len(ents) != 1 {
		t.Fatalf("old content %q, %d entries", b, len(ents))
	}
}

// The replaced file is held open across the rename and let go afterwards: its content is
// gone from the path at once, and no descriptor stays behind.
func TestReplaceLetsTheOldFileGo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Replace(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	for i := range 20 {
		if err := Replace(p, []byte("two"), 0o600); err != nil {
			t.Fatal(i, err)
		}
		if err := WriteFile(p, []byte("three"), 0o600); err != nil {
			t.Fatal(i, err)
		}
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Fatalf("content %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fds() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := fds(); n > before {
		t.Fatalf("%d descriptors open, %d before: the replaced files were not let go", n, before)
	}
}
