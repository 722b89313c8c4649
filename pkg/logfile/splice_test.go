package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSplice: records spliced from a pipe read back like written ones, a character cut
// at a splice's end is held back for the next record (the file keeps no stray bytes),
// and a tail walks them backwards.
func TestSplice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, err := Open(path, Config{Driver: DriverLocal})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	splice := func(prefix []byte, data string) []byte {
		t.Helper()
		if _, err := pw.WriteString(data); err != nil {
			t.Fatal(err)
		}
		var held [utf8.UTFMax]byte
		k, err := w.Splice(Stdout, prefix, int(r.Fd()), len(data), &held)
		if err != nil {
			t.Fatalf("Splice: %v", err)
		}
		return held[:k:k]
	}
	w.Write(Stdout, []byte("first\n"))
	long := strings.Repeat("x", 1000) + "\n"
	if held := splice(nil, long+"a\u00e9"[:2]); len(held) != 1 || held[0] != "\u00e9"[0] {
		t.Fatalf("held %q, want the first byte of é", held)
	}
	if held := splice([]byte("\u00e9"[:1]), "\u00e9"[1:]+"bc\n"); len(held) != 0 {
		t.Fatalf("held %q after a whole character", held)
	}
	w.Write(Stderr, []byte("err\n"))
	want := "std:first\nstd:" + long + "astd:\u00e9bc\nstd:err\n"
	if got := collect(t, path, Options{}, nil, nil); got != want {
		t.Errorf("read %q, want %q", got, want)
	}
	if got := collect(t, path, Options{Tail: 2}, nil, nil); got != "std:astd:\u00e9bc\nstd:err\n" { // the line "aébc" starts in the long record
		t.Errorf("tail 2 = %q", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	texts := len("first\n") + len(long) + 1 + len("\u00e9bc\n") + len("err\n")
	if wantSize := int64(4*(headerSize+trailer) + texts); st.Size() != wantSize {
		t.Errorf("file has %d bytes, want %d", st.Size(), wantSize)
	}
}

// TestSpliceFallback: where the kernel refuses the splice (here: the source is no pipe),
// the record is still written whole, through memory, and the writer says to read from
// then on.
func TestSpliceFallback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "container.log")
	w, err := Open(path, Config{Driver: DriverLocal})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src, err := os.CreateTemp(dir, "src")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	text := strings.Repeat("y", 70000) + "\n"
	src.WriteString(text)
	src.Seek(0, 0)
	var held [utf8.UTFMax]byte
	if k, err := w.Splice(Stderr, []byte("p"), int(src.Fd()), len(text), &held); err != nil || k != 0 {
		t.Fatalf("Splice = %d, %v", k, err)
	}
	if w.CanSplice() {
		t.Error("the writer still offers splices after one was refused")
	}
	if got := collect(t, path, Options{}, nil, nil); got != "std:p"+text {
		t.Errorf("read %d bytes, want %d", len(got), len(text)+5)
	}
}
