package shimexe

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// A seal refused with EBUSY (a page still referenced elsewhere) is tried again, and a
// failure is not kept: the next call makes the memfd afresh.
func TestSealedRetriesAndForgetsFailure(t *testing.T) {
	realSeals, realBackoff := addSeals, sealBackoff
	before := sealed.f.Swap(nil)
	var made []*os.File
	t.Cleanup(func() {
		addSeals, sealBackoff = realSeals, realBackoff
		sealed.f.Store(before)
		for _, f := range made {
			f.Close()
		}
	})
	sealBackoff = time.Millisecond
	busy := 2
	addSeals = func(fd uintptr, seals int) error {
		if busy > 0 {
			busy--
			return unix.EBUSY
		}
		return realSeals(fd, seals)
	}
	f, err := Sealed()
	if err != nil || busy != 0 {
		t.Fatalf("after two EBUSY: %v (%d refusals left)", err, busy)
	}
	made = append(made, f)
	sealed.f.Store(nil)
	tries := 0
	addSeals = func(uintptr, int) error { tries++; return unix.EBUSY }
	if _, err := Sealed(); !errors.Is(err, unix.EBUSY) || tries != sealTries {
		t.Fatalf("always EBUSY: %v after %d tries; want EBUSY after %d", err, tries, sealTries)
	}
	addSeals = realSeals
	g, err := Sealed()
	if err != nil {
		t.Fatalf("after a failed seal: %v", err)
	}
	made = append(made, g)
	if seals, err := unix.FcntlInt(g.Fd(), unix.F_GET_SEALS, 0); err != nil || seals&unix.F_SEAL_WRITE == 0 {
		t.Errorf("seals %#x, %v", seals, err)
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
