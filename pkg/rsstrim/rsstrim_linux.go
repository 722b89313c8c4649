package rsstrim

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Trim drops this process's page-table entries for the parts of its own binary it
// only read: text, rodata, and the pages of .data and .noptrdata it never wrote. Start-up
// touches much of them (the runtime walks the function table; every package's init runs,
// and some read large tables), but an idle shim needs a few pages: after this, its resident
// set is what it really uses. The pages stay in the page cache, shared with the daemon and
// every other shim; a later access faults them back in, unchanged.
//
// The shim and init run it through a Trimmer once they idle: both are long-lived and run
// from the sealed memfd, whose pages would otherwise count as shmem. Call it where the caller goes idle next: every page touched
// after the madvise is faulted back with its neighbours (the kernel maps 64 KiB around a
// file fault). Data pages are dropped only with GOMAXPROCS=1 and GODEBUG=asyncpreemptoff=1
// (see dropClean).
func Trim() {
	trim(true)
}

func trim(collect bool) {
	// Mappings first: parsing allocates and runs code that would fault back in right after.
	m := ownMappings()
	if collect {
		// Package initialisers of the whole binary ran in this process too; what they left
		// unreachable goes back to the kernel now. (Its marking reads .data: before the drop.)
		debug.FreeOSMemory()
	}
	if runtime.GOMAXPROCS(0) == 1 && strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") {
		m.dropClean()
	}
	m.close()
	for _, r := range m.ro {
		// Raw: no hand-off of our P to another thread (which would run, and fault in, the
		// scheduler) while the call runs. The mapping is code and constants, not Go memory.
		unix.RawSyscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// PairQuiet is how long a shim or an init must have had nothing new to do before it
// trims: work in flight would fault back in what a trim drops. Longer than a burst of
// starts takes (compose up): a trim of the first containers' pairs would share the CPUs
// with the starts of the others. Longer too than a warm pair usually waits before a start
// takes it, which then finds its pages still mapped instead of faulting them back.
const PairQuiet = 300 * time.Millisecond

// RuntimeEnv is the Go runtime's environment for a shim or an init: gogc as GOGC, limit as
// GOMEMLIMIT. One P; no async preemption (Trim relies on both to drop clean data pages); no
// heap profiling (its hash table and buckets would be this process's own, and nothing
// reads them). Both start with GOGC=off: the first collection, whoever starts it, leaves
// about 800 KiB of collector state resident for good (a span set per size class the heap
// uses, mark bits), more than the garbage of start-up it gives back, so a process that
// does nothing after start-up never collects. The limit bounds what work accumulates
// before a first collection; a shim then keeps a low GOGC (CollectFromThenOn): without
// one a burst of execs (health probes) left it about 5 MiB larger for good.
func RuntimeEnv(gogc, limit string) []string {
	return []string{"GOMAXPROCS=1", "GOGC=" + gogc, "GOMEMLIMIT=" + limit, "GODEBUG=madvdontneed=1,asyncpreemptoff=1,memprofilerate=0"}
}

// Trimmer trims once its process has been quiet for a while after work: Trim after work
// (Kick; collecting only when its Gauge says the garbage is worth it), a trim without a
// collection after a garbage collection alone (one the runtime starts itself, at the
// memory limit, or with GOGC set the one it forces every two minutes: its stack scans
// fault in megabytes of the function table; the trim's lack of a collection ends the
// chain). Run it in a goroutine of its own, which parks right after each trim: ending a
// goroutine reads the function table, which would fault back in some of what the trim
// just dropped.
type Trimmer struct {
	Quiet  time.Duration // how long nothing new must have happened before a trim
	kick   chan struct{}
	worked atomic.Bool // since the last trim: more than a garbage collection
	gauge  Gauge       // Run's own
	// gcPercent: the GOGC the process takes on at its first collection (0: it keeps its own).
	gcPercent int
	armed     atomic.Bool // gcPercent is set
}

// A Gauge tells a Trimmer, at a trim after work, whether a collection would give back
// more than it costs: the first collection leaves about 800 KiB of collector state
// resident for good (a span set block per size class in use, more after a second), more
// than the few hundred KiB of garbage a start leaves.
type Gauge interface {
	// WorthCollecting is asked at a trim after work.
	WorthCollecting() bool
	// Collected follows the trim's own collection, once the freed pages are given back.
	Collected()
}

// NewTrimmer returns a Trimmer that waits for quiet periods of quiet and collects once the
// process's resident anonymous memory grew collectAfter since it was made or since its
// last collection (ResidentGauge).
func NewTrimmer(quiet time.Duration) *Trimmer {
	return NewTrimmerWith(quiet, NewResidentGauge())
}

// NewTrimmerWith returns a Trimmer whose collections g decides.
func NewTrimmerWith(quiet time.Duration, g Gauge) *Trimmer {
	return &Trimmer{Quiet: quiet, kick: make(chan struct{}, 1), gauge: g}
}

// CollectFromThenOn makes the process, started with GOGC=off, collect with GOGC=percent
// from its first collection on (at the memory limit, or a trim's after work) or from
// Collect: a process that stays idle after start-up never pays for the collector's state,
// one that works keeps its heap near what it uses. Call it before Run.
func (t *Trimmer) CollectFromThenOn(percent int) { t.gcPercent = percent }

// Collect sets the GOGC CollectFromThenOn asked for now, if not yet: for work that will
// go on making garbage. Cheap once done.
func (t *Trimmer) Collect() { t.arm() }

func (t *Trimmer) arm() {
	if t.gcPercent > 0 && t.armed.CompareAndSwap(false, true) {
		debug.SetGCPercent(t.gcPercent)
	}
}

// Run trims after each Kick and each garbage collection, once quiet; it never returns.
func (t *Trimmer) Run() {
	afterGC(func() {
		t.arm()
		t.poke()
	})
	for range t.kick {
		// Quiet twice over: after a collection the runtime's monitor thread wakes the
		// scavenger (which may start a thread) at its next wake-up, which is our timer's.
		for quiet := 0; quiet < 2; {
			time.Sleep(t.Quiet / 2)
			select {
			case <-t.kick:
				quiet = 0
			default:
				quiet++
			}
		}
		collect := t.worked.Swap(false) && t.gauge.WorthCollecting()
		if collect {
			t.arm()
		}
		trim(collect)
		if collect {
			t.gauge.Collected()
		}
	}
}

// collectAfter is how much a process must have grown since its last collection (or
// since start-up) before a trim collects.
const collectAfter = 1 << 20

// ResidentGauge measures the process by its resident anonymous memory (the kernel's
// count: no runtime/metrics, whose initialiser and first read cost a process 35 KB of
// heap in a dozen size classes, nor runtime.ReadMemStats, which flushes every
// size class's span to a span set and leaves about 500 KiB more resident): a collection
// is worth it once that grew collectAfter since the last collection of the trims, or
// since it was made. Growth is garbage or live data alike: it gives a shim or an init that
// never worked its start-up garbage for free, and collects after bursts.
type ResidentGauge struct {
	floor uint64 // resident anonymous bytes when made or after the last trim's collection
}

// NewResidentGauge returns a ResidentGauge that counts from now.
func NewResidentGauge() *ResidentGauge { return &ResidentGauge{floor: residentAnon()} }

// WorthCollecting says whether the process grew collectAfter since the last collection.
func (g *ResidentGauge) WorthCollecting() bool { return residentAnon() >= g.floor+collectAfter }

// Collected counts from what the collection left.
func (g *ResidentGauge) Collected() { g.floor = residentAnon() }

// residentAnon is the process's resident anonymous memory in bytes (0 if unknown): resident
// pages less the file and shared-memory ones, /proc/self/statm's second and third fields.
// Read into a buffer on the stack: it runs where nothing should be allocated.
func residentAnon() uint64 {
	fd, err := unix.Open("/proc/self/statm", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	var buf [128]byte
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0
	}
	var fields [3]uint64 // size, resident, shared (file and shmem), in pages
	f := 0
	for _, c := range buf[:n] {
		if c == ' ' {
			if f++; f == len(fields) {
				break
			}
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		fields[f] = fields[f]*10 + uint64(c-'0')
	}
	if fields[1] < fields[2] {
		return 0
	}
	return (fields[1] - fields[2]) * uint64(os.Getpagesize())
}

// Kick asks for a trim once quiet again. It is cheap enough to call per read or request.
func (t *Trimmer) Kick() {
	t.worked.Store(true)
	t.poke()
}

// Nudge asks for a trim once quiet without a garbage collection (unless Kick asked for
// one since the last trim): for a process that has allocated little since start-up, such
// as a warm shim or init waiting for its container, a collection gives back little heap
// and leaves the collector's own structures resident (about 0.8 MB here).
func (t *Trimmer) Nudge() { t.poke() }

func (t *Trimmer) poke() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// gcNote's finalizer runs after each garbage collection (it re-arms itself).
type gcNote struct{ f func() }

func afterGC(f func()) {
	runtime.SetFinalizer(&gcNote{f}, func(n *gcNote) {
		n.f()
		afterGC(n.f)
	})
}

type mappings struct {
	ro      [][2]uintptr // read-only mappings of the executable, adjacent ones merged
	data    [2]uintptr   // its writable, file-backed mapping (.data and .noptrdata)
	pagemap *os.File
	entries []uint64 // one pagemap entry per page of data
}

// ownMappings reads /proc/self/maps for the mappings of our executable.
func ownMappings() *mappings {
	m := &mappings{}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return m
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || strings.Join(fields[5:], " ") != exe {
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
		r := [2]uintptr{uintptr(start), uintptr(end)}
		switch fields[1] {
		case "r-xp", "r--p":
			// Adjacent mappings (text, then rodata) go in one call: no code of ours runs,
			// and faults back in, between them.
			if n := len(m.ro); n > 0 && m.ro[n-1][1] == r[0] {
				m.ro[n-1][1] = r[1]
			} else {
				m.ro = append(m.ro, r)
			}
		case "rw-p":
			m.data = r
		}
	}
	if m.data[1] > m.data[0] {
		if m.pagemap, err = os.Open("/proc/self/pagemap"); err == nil {
			m.entries = make([]uint64, (m.data[1]-m.data[0])/uintptr(os.Getpagesize()))
			m.pagemap.Fd() // blocking mode now, not in dropClean
		}
	}
	return m
}

func (m *mappings) close() {
	if m.pagemap != nil {
		m.pagemap.Close()
	}
}

// dropClean drops the pages of the data mapping that are still the file's: this process
// never wrote them (a write would have made a private copy), so they fault back in as
// they are. A write between the pagemap read and the madvise would be lost, so nothing
// else may run meanwhile: one P (ours), no preemption point in between (raw calls only;
// the shim runs with async preemption off), and the runtime's own threads write runtime
// state, which is dirty since start-up.
func (m *mappings) dropClean() {
	if m.pagemap == nil || len(m.entries) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	fd := m.pagemap.Fd()
	e := m.entries
	_, _, errno := unix.RawSyscall6(unix.SYS_PREAD64, fd, uintptr(unsafe.Pointer(&e[0])),
		uintptr(len(e))*8, m.data[0]/page*8, 0, 0)
	if errno != 0 {
		return
	}
	// Bit 63: present; bit 61: a file page (a private copy is anonymous).
	const clean = 1<<63 | 1<<61
	for i := 0; i < len(e); {
		if e[i]&clean != clean {
			i++
			continue
		}
		j := i + 1
		for j < len(e) && e[j]&clean == clean {
			j++
		}
		unix.RawSyscall(unix.SYS_MADVISE, m.data[0]+uintptr(i)*page, uintptr(j-i)*page, unix.MADV_DONTNEED)
		i = j
	}
}
