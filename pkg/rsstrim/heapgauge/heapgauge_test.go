package heapgauge

import (
	"runtime"
	"runtime/debug"
	"testing"
)

var sink []byte

// A trim collects only once a collection would give back more than the collector's own
// state costs: once the heap grew by collectAfter since the last collection, whoever made
// it, or since the Gauge was made, or once that much freed heap is still resident.
func TestCollectsOnlyAfterEnoughGrowth(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but the test's
	runtime.GC()
	g := New()
	if g.WorthCollecting() {
		t.Errorf("collects with nothing allocated since the Gauge was made")
	}
	garbage := func() {
		for i := 0; i < 2*collectAfter/4096; i++ {
			sink = make([]byte, 4096)
		}
	}
	garbage()
	if !g.WorthCollecting() {
		t.Errorf("does not collect after %d bytes of garbage", 2*collectAfter)
	}
	debug.FreeOSMemory() // the trim's collection
	g.Collected()
	if g.WorthCollecting() {
		t.Errorf("collects again right after a collection")
	}
	garbage()
	runtime.GC() // one of the runtime's own, after the garbage: its pages stay resident
	free := heapFreeResident()
	t.Logf("freed by the runtime, still resident: %d bytes", free)
	if free >= collectAfter && !g.WorthCollecting() {
		t.Errorf("does not collect with %d bytes freed by the runtime still resident", free)
	}
	debug.FreeOSMemory()
	g.Collected()
	if g.WorthCollecting() {
		t.Errorf("collects again right after a collection that gave the pages back")
	}
}
