package shimclient

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/reexec"
)

// Prepare makes the sealed copy of the binary now (about 20 ms for a 24 MB binary) rather
// than in the first Start; the daemon may call it at startup, in the background.
func Prepare() error {
	_, err := sealedSelf()
	return err
}

var sealed struct {
	once sync.Once
	f    *os.File
	err  error
}

// sealedSelf is a copy of this binary in a memfd sealed against every change, made once:
// init runs from it, so /proc/1/exe inside a container leads to a file nobody can write,
// never to the host's binary. Every shim shares the one copy (no per-container memory).
func sealedSelf() (*os.File, error) {
	sealed.once.Do(func() { sealed.f, sealed.err = makeSealed() })
	return sealed.f, sealed.err
}

func makeSealed() (*os.File, error) {
	src, err := os.Open(reexec.Self)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("minibox", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "minibox-sealed")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s into memfd: %w", reexec.Self, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}
