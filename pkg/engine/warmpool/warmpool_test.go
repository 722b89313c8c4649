package warmpool

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minibox/minibox/pkg/spec"
)

type fakeShim struct {
	pid    int
	mu     *sync.Mutex
	closed *[]int
}

func (s *fakeShim) PID() int { return s.pid }
func (s *fakeShim) Close() {
	s.mu.Lock()
	*s.closed = append(*s.closed, s.pid)
	s.mu.Unlock()
}

// fakeCgroups records cgroups by path (a v1 host unless version says otherwise).
type fakeCgroups struct {
	version     int
	threadsJoin bool // ThreadsCanJoin's answer
	mu          sync.Mutex
	groups      map[string][]int // path -> PIDs
	renamed     int
}

func (f *fakeCgroups) Version() int         { return f.version }
func (f *fakeCgroups) ThreadsCanJoin() bool { return f.threadsJoin }
func (f *fakeCgroups) Create(path string, r spec.Resources) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[path] = nil
	return nil
}
func (f *fakeCgroups) Update(path string, r spec.Resources) error { return nil }
func (f *fakeCgroups) Add(path string, pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[path] = append(f.groups[path], pid)
	return nil
}
func (f *fakeCgroups) Rename(from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[to] = f.groups[from]
	delete(f.groups, from)
	f.renamed++
	return nil
}
func (f *fakeCgroups) Remove(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.groups, path)
	return nil
}
func (f *fakeCgroups) Children(path string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p := range f.groups {
		if rest, ok := strings.CutPrefix(p, path+"/"); ok {
			out = append(out, rest)
		}
	}
	return out, nil
}

func newPool(t *testing.T, size, version int) (*Pool[*fakeShim], *fakeCgroups, *[]int) {
	cg := &fakeCgroups{version: version, groups: map[string][]int{}}
	var mu sync.Mutex
	var closed []int
	next := 100
	p := New(Config[*fakeShim]{Size: size, Root: t.TempDir(), Cgroups: cg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		StartShim: func(context.Context, bool, string) (*fakeShim, error) {
			mu.Lock()
			defer mu.Unlock()
			next++
			return &fakeShim{pid: next, mu: &mu, closed: &closed}, nil
		}})
	return p, cg, &closed
}

// fillNow waits for the fills in flight.
func fillNow[S Shim](p *Pool[S]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.filling > 0 {
		f := p.filled
		p.mu.Unlock()
		<-f
		p.mu.Lock()
	}
}

// On cgroup v1 a taken pair's cgroup is renamed to the container's (no migration); the
// pool fills only once announced or used; Close ends the idle pairs and their cgroups.
func TestPoolV1(t *testing.T) {
	p, cg, closed := newPool(t, 1, 1)
	s := &spec.Spec{CgroupPath: "minibox/c1"}
	if ws := p.Take(context.Background(), s); ws != nil {
		t.Fatal("an empty pool has no pair to give")
	}
	p.Prewarm(3)
	fillNow(p)
	if n := len(p.idle); n != 3 {
		t.Fatalf("announced 3 starts: %d pairs", n)
	}
	ws := p.Take(context.Background(), s)
	if ws == nil {
		t.Fatal("no pair taken")
	}
	if err := p.Place(ws, s); err != nil {
		t.Fatal(err)
	}
	if cg.renamed != 1 || !slices.Equal(cg.groups["minibox/c1"], []int{ws.Shim().PID()}) {
		t.Fatalf("the pair's cgroup is not the container's: %v", cg.groups)
	}
	p.Close()
	if len(*closed) != 2 {
		t.Fatalf("closed %v, want the 2 idle pairs", *closed)
	}
	if kids, _ := cg.Children("minibox"); len(kids) != 1 || kids[0] != "c1" {
		t.Fatalf("left cgroups %v, want only the container's", kids)
	}
}

// Where a shim's thread can join a v1 cgroup, the pair's cgroup is made first and the
// shim clones init in it: nothing is moved by PID. A shim that fails leaves no cgroup.
func TestPoolInitBornInCgroup(t *testing.T) {
	cg := &fakeCgroups{version: 1, threadsJoin: true, groups: map[string][]int{}}
	var mu sync.Mutex
	var closed []int
	var bornIn []string
	fail := false
	p := New(Config[*fakeShim]{Size: 1, Root: t.TempDir(), Cgroups: cg,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		StartShim: func(_ context.Context, _ bool, cgroup string) (*fakeShim, error) {
			cg.mu.Lock()
			_, made := cg.groups[cgroup]
			cg.mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			if !made {
				t.Errorf("shim started to clone init in %q, which does not exist yet", cgroup)
			}
			bornIn = append(bornIn, cgroup)
			if fail {
				return nil, errors.New("no shim")
			}
			return &fakeShim{pid: 200 + len(bornIn), mu: &mu, closed: &closed}, nil
		}})
	defer p.Close()
	p.Prewarm(1)
	fillNow(p)
	mu.Lock()
	if len(bornIn) != 1 || !strings.HasPrefix(bornIn[0], p.cgroupPrefix()) {
		t.Fatalf("shims started for cgroups %q, want one warm cgroup of this pool", bornIn)
	}
	mu.Unlock()
	cg.mu.Lock()
	if pids, ok := cg.groups[bornIn[0]]; !ok || len(pids) != 0 {
		t.Fatalf("warm cgroup %s: PIDs moved in %v (present %v), want none moved", bornIn[0], pids, ok)
	}
	cg.mu.Unlock()
	mu.Lock()
	fail = true
	mu.Unlock()
	p.Discard(p.Take(context.Background(), &spec.Spec{CgroupPath: "minibox/c"}))
	p.fill()
	fillNow(p)
	if kids, _ := cg.Children("minibox"); len(kids) != 0 {
		t.Fatalf("a shim that failed left cgroups %v", kids)
	}
}

// The pairs an announcement adds above the pool's size are made urgent (at the starts'
// priority); the pool's own spares are not.
func TestPoolAnnouncedUrgent(t *testing.T) {
	var mu sync.Mutex
	var urgent []bool
	var closed []int
	next := 100
	p := New(Config[*fakeShim]{Size: 1, Root: t.TempDir(), Cgroups: &fakeCgroups{version: 2, groups: map[string][]int{}},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		StartShim: func(_ context.Context, u bool, _ string) (*fakeShim, error) {
			mu.Lock()
			defer mu.Unlock()
			urgent = append(urgent, u)
			next++
			return &fakeShim{pid: next, mu: &mu, closed: &closed}, nil
		}})
	defer p.Close()
	p.Prewarm(3)
	fillNow(p)
	mu.Lock()
	n := 0
	for _, u := range urgent {
		if u {
			n++
		}
	}
	mu.Unlock()
	if len(urgent) != 3 || n != 2 {
		t.Fatalf("announced 3 starts to a pool of 1: urgent %v, want 2 of 3", urgent)
	}
	// Taken and refilled without an announcement: a spare, not urgent.
	for range 3 {
		p.Take(context.Background(), &spec.Spec{CgroupPath: "minibox/c"})
	}
	p.fill()
	fillNow(p)
	mu.Lock()
	defer mu.Unlock()
	if len(urgent) != 4 || urgent[3] {
		t.Fatalf("refill after the announced starts: urgent %v, want a last false", urgent)
	}
}

// A spec that does not fit a warm init (host network, a user namespace) starts cold.
func TestPoolFits(t *testing.T) {
	p, _, _ := newPool(t, 1, 2)
	p.Prewarm(1)
	fillNow(p)
	if ws := p.Take(context.Background(), &spec.Spec{Network: "host"}); ws != nil {
		t.Fatal("a host-network container took a warm pair")
	}
	if ws := p.Take(context.Background(), &spec.Spec{}); ws == nil {
		t.Fatal("no pair for a container that fits")
	} else {
		p.Discard(ws)
	}
	p.Close()
	var nilPool *Pool[*fakeShim]
	if nilPool.Take(context.Background(), &spec.Spec{}) != nil {
		t.Fatal("a nil pool gives pairs")
	}
	nilPool.Prewarm(1)
	nilPool.Close()
}

// RemoveStale removes this data root's warm cgroups only.
func TestRemoveStale(t *testing.T) {
	p, cg, _ := newPool(t, 1, 1)
	mine := p.cgroupPrefix() + "abc"
	cg.groups[mine] = nil
	cg.groups["minibox/warm-other-abc"] = nil
	p.RemoveStale()
	if _, ok := cg.groups[mine]; ok {
		t.Fatal("own stale cgroup left")
	}
	if _, ok := cg.groups["minibox/warm-other-abc"]; !ok {
		t.Fatal("another daemon's cgroup removed")
	}
}

// Close cancels the fills in flight (their StartShim sees its context end) and returns
// once they are over: no pair is being made after the daemon is gone.
func TestCloseCancelsFills(t *testing.T) {
	started := make(chan struct{}, maxAnnounced)
	var running atomic.Int32
	p := New(Config[*fakeShim]{Size: 1, Root: t.TempDir(), Cgroups: &fakeCgroups{version: 2, groups: map[string][]int{}},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		StartShim: func(ctx context.Context, _ bool, _ string) (*fakeShim, error) {
			running.Add(1)
			defer running.Add(-1)
			started <- struct{}{}
			<-ctx.Done() // a pair still being made: only the cancel ends it
			return nil, ctx.Err()
		}})
	p.Prewarm(4)
	for range 4 {
		<-started
	}
	p.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := running.Load(); n != 0 || p.filling != 0 || len(p.idle) != 0 {
		t.Fatalf("after Close: %d pairs being made, %d fills counted, %d idle pairs", n, p.filling, len(p.idle))
	}
}
