package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/ns"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/spec"
)

// warmPool keeps shims started ahead of their containers (shimclient.Warm), each holding an
// init already cloned into fresh namespaces and, on cgroup v1, already in a cgroup of its
// own. A start that takes one renames that cgroup to the container's instead of moving init
// into a new one (a migration waits for a kernel RCU grace period, ~8 ms here), and spares
// the shim's and init's process starts (~5 ms each).
//
// The pool fills only once a container has started that could have used it: a daemon that
// runs no containers pays nothing for it. A client about to start several containers at
// once (compose up) announces them (Prewarm): the pool then fills up to that many while the
// client still creates them, so that each start finds a pair instead of paying a cold one.
type warmPool struct {
	mu      sync.Mutex
	idle    []*warmShim
	filling int
	waiting int           // starts waiting for a fill in flight, each for one of its own
	filled  chan struct{} // closed (and replaced) whenever a fill ends
	wanted  bool
	closed  bool
	// announced is how many announced starts have not taken their pair yet, until
	// announcedUntil; the pool's size is the larger of it and Cfg.WarmShims.
	announced      int
	announcedUntil time.Time
	// starting counts starts in flight; refills wait while they keep every CPU busy
	// (deferred says one did), so that a burst of starts does not share the CPUs with
	// pairs made for later.
	starting int
	deferred bool
}

type warmShim struct {
	w      *shimclient.Warm
	cgroup string // its own cgroup, renamed to the container's when taken; "" on v2
}

// How long a start waits for a warm shim being made before making its own (a fill takes
// ~20 ms, most of it a kernel grace period; a cold start ~25 ms).
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

// warmCgroupPrefix names this daemon's warm cgroups: daemons on one host (tests) must not
// take or remove each other's.
func (e *Engine) warmCgroupPrefix() string {
	sum := sha256.Sum256([]byte(e.Root))
	return "minibox/warm-" + hex.EncodeToString(sum[:4]) + "-"
}

// takeWarm returns a warm shim for s, or nil: s does not fit one (user namespace, host
// network), the pool is off, or none is ready soon enough.
func (e *Engine) takeWarm(ctx context.Context, s *spec.Spec) *warmShim {
	// A shareable /dev/shm is mounted on the host after a warm init copied its mounts.
	if e.Cfg.WarmShims <= 0 || !ns.FitsWarm(s) || s.ShmPath != "" && s.ShmPath != "/dev/shm" {
		return nil
	}
	p := &e.warm
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
			e.Log.Debug("warm shim taken", "waited", time.Since(t0), "left", n-1)
			return ws
		}
		// Each fill in flight is waited for by one start at most: the others start cold
		// at once rather than queue behind a pair that another start takes.
		if p.filling <= p.waiting || p.closed {
			e.Log.Debug("no warm shim", "waited", time.Since(t0), "filling", p.filling)
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
			e.Log.Debug("no warm shim", "waited", time.Since(t0), "filling", p.filling)
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
func (e *Engine) Prewarm(n int) {
	if e.Cfg.WarmShims <= 0 || n <= 0 {
		return
	}
	p := &e.warm
	p.mu.Lock()
	p.wanted = true
	p.announced = min(max(p.announced, n), maxAnnounced)
	p.announcedUntil = time.Now().Add(announceFor)
	p.mu.Unlock()
	e.fillWarm()
	time.AfterFunc(announceFor+time.Second, e.shrinkWarm)
}

// size is how many pairs the pool holds: its configured size, or more while announced
// starts are to come. p.mu is held.
func (e *Engine) warmSize(p *warmPool) int {
	if p.announced > 0 && time.Now().After(p.announcedUntil) {
		p.announced = 0
	}
	return max(e.Cfg.WarmShims, p.announced)
}

// shrinkWarm ends the idle pairs above the pool's size once an announcement is over.
func (e *Engine) shrinkWarm() {
	p := &e.warm
	p.mu.Lock()
	var extra []*warmShim
	if n := e.warmSize(p); len(p.idle) > n {
		extra = append(extra, p.idle[n:]...)
		p.idle = p.idle[:n]
	}
	p.mu.Unlock()
	for _, ws := range extra {
		e.discardWarm(ws)
	}
}

// startBegins and startEnds count a start in flight; the last of a burst that kept
// every CPU busy runs the refill it put off.
func (e *Engine) startBegins() {
	p := &e.warm
	p.mu.Lock()
	p.starting++
	p.mu.Unlock()
}

func (e *Engine) startEnds() {
	p := &e.warm
	p.mu.Lock()
	p.starting--
	refill := p.deferred && p.starting < runtime.NumCPU()
	if refill {
		p.deferred = false
	}
	p.mu.Unlock()
	if refill {
		e.fillWarm()
	}
}

// fillWarmAfter tops the pool up once a start is over: once its container's end has been
// handled (settled: cleaned up, or removed for --rm), or it has run for warmAfter. Making
// a warm shim holds the kernel's cgroup mutex for a grace period (the join) and the mount
// namespace lock (the clone), which a short-lived container's cleanup and removal would
// otherwise wait out. settled is nil when the start failed.
func (e *Engine) fillWarmAfter(settled <-chan struct{}) {
	if settled != nil {
		t := time.NewTimer(warmAfter)
		select {
		case <-settled:
		case <-t.C:
		}
		t.Stop()
	}
	e.fillWarm()
}

// warmAfter is how long a start waits for its container to end before refilling the pool.
const warmAfter = 100 * time.Millisecond

// fillWarm tops the pool up in the background, once it is wanted.
func (e *Engine) fillWarm() {
	p := &e.warm
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
	for len(p.idle)+p.filling < e.warmSize(p) {
		p.filling++
		go e.makeWarm()
	}
}

func (e *Engine) makeWarm() {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := e.newWarm(ctx)
	if err != nil {
		e.Log.Warn("warm shim", "err", err)
	}
	p := &e.warm
	p.mu.Lock()
	if ws != nil && p.closed {
		p.mu.Unlock()
		e.discardWarm(ws) // before the fill counts as done: closeWarm waits for it
		p.mu.Lock()
		ws = nil
	}
	if ws != nil {
		p.idle = append(p.idle, ws)
		e.Log.Debug("warm shim made", "took", time.Since(t0))
	}
	p.filling = max(p.filling-1, 0)
	close(p.filled)
	p.filled = make(chan struct{})
	p.mu.Unlock()
}

func (e *Engine) newWarm(ctx context.Context) (*warmShim, error) {
	w, err := shimclient.StartWarm(ctx, e.ctrDir(""), shimclient.StartOptions{Log: e.Log})
	if err != nil {
		return nil, err
	}
	ws := &warmShim{w: w}
	if e.cg.Version() != 1 {
		return ws, nil // v2 cannot rename: the start moves init into its cgroup
	}
	ws.cgroup = e.warmCgroupPrefix() + rand.Text()[:12]
	if err := e.cg.Create(ws.cgroup, spec.Resources{}); err != nil {
		e.discardWarm(ws)
		return nil, err
	}
	if err := e.cg.Add(ws.cgroup, w.PID()); err != nil {
		e.discardWarm(ws)
		return nil, err
	}
	return ws, nil
}

// placeWarm puts a taken warm init into s's cgroup, limits applied: a rename on v1, a new
// cgroup and a move otherwise (or when the rename fails).
func (e *Engine) placeWarm(ws *warmShim, s *spec.Spec) error {
	if ws.cgroup != "" {
		err := e.cg.Rename(ws.cgroup, s.CgroupPath)
		if err == nil {
			ws.cgroup = ""
			return e.cg.Update(s.CgroupPath, s.Resources)
		}
		e.Log.Warn("warm cgroup", "err", err)
	}
	if err := e.cg.Create(s.CgroupPath, s.Resources); err != nil {
		return err
	}
	return e.cg.Add(s.CgroupPath, ws.w.PID())
}

// discardWarm ends an unused warm shim and removes its cgroup once its init has left it.
func (e *Engine) discardWarm(ws *warmShim) {
	ws.w.Close()
	if ws.cgroup != "" {
		if err := e.cg.Remove(ws.cgroup); err != nil {
			e.Log.Warn("remove warm cgroup", "err", err)
		}
	}
}

// closeWarm ends the pool (daemon shutdown): the idle shims go, and fills in flight
// discard what they make (waited for a while, so that their cgroups go too).
func (e *Engine) closeWarm() {
	p := &e.warm
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	deadline := time.After(5 * time.Second)
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
		go func() { defer wg.Done(); e.discardWarm(ws) }()
	}
	wg.Wait()
}

// removeStaleWarm removes the warm cgroups a previous daemon on this data root left (killed:
// its warm shims saw their channel close and exited).
func (e *Engine) removeStaleWarm() {
	prefix := e.warmCgroupPrefix()
	parent, base, _ := strings.Cut(prefix, "/")
	kids, err := e.cg.Children(parent)
	if err != nil {
		e.Log.Warn("list warm cgroups", "err", err)
		return
	}
	var errs []error
	for _, k := range kids {
		if strings.HasPrefix(k, base) {
			errs = append(errs, e.cg.Remove(parent+"/"+k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		e.Log.Warn("remove stale warm cgroups", "err", err)
	}
}
