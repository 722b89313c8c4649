// Package heapgauge tells an rsstrim.Trimmer when to collect by the Go heap's own figures
// (runtime/metrics), for a process that links runtime/metrics anyway and whose freed heap
// can stay resident for long (the daemon). A shim or an init uses rsstrim's
// ResidentGauge instead: runtime/metrics' initialiser and first read cost a process 35 KB
// of heap.
package heapgauge

import (
	"runtime/metrics"
)

// collectAfter is how much the heap must have grown since the last collection before a
// trim collects, or how much freed heap must still be resident: the first collection
// leaves about 800 KiB of collector state resident for good (more after a second).
const collectAfter = 1 << 20

// Gauge measures the heap through runtime/metrics (not runtime.ReadMemStats: that one
// flushes every size class's span to a span set and leaves about 500 KiB more resident).
type Gauge struct {
	// The heap's size after the last collection (or when made), and the runtime's count
	// of collections then.
	heapAt, cycles uint64
}

// New returns a Gauge that counts from now.
func New() *Gauge {
	heap, cycles, _ := heapNow()
	return &Gauge{heapAt: heap, cycles: cycles}
}

// WorthCollecting says whether the heap grew collectAfter since the last collection
// (or since the Gauge was made), or holds that much freed heap still resident.
func (g *Gauge) WorthCollecting() bool {
	heap, cycles, live := heapNow()
	if cycles != g.cycles {
		// Collected since, by a trim or by the runtime (at the limit): the growth counts
		// from what that collection left, not from now, or a burst that reached the limit
		// would keep its garbage for good.
		g.cycles, g.heapAt = cycles, live
	}
	// Or a collection freed what a burst left, but the pages are still resident (the
	// runtime's scavenger gives them back slowly): a daemon that collected near the end of
	// an import stayed at 12 MiB instead of 5. Only in a process that has collected already:
	// a first collection would leave the collector's state resident.
	return heap >= g.heapAt+collectAfter || cycles > 0 && heapFreeResident() >= collectAfter
}

// Collected does nothing: WorthCollecting sees the collection in the runtime's count.
func (g *Gauge) Collected() {}

// heapFreeResident is the heap memory that is free but not yet given back to the kernel.
func heapFreeResident() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapNow returns the bytes of heap objects, live or not yet collected, the count of
// collections, and the live heap after the last one.
func heapNow() (heap, cycles, liveAfterGC uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/frees:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64(), s[2].Value.Uint64(), s[3].Value.Uint64()
}
