package shimapi

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

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
// Call it where the caller goes idle next: every page touched after the madvise is
// faulted back with its neighbours (the kernel maps 64 KiB around a file fault).
func TrimRSS() {
	// Ranges first: parsing allocates and runs code that would fault back in right after.
	var ranges [8][2]uintptr
	n := readonlyRanges(&ranges)
	// Package initialisers of the whole binary ran in this process too; what they left
	// unreachable goes back to the kernel now.
	debug.FreeOSMemory()
	for i := 0; i < n; {
		// Adjacent mappings (text, then rodata) go in one call: no code of ours runs, and
		// faults back in, between them.
		lo, hi := ranges[i][0], ranges[i][1]
		for i++; i < n && ranges[i][0] == hi; i++ {
			hi = ranges[i][1]
		}
		// Raw: no hand-off of our P to another thread (which would run, and fault in, the
		// scheduler) while the call runs. The mapping is code and constants, not Go memory.
		unix.RawSyscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_DONTNEED)
	}
}

// readonlyRanges fills rs with the r-xp and r--p mappings of our executable.
func readonlyRanges(rs *[8][2]uintptr) int {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() && n < len(rs) {
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
		rs[n] = [2]uintptr{uintptr(start), uintptr(end)}
		n++
	}
	return n
}
