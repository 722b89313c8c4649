package shimclient

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSealedSelf(t *testing.T) {
	f, err := sealedSelf()
	if err != nil {
		t.Fatal(err)
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if err != nil || seals&want != want {
		t.Errorf("seals %#x, %v; want %#x", seals, err, want)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Errorf("wrote into the sealed copy")
	}
	self, _ := os.Stat("/proc/self/exe")
	if fi, err := f.Stat(); err != nil || fi.Size() != self.Size() {
		t.Errorf("copy is %v bytes, binary %d", fi, self.Size())
	}
	if g, _ := sealedSelf(); g != f {
		t.Errorf("a second copy was made")
	}
}

// BenchmarkSealedCopy is the one-time cost of the sealed copy, per daemon start (or per
// first container): reading the binary into a memfd and sealing it.
func BenchmarkSealedCopy(b *testing.B) {
	fi, _ := os.Stat("/proc/self/exe")
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		f, err := makeSealed()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
