package rsstrim

import (
	"encoding/binary"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"
)

// Initialised globals live in the binary's writable file mapping (.noptrdata), which
// Trim partly drops: what was written must survive, what was not must read back as is.
// (unwritten is large: a fault on a neighbour maps 64 KiB around it.)
var (
	written   = [4096 * 4]byte{1, 2, 3}
	unwritten = [256 << 10]byte{4, 5, 6}
)

func TestTrimKeepsWrites(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// What Trim checks before dropping data pages (the runtime read the real setting at
	// start-up: this test's goroutines stay put meanwhile, so the race is not exercised).
	t.Setenv("GODEBUG", "asyncpreemptoff=1")
	written[0], written[len(written)-1] = 7, 8
	sum := 0
	for _, b := range unwritten {
		sum += int(b)
	}
	Trim()
	// A page in the middle of unwritten, read above, is no longer mapped (before it is read
	// again below).
	if resident(t, &unwritten[len(unwritten)/2]) {
		t.Errorf("clean data page still resident after Trim")
	}
	if written[0] != 7 || written[1] != 2 || written[len(written)-1] != 8 {
		t.Errorf("written data lost: %v ... %v", written[:3], written[len(written)-1])
	}
	if unwritten[0] != 4 || unwritten[2] != 6 || sum != 15 {
		t.Errorf("unwritten data changed: %v", unwritten[:3])
	}
}

func resident(t *testing.T, p *byte) bool {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var e [8]byte
	if _, err := f.ReadAt(e[:], int64(uintptr(unsafe.Pointer(p))/uintptr(os.Getpagesize())*8)); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(e[:])>>63 == 1
}

// A resident gauge collects once the process's resident anonymous memory grew by
// collectAfter since it was made or since the trim's last collection, and not before.
func TestResidentGaugeCollectsOnlyAfterEnoughGrowth(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but the test's
	debug.FreeOSMemory()
	if residentAnon() == 0 {
		t.Fatal("no resident anonymous memory read from /proc/self/statm")
	}
	g := NewResidentGauge()
	if g.WorthCollecting() {
		t.Errorf("collects with nothing allocated since the gauge was made")
	}
	var keep [][]byte
	for i := 0; i < 2*collectAfter/4096; i++ {
		b := make([]byte, 4096)
		b[0] = 1 // resident
		keep = append(keep, b)
	}
	if !g.WorthCollecting() {
		t.Errorf("does not collect after %d bytes made resident", 2*collectAfter)
	}
	runtime.KeepAlive(keep)
	keep = nil
	debug.FreeOSMemory() // the trim's collection
	g.Collected()
	if g.WorthCollecting() {
		t.Errorf("collects again right after a collection")
	}
}

// A process started with GOGC=off takes on the GOGC it asked for at its first Collect, and
// only then; one that asked for none keeps its own.
func TestCollectFromThenOn(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	own := NewTrimmer(0)
	own.Collect()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GOGC %d after Collect with none asked for, want it left off", got)
	}
	tr := NewTrimmer(0)
	tr.CollectFromThenOn(25)
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GOGC %d before the first Collect, want off", got)
	}
	tr.Collect()
	if got := debug.SetGCPercent(-1); got != 25 {
		t.Errorf("GOGC %d after Collect, want 25", got)
	}
	tr.Collect() // once only: it does not set it again
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GOGC %d after a second Collect, want it left as it was", got)
	}
}
