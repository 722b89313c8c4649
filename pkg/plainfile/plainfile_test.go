package plainfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	fd, err := Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789"), 1000) // beyond the first buffer
	if err := WriteAll(fd, want); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if got, err := ReadFile(p); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile = %d bytes, %v", len(got), err)
	}
	fd, _ = Open(p, unix.O_RDONLY, 0)
	defer unix.Close(fd)
	b := make([]byte, len(want)+1)
	if err := ReadFull(fd, b, p); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadFull past the end = %v", err)
	}
	// A file that reports no size (procfs, cgroupfs) is read whole all the same.
	if b, err := ReadFile("/proc/self/status"); err != nil || !bytes.Contains(b, []byte("\nPid:")) {
		t.Errorf("ReadFile(/proc/self/status) = %q, %v", b, err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v", err)
	}
}
