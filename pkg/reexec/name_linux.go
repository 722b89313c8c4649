package reexec

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NameSelf sets the process's name (comm, what ps and /proc/PID/comm show). A program
// executed as /proc/self/fd/N, as the shim and init are, is named after the fd ("4") by the
// kernel. The name is the thread group leader's: set it with prctl when this thread is
// the leader, else through /proc/self/comm (the host's /proc still, before any container
// mount; its writer may be any thread of the group).
func NameSelf(name string) {
	if unix.Gettid() == unix.Getpid() {
		if p, err := unix.BytePtrFromString(name); err == nil {
			unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0)
		}
		return
	}
	os.WriteFile("/proc/self/comm", []byte(name), 0)
}
