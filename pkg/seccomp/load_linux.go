package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	kernelRelease = func() string {
		var u unix.Utsname
		if unix.Uname(&u) != nil {
			return ""
		}
		return unix.ByteSliceToString(u.Release[:])
	}
}

// Load installs prog (from Compile) on the calling thread with seccomp(2). The caller
// has set no_new_privs or holds CAP_SYS_ADMIN, and has locked its OS thread: filters are
// per thread and inherited by the children it forks. An empty prog is "unconfined".
func Load(prog []byte) error {
	if len(prog) == 0 {
		return nil
	}
	if len(prog)%8 != 0 {
		return fmt.Errorf("seccomp program is %d bytes, not a multiple of 8", len(prog))
	}
	filters := make([]unix.SockFilter, len(prog)/8)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&filters[0])), len(prog)), prog)
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	// SECCOMP_FILTER_FLAG_TSYNC is not wanted: only this thread forks the workload.
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0,
		uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", e)
	}
	return nil
}
