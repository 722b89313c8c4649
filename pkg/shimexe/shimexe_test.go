package shimexe

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSealed(t *testing.T) {
	f, err := Sealed()
	if err != nil {
		t.Fatal(err)
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if err != nil || seals&want != want {
		t.Errorf("seals %#x, %v; want %#x", seals, err, want)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Errorf("wrote into the sealed executable")
	}
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil || !bytes.Equal(head, []byte("\x7fELF")) {
		t.Errorf("not an executable: %q, %v", head, err)
	}
	if g, _ := Sealed(); g != f {
		t.Errorf("a second copy was made")
	}
	// It runs, from the memfd, and knows only its two names.
	cmd := &exec.Cmd{Path: "/proc/self/fd/3", Args: []string{"something-else"}, ExtraFiles: []*os.File{f}}
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 125 || !strings.Contains(string(out), "not a command") {
		t.Errorf("run as something-else: %v %q", err, out)
	}
}

// BenchmarkSealed is the one-time cost per daemon: unpacking the executable into a memfd
// and sealing it.
func BenchmarkSealed(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, err := makeSealed()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
