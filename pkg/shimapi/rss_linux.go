package shimapi

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TrimRSS drops this process's page-table entries for the read-only parts of its own
// binary (text, rodata). Start-up touches much of them (the runtime walks the function
// table, every package's init runs), but an idle shim needs a few pages: after this, its
// resident set is what it really uses. The pages stay in the page cache, shared with the
// daemon and every other shim; a later access faults them back in. Writable mappings are
// never touched: MADV_DONTNEED would revert .data to the file's content.
//
// The shim and init call it once they are set up: both are long-lived re-executions of the
// whole binary (init's from the sealed memfd, whose pages would otherwise count as shmem).
func TrimRSS() {
	// Package initialisers of the whole binary ran in this process too; what they left
	// unreachable goes back to the kernel now.
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || strings.Join(fields[5:], " ") != exe || (fields[1] != "r-xp" && fields[1] != "r--p") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		// A raw call: the mapping is code and constants, not memory Go allocated.
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}

// trimDelay is how long a started workload runs before TrimRSSLater trims.
const trimDelay = 100 * time.Millisecond

// TrimRSSLater runs TrimRSS a little later, unless done is closed by then (nil: never). Right
// after a workload starts is when a short one ends, and a trim then (a full GC, then page
// faults back into the code that reports the exit) held up its exit by milliseconds; a
// process that is about to exit has nothing to trim for.
func TrimRSSLater(done <-chan struct{}) {
	time.AfterFunc(trimDelay, func() {
		select {
		case <-done:
		default:
			TrimRSS()
		}
	})
}
