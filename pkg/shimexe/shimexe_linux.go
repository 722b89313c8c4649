// Package shimexe holds the executable a container's shim and init run from: the small
// program cmd/minibox-shim, built by make and embedded compressed (about 1.4 MB in place
// of its 3.3). The daemon writes it once into a memfd sealed against every change, and
// every shim and init runs from that copy, so /proc/PID/exe inside a container leads to a
// file nobody can write, never to one on the host (the runc CVE-2019-5736 class).
package shimexe

import (
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

//go:embed payload
var payload embed.FS

const payloadName = "payload/minibox-shim.gz"

// sealed keeps the memfd once one was made and sealed (read without the lock by every
// container start); a failure is not kept, so that a daemon whose first try failed can
// still start containers later.
var sealed struct {
	mu sync.Mutex // held while one is made
	f  atomic.Pointer[os.File]
}

// Sealed returns the executable in a sealed memfd, made on the first call that succeeds;
// every caller shares it (its pages are one copy for all containers). Close it never.
func Sealed() (*os.File, error) {
	if f := sealed.f.Load(); f != nil {
		return f, nil
	}
	sealed.mu.Lock()
	defer sealed.mu.Unlock()
	if f := sealed.f.Load(); f != nil {
		return f, nil
	}
	f, err := makeSealed()
	if err != nil {
		return nil, err
	}
	sealed.f.Store(f)
	return f, nil
}

// addSeals is fcntl(F_ADD_SEALS); a variable so that tests can make it fail.
var addSeals = func(fd uintptr, seals int) error {
	_, err := unix.FcntlInt(fd, unix.F_ADD_SEALS, seals)
	return err
}

// sealTries and sealBackoff bound the seal's retries. F_SEAL_WRITE fails with EBUSY when
// a page of the file is still referenced elsewhere after the kernel has waited about
// 150 ms for it (reclaim isolating the page is one such holder): a daemon once failed
// every start for its whole life on it here.
const sealTries = 5

var sealBackoff = 50 * time.Millisecond

func makeSealed() (*os.File, error) {
	src, err := payload.Open(payloadName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("this minibox was built without its shim executable (pkg/shimexe/" + payloadName + "): build it with make")
	}
	if err != nil {
		return nil, err
	}
	defer src.Close()
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, fmt.Errorf("embedded shim executable: %w", err)
	}
	fd, err := unix.MemfdCreate("minibox-shim", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "minibox-shim")
	if _, err := io.Copy(f, zr); err != nil {
		f.Close()
		return nil, fmt.Errorf("unpack the embedded shim executable: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	for try := 1; ; try++ {
		err := addSeals(f.Fd(), seals)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EBUSY) || try == sealTries {
			f.Close()
			return nil, fmt.Errorf("seal memfd: %w", err)
		}
		time.Sleep(time.Duration(try) * sealBackoff)
	}
}
