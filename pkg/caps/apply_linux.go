package caps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	// Read once: the kernel's value never changes, and init asks for each capability it
	// checks (a read of procfs each, some fifteen per container start).
	lastCap = sync.OnceValue(func() int {
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			return len(names) - 1
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return len(names) - 1
		}
		return n
	})
}

// Apply makes the calling thread run as uid:gid with supplementary groups and capability
// set, as init does just before exec. It must run as root with full capabilities, on a
// locked OS thread that is never unlocked: credentials are per thread here (raw syscalls,
// not Go's all-threads setuid), and the workload is forked from this thread.
//
// The bounding set is cut to set first (dropping needs CAP_SETPCAP, which the later steps
// may remove); PR_SET_KEEPCAPS keeps the permitted set across setuid; then capset gives
// root effective = permitted = inheritable = set and any other uid empty effective and
// permitted sets, as Docker does: a non-root workload starts unprivileged, and no exec can
// raise it beyond the bounding set. Ambient capabilities are cleared.
func Apply(set []string, uid, gid int, groups []int) error {
	want, err := mask(set)
	if err != nil {
		return err
	}
	last := lastCap()
	for c := 0; c <= last; c++ {
		if want&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	gids := make([]uint32, len(groups))
	for i, g := range groups {
		gids[i] = uint32(g)
	}
	var gp unsafe.Pointer
	if len(gids) > 0 {
		gp = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(gp), 0); e != 0 {
		return fmt.Errorf("setgroups %v: %w", groups, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", uid, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	var eff, inh uint64
	if uid == 0 {
		eff, inh = want, want
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(eff), Inheritable: uint32(inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(eff >> 32), Inheritable: uint32(inh >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}
