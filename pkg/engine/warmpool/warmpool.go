// Package warmpool keeps shims started ahead of their containers, each holding an init
// already cloned into fresh namespaces (and, on cgroup v1, in a cgroup of its own), so that
// a start takes one instead of paying for two process starts and a cgroup migration.
package warmpool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/ns"
	"github.com/minibox/minibox/pkg/spec"
)

// Shim is a warm shim as the pool handles it: its init's PID (moved into a cgroup), and
// Close to end one that is not used, returning once its processes have exited.
type Shim interface {
	PID() int
	Close()
}

// Cgroups is what the pool does with cgroups: the warm inits' own on v1, renamed or
// left for the container's.
type Cgroups interface {
	Version() int
	Create(path string, r spec.Resources) error
	Update(path string, r spec.Resources) error
	Add(path string, pid int) error
	Rename(from, to string) error
	Remove(path string) error
	Children(path string) ([]string, error)
}

// Config is what a pool needs.
type Config[S Shim] struct {
	// Size is how many pairs the pool keeps once wanted; 0 turns it off.
	Size int
	// Root names the pool's cgroups, so that daemons of other data roots leave them be.
	Root    string
	Cgroups Cgroups
	// StartShim starts one warm shim; urgent says an announced start waits for it, which
	// it is then made at the starts' priority for (not below them, as a spare is). With a
	// cgroup, the shim clones init in it (from a thread that joins it for the clone).
	StartShim func(ctx context.Context, urgent bool, cgroup string) (S, error)
	Log       *slog.Logger
}

// Pool keeps shims started ahead of their containers (shimclient.Warm), each holding an
// init already cloned into fresh namespaces and, on cgroup v1, already in a cgroup of its
// own. A start that takes one renames that cgroup to the container's instead of moving init
// into a new one (a migration waits for a kernel RCU grace period, ~8 ms here), and spares
// the shim's and init's process starts (~5 ms each).
//
// The pool fills only once a container has started that could have used it: a daemon that
// runs no containers pays nothing for it. A client about to start several containers at
// once (compose up) announces them (Prewarm): the pool then fills up to that many while the
// client still creates them, so that each start finds a pair instead of paying a cold one.
type Pool[S Shim] struct {
	cfg     Config[S]
	mu      sync.Mutex
	idle    []*Pair[S]
	filling int
	waiting int           // starts waiting for a fill in flight, each for one of its own
	filled  chan struct{} // closed (and replaced) whenever a fill ends
	wanted  bool
	closed  bool
	// announced is how many announced starts have not taken their pair yet, until
	// announcedUntil; the pool's size is the larger of it and cfg.Size.
	announced      int
	announcedUntil time.Time
	// starting counts starts in flight; refills wait while they keep every CPU busy
	// (deferred says one did), so that a burst of starts does not share the CPUs with
	// pairs made for later.
	starting int
	deferred bool
	// ctx is the fills' context: Close cancels it, ending the pairs being made.
	ctx    context.Context
	cancel context.CancelFunc
}

// Pair is a warm shim and its init, taken from the pool for one start.
type Pair[S Shim] struct {
	shim   S
	cgroup string // its own cgroup, renamed to the container's when taken; "" on v2
}

// Shim is the pair's shim, to hand the container to.
func (ws *Pair[S]) Shim() S { return ws.shim }

// New returns a pool that fills once a start could have used it.
func New[S Shim](cfg Config[S]) *Pool[S] {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool[S]{cfg: cfg, ctx: ctx, cancel: cancel}
}

// How long a start waits for a warm shim being made before making its own (a fill takes
// ~6 ms where init is born in its cgroup, ~20 ms where it is moved there, most of it a
// kernel grace period; a cold start ~25 ms).
const warmWait = 15 * time.Millisecond

// How long an announced start waits at most for a warm shim being made that no other
// start waits for: the pair was made for it, and is ahead of a cold start begun now (both
// start a shim and an init) that would share the CPUs with the rest of the burst. This
// only bounds a fill that hangs.
const announcedWait = time.Second

// maxAnnounced bounds the pairs an announcement adds (each holds a shim and an init).
const maxAnnounced = 32

// announceFor is how long announced starts keep the pool above its size: starts that do
// not come by then (the client failed, or its containers do not fit a warm pair) leave.
const announceFor = 30 * time.Second

// cgroupPrefix names this daemon's warm cgroups: daemons on one host (tests) must not
// take or remove each other's.
func (p *Pool[S]) cgroupPrefix() string {
	sum := sha256.Sum256([]byte(p.cfg.Root))
	return "minibox/warm-" + hex.EncodeToString(sum[:4]) + "-"
}

// Take returns a warm pair for s, or nil: s does not fit one (user namespace, host
// network), the pool is off, or none is ready soon enough.
func (p *Pool[S]) Take(ctx context.Context, s *spec.Spec) *Pair[S] {
	// A shareable /dev/shm is mounted on the host after a warm init copied its mounts.
	if p == nil || p.cfg.Size <= 0 || !ns.FitsWarm(s) || s.ShmPath != "" && s.ShmPath != "/dev/shm" {
		return nil
	}
	t0 := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wanted = true
	wait := warmWait
	if p.announced > 0 {
		p.announced-- // this is one of them, warm or not
		wait = announcedWait
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		if n := len(p.idle); n > 0 {
			ws := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.cfg.Log.Debug("warm shim taken", "waited", time.Since(t0), "left", n-1)
			return ws
		}
		// Each fill in flight is waited for by one start at most: the others start cold
		// at once rather than queue behind a pair that another start takes.
		if p.filling <= p.waiting || p.closed {
			p.cfg.Log.Debug("no warm shim", "waited", time.Since(t0), "filling", p.filling)
			return nil
		}
		filled := p.filled
		p.waiting++
		p.mu.Unlock()
		select {
		case <-filled:
			p.mu.Lock()
			p.waiting--
		case <-deadline.C:
			p.mu.Lock()
			p.waiting--
			p.cfg.Log.Debug("no warm shim", "waited", time.Since(t0), "filling", p.filling)
			return nil
		case <-ctx.Done():
			p.mu.Lock()
			p.waiting--
			return nil
		}
	}
}

// Prewarm announces n starts about to come: the pool fills up to n pairs now (when it is
// on), and goes back to its size as they are taken or once announceFor has passed.
func (p *Pool[S]) Prewarm(n int) {
	if p == nil || p.cfg.Size <= 0 || n <= 0 {
		return
	}
	p.mu.Lock()
	p.wanted = true
	p.announced = min(max(p.announced, n), maxAnnounced)
	p.announcedUntil = time.Now().Add(announceFor)
	p.mu.Unlock()
	p.fill()
	time.AfterFunc(announceFor+time.Second, p.shrink)
}

// size is how many pairs the pool holds: its configured size, or more while announced
// starts are to come. p.mu is held.
func (p *Pool[S]) size() int {
	if p.announced > 0 && time.Now().After(p.announcedUntil) {
		p.announced = 0
	}
	return max(p.cfg.Size, p.announced)
}

// shrink ends the idle pairs above the pool's size once an announcement is over.
func (p *Pool[S]) shrink() {
	p.mu.Lock()
	var extra []*Pair[S]
	if n := p.size(); len(p.idle) > n {
		extra = append(extra, p.idle[n:]...)
		p.idle = p.idle[:n]
	}
	p.mu.Unlock()
	for _, ws := range extra {
		p.Discard(ws)
	}
}

// StartBegins and StartEnds count a start in flight; the last of a burst that kept
// every CPU busy runs the refill it put off.
func (p *Pool[S]) StartBegins() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.starting++
	p.mu.Unlock()
}

// StartEnds: see StartBegins.
func (p *Pool[S]) StartEnds() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.starting--
	refill := p.deferred && p.starting < runtime.NumCPU()
	if refill {
		p.deferred = false
	}
	p.mu.Unlock()
	if refill {
		p.fill()
	}
}

// Refill tops the pool up after a start, in the background. The caller waits first for
// the container's end to be handled, or for it to have run a while: making a warm shim
// holds the kernel's cgroup mutex for a grace period (the join) and the mount namespace
// lock (the clone), which a short-lived container's cleanup and removal would otherwise
// wait out.
func (p *Pool[S]) Refill() {
	if p == nil {
		return
	}
	p.fill()
}

// fill tops the pool up in the background, once it is wanted.
func (p *Pool[S]) fill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.wanted || p.closed {
		return
	}
	if p.filled == nil {
		p.filled = make(chan struct{})
	}
	// Starts in flight on every CPU: a pair made now would slow them all down, and is
	// needed only by a start after them.
	if p.starting >= runtime.NumCPU() && p.announced == 0 {
		p.deferred = true
		return
	}
	// The pairs above the configured size are for announced starts, on their way: made
	// behind the starts of other containers, they would be late for their own.
	for len(p.idle)+p.filling < p.size() {
		urgent := len(p.idle)+p.filling >= p.cfg.Size
		p.filling++
		go p.make(urgent)
	}
}

func (p *Pool[S]) make(urgent bool) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	ws, err := p.newPair(ctx, urgent)
	if err != nil && p.ctx.Err() == nil {
		p.cfg.Log.Warn("warm shim", "err", err)
	}
	p.mu.Lock()
	if ws != nil && p.closed {
		p.mu.Unlock()
		p.Discard(ws) // before the fill counts as done: Close waits for it
		p.mu.Lock()
		ws = nil
	}
	if ws != nil {
		p.idle = append(p.idle, ws)
		p.cfg.Log.Debug("warm shim made", "took", time.Since(t0), "urgent", urgent)
	}
	p.filling = max(p.filling-1, 0)
	close(p.filled)
	p.filled = make(chan struct{})
	p.mu.Unlock()
}

func (p *Pool[S]) newPair(ctx context.Context, urgent bool) (*Pair[S], error) {
	cg := p.cfg.Cgroups
	if cg.Version() != 1 {
		// v2 cannot rename: the start moves init into its cgroup.
		w, err := p.cfg.StartShim(ctx, urgent, "")
		if err != nil {
			return nil, err
		}
		return &Pair[S]{shim: w}, nil
	}
	path := p.cgroupPrefix() + rand.Text()[:12]
	if err := cg.Create(path, spec.Resources{}); err != nil {
		return nil, err
	}
	// Where a shim's thread can join the cgroup (cgroup.V1.ThreadsCanJoin), init is born
	// there: moving it afterwards by its PID first waits for a kernel RCU grace period
	// (~8 ms here), which a thread that moves itself does not.
	born := ""
	if j, ok := cg.(interface{ ThreadsCanJoin() bool }); ok && j.ThreadsCanJoin() {
		born = path
	}
	w, err := p.cfg.StartShim(ctx, urgent, born)
	if err != nil {
		if rerr := cg.Remove(path); rerr != nil {
			p.cfg.Log.Warn("remove warm cgroup", "err", rerr)
		}
		return nil, err
	}
	ws := &Pair[S]{shim: w, cgroup: path}
	if born == "" {
		if err := cg.Add(path, w.PID()); err != nil {
			p.Discard(ws)
			return nil, err
		}
	}
	return ws, nil
}

// Place puts a taken warm init into s's cgroup, limits applied: a rename on v1, a new
// cgroup and a move otherwise (or when the rename fails).
func (p *Pool[S]) Place(ws *Pair[S], s *spec.Spec) error {
	cg := p.cfg.Cgroups
	if ws.cgroup != "" {
		err := cg.Rename(ws.cgroup, s.CgroupPath)
		if err == nil {
			ws.cgroup = ""
			return cg.Update(s.CgroupPath, s.Resources)
		}
		p.cfg.Log.Warn("warm cgroup", "err", err)
	}
	if err := cg.Create(s.CgroupPath, s.Resources); err != nil {
		return err
	}
	return cg.Add(s.CgroupPath, ws.shim.PID())
}

// Discard ends an unused warm shim and removes its cgroup once its init has left it.
func (p *Pool[S]) Discard(ws *Pair[S]) {
	ws.shim.Close()
	if ws.cgroup != "" {
		if err := p.cfg.Cgroups.Remove(ws.cgroup); err != nil {
			p.cfg.Log.Warn("remove warm cgroup", "err", err)
		}
	}
}

// Close ends the pool (daemon shutdown): fills in flight are cancelled, which ends the
// pairs they were making, and the idle pairs are ended; Close returns once their shims and
// inits have exited (Shim.Close) and their cgroups are gone. A fill that does not end in
// time is left to the next daemon, which ends what it recorded.
func (p *Pool[S]) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	p.cancel()
	idle := p.idle
	p.idle = nil
	deadline := time.After(15 * time.Second)
	for p.filling > 0 {
		filled := p.filled
		p.mu.Unlock()
		select {
		case <-filled:
		case <-deadline:
			p.mu.Lock()
			p.filling = 0 // give up: the next daemon removes what is left
			continue
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, ws := range idle {
		wg.Add(1)
		go func() { defer wg.Done(); p.Discard(ws) }()
	}
	wg.Wait()
}

// RemoveStale removes the warm cgroups a previous daemon on this data root left (killed:
// its warm shims saw their channel close and exited).
func (p *Pool[S]) RemoveStale() {
	prefix := p.cgroupPrefix()
	parent, base, _ := strings.Cut(prefix, "/")
	kids, err := p.cfg.Cgroups.Children(parent)
	if err != nil {
		p.cfg.Log.Warn("list warm cgroups", "err", err)
		return
	}
	var errs []error
	for _, k := range kids {
		if strings.HasPrefix(k, base) {
			errs = append(errs, p.cfg.Cgroups.Remove(parent+"/"+k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.cfg.Log.Warn("remove stale warm cgroups", "err", err)
	}
}
