package build

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/build/dockerfile"
	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/ignore"
	"github.com/minibox/minibox/pkg/build/miniboxfile"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/layer"
	"github.com/minibox/minibox/pkg/seccomp"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PullFunc pulls ref into the image store as `minibox pull` does, reporting progress lines.
type PullFunc func(ctx context.Context, ref string, progress func(line string)) (*image.Image, error)

// Builder builds MiniBox files in one data root. It is safe for concurrent builds.
type Builder struct {
	Root    string // data root: layers/ and tmp/ live here
	Images  *image.Store
	Run     RunFunc  // nil: RUN, PKG and AUTO-DEPS fail
	Pull    PullFunc // nil: only local bases
	Workers int      // concurrent blocks; 0 = DefaultWorkers
	// OnLayer is called for every layer an image build adds (lazy indexing); nil skips.
	OnLayer func(ocispec.Descriptor)
	// HoldKey, if set, marks a cache key as used by this build until release (prune
	// --build-cache spares it); the daemon passes prune.HoldLayer.
	HoldKey func(key string) (release func(), err error)
	// HoldCacheMount, if set, marks cache-mounts/<name> as used by a running RUN until
	// release (a prune of the build cache spares it); the daemon passes prune.HoldCacheMount.
	HoldCacheMount func(name string) (release func(), err error)
	Log            *slog.Logger

	caps    []string
	seccomp []byte

	mu    sync.Mutex
	inUse map[string]int // cache keys running builds hold (prune spares them)
}

// DefaultWorkers bounds the blocks that run at once when Workers is 0. Blocks mostly wait
// (on a RUN's processes, on disk), so ready ones all start rather than at most one per CPU.
const DefaultWorkers = 16

// New returns a builder; the seccomp filter of build containers is compiled once here.
func New(root string, images *image.Store, run RunFunc, pull PullFunc, log *slog.Logger) (*Builder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Builder{Root: root, Images: images, Run: run, Pull: pull, Log: log, inUse: map[string]int{}}
	b.caps = caps.Default()
	prog, err := seccomp.Compile(seccomp.Default(), b.caps)
	if err != nil {
		return nil, fmt.Errorf("compile build seccomp filter: %w", err)
	}
	b.seccomp = prog
	if err := os.MkdirAll(filepath.Join(root, "layers"), 0o700); err != nil {
		return nil, err
	}
	return b, nil
}

// Request is one build.
type Request struct {
	File      []byte // the MiniBox content
	FileName  string // for error positions; default "MiniBox"
	Context   string // absolute context directory (already checked against the prefixes)
	Tags      []string
	NoCache   bool
	Pull      bool
	Target    string
	BuildArgs map[string]string
	// Puller, if set, pulls bases for this build (with its credentials) instead of Pull.
	Puller PullFunc
	// Dockerfile: File is a Dockerfile (or Containerfile), not a MiniBox file.
	Dockerfile bool
	Labels     map[string]string // added to the image's labels (--label)
	Platform   string            // --platform: only the host's is built
	// Secrets by id, for RUN --mount=type=secret: written to the block's temporary
	// directory while the RUN runs, never to a layer, never hashed into a key.
	Secrets map[string][]byte

	ctx   *ctxView
	epoch time.Time
}

// Event is one line of the build stream: a log line, or a block state change.
type Event struct {
	Time       time.Time `json:"time"`
	Block      string    `json:"block"`
	Line       string    `json:"line,omitempty"`
	State      string    `json:"state,omitempty"` // START CACHED DONE FAILED
	DurationMS int64     `json:"duration_ms,omitempty"`
	// Title names a Dockerfile step with its state ("Dockerfile:3:1: RUN make"), for a
	// live view's row, cached steps included.
	Title string `json:"title,omitempty"`
}

// BlockResult is one block's outcome.
type BlockResult struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	Key        string `json:"key,omitempty"`
	Layer      string `json:"layer,omitempty"`
}

// Result is a finished build.
type Result struct {
	Image        string        `json:"image"`
	Tags         []string      `json:"tags"`
	Digest       string        `json:"digest"` // manifest digest
	ID           string        `json:"id"`     // config digest
	Blocks       []BlockResult `json:"blocks"`
	CriticalPath []string      `json:"critical_path"`
	DurationMS   int64         `json:"duration_ms"`
}

// BlockError is a failed build, naming the block and its last output lines.
type BlockError struct {
	Block     string
	LastLines []string
	Err       error
}

func (e *BlockError) Error() string { return fmt.Sprintf("block %s: %v", e.Block, e.Err) }
func (e *BlockError) Unwrap() error { return e.Err }

// Build runs a build, sending events to emit (called from several goroutines, serialised
// here). Parse errors are a parse.ErrorList (errdefs.ErrInvalid); a failed block is a
// *BlockError.
func (bld *Builder) Build(ctx context.Context, req Request, emit func(Event)) (*Result, error) {
	t0 := time.Now()
	var emu sync.Mutex
	send := func(ev Event) {
		ev.Time = time.Now().UTC()
		emu.Lock()
		defer emu.Unlock()
		emit(ev)
	}
	logf := func(block, line string) { send(Event{Block: block, Line: line}) }
	var (
		p   *graph.Plan
		ds  *dockerfile.Plan
		mp  *miniboxfile.Plan
		err error
	)
	name := ""
	if len(req.Tags) > 0 {
		name = req.Tags[0]
	}
	workers := bld.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if req.Dockerfile {
		if ds, err = bld.planDockerfile(ctx, &req, logf, name, workers); err != nil {
			return nil, err
		}
		p = ds.Graph
	} else {
		if mp, err = bld.planMiniBox(ctx, &req, logf, name, workers); err != nil {
			return nil, err
		}
		p = mp.Graph
	}

	// Blocks.
	tmp, err := os.MkdirTemp(filepath.Join(bld.Root, "tmp"), "build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	results := map[string]*BlockResult{}
	var rmu sync.Mutex
	writers := map[string]*lineWriter{}
	deps := map[string][]string{}
	order := make([]string, len(p.Blocks))
	for i, bp := range p.Blocks {
		order[i] = bp.Def.Name
		deps[bp.Def.Name] = bp.Deps
	}
	var held []string
	var releases []func()
	defer func() {
		bld.release(held)
		for _, r := range releases {
			r()
		}
	}()
	done := make(built, len(p.Blocks))
	for _, bp := range p.Blocks {
		done[bp] = &blockOut{}
	}
	step := 0
	var failed string
	failed, err = schedule(ctx, order, deps, workers, func(ctx context.Context, n string) error {
		bp := p.ByName[n]
		lw := &lineWriter{block: n, emit: logf}
		rmu.Lock()
		writers[n] = lw
		step++
		stepNo := step
		rmu.Unlock()
		bt := time.Now()
		var rel []func()
		state, err := bld.runBlock(ctx, p, done, &req, bp, tmp, lw, send, stepNo, &rel)
		rmu.Lock()
		releases = append(releases, rel...)
		rmu.Unlock()
		d := time.Since(bt)
		rmu.Lock()
		out := done[bp]
		results[n] = &BlockResult{Name: n, State: state, DurationMS: d.Milliseconds(), Key: out.key}
		if out.entry != nil {
			results[n].Layer = out.entry.Digest.String()
		}
		if out.key != "" {
			held = append(held, out.key)
		}
		rmu.Unlock()
		if err != nil {
			send(Event{Block: n, State: "FAILED", DurationMS: d.Milliseconds(), Title: blockTitle(p, bp)})
			// The error itself ends the build's output, once.
			logf(n, fmt.Sprintf("FAILED (%s)", FormatDuration(d)))
			return err
		}
		send(Event{Block: n, State: state, DurationMS: d.Milliseconds(), Title: blockTitle(p, bp)})
		logf(n, fmt.Sprintf("%s (%s)", state, FormatDuration(d)))
		return nil
	})
	if err != nil {
		if failed == "" {
			return nil, err
		}
		var lines []string
		if w := writers[failed]; w != nil {
			lines = w.lines()
		}
		return nil, &BlockError{Block: failed, LastLines: lines, Err: err}
	}

	// Finalize.
	res := &Result{Image: name, Tags: req.Tags}
	for _, bp := range p.Blocks {
		res.Blocks = append(res.Blocks, *results[bp.Def.Name])
	}
	res.CriticalPath = criticalPath(p, results)
	if ds != nil {
		// The target stage, with Docker's config and history.
		err = bld.finalize(ctx, ds, ds.Layers(), done, &req, res, logf)
	} else {
		// The target's NEED closure and the target.
		err = bld.finalize(ctx, mp, mp.Graph.Image, done, &req, res, logf)
	}
	if err != nil {
		return nil, err
	}
	cached := 0
	for _, b := range res.Blocks {
		if b.State == "CACHED" {
			cached++
		}
	}
	logf("dag-summary", fmt.Sprintf("blocks=%d cached=%d built=%d critical-path=%s",
		len(res.Blocks), cached, len(res.Blocks)-cached, strings.Join(res.CriticalPath, "→")))
	d := time.Since(t0)
	res.DurationMS = d.Milliseconds()
	logf("build", fmt.Sprintf("DONE image=%s manifest=%s (%s)", name, strings.TrimPrefix(res.Digest, "sha256:")[:12], FormatDuration(d)))
	return res, nil
}

// planMiniBox parses a MiniBox file, readies the context and has the MiniBox frontend
// plan it.
func (bld *Builder) planMiniBox(ctx context.Context, req *Request, logf func(string, string), name string, workers int) (*miniboxfile.Plan, error) {
	if req.FileName == "" {
		req.FileName = "MiniBox"
	}
	if len(strings.TrimSpace(string(req.File))) == 0 {
		return nil, errdefs.Invalid("MiniBox content is required")
	}
	f, err := parse.Parse(req.FileName, req.File)
	if err != nil {
		return nil, err
	}
	if err := bld.prepareContext(req, ignore.MiniBoxFile); err != nil {
		return nil, err
	}
	args := miniboxfile.Args(f, req.BuildArgs)
	req.epoch = layer.DefaultEpoch
	if s, ok := args["SOURCE_DATE_EPOCH"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errdefs.Invalid(fmt.Sprintf("SOURCE_DATE_EPOCH=%s: expected seconds since 1970", s))
		}
		req.epoch = time.Unix(n, 0).UTC()
	}
	return miniboxfile.PlanFile(ctx, f, miniboxfile.Options{Args: args, Target: req.Target,
		ResolveBase: func(ctx context.Context, ref string) (*graph.Base, error) {
			return bld.resolveBase(ctx, req, ref, logf)
		},
		Begin: func(blocks int) {
			logf("build", "START image="+name)
			logf("build", fmt.Sprintf("mode=%s blocks=%d workers=%d", f.Format, blocks, workers))
		}})
}

// prepareContext resolves the context directory and loads its ignore file.
func (bld *Builder) prepareContext(req *Request, ignoreFiles ...string) error {
	if req.Context == "" {
		return errdefs.Invalid("build context is required")
	}
	real, err := filepath.EvalSymlinks(req.Context)
	if err != nil {
		return errdefs.Invalid(fmt.Sprintf("build context %s: %v", req.Context, err))
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return errdefs.Invalid(fmt.Sprintf("build context %s is not a directory", req.Context))
	}
	var ig *ignore.Rules
	if req.Dockerfile {
		ig, err = ignore.LoadDocker(real, ignoreFiles...)
	} else {
		ig, err = ignore.Load(real)
	}
	if err != nil {
		return fmt.Errorf("read the ignore file: %w", err)
	}
	req.Context = real
	req.ctx = &ctxView{root: real, ignore: ig}
	return nil
}

// runBlock computes a block's key and either reuses layers/<key> or builds it.
func (bld *Builder) runBlock(ctx context.Context, p *graph.Plan, done built, req *Request, bp *graph.Block, tmp string,
	lw *lineWriter, send func(Event), step int, releases *[]func()) (string, error) {
	bx := &blockRun{bld: bld, plan: p, built: done, req: req, bp: bp, out: lw, tmp: tmp}
	key, err := bx.blockKey(ctx)
	if err != nil {
		return "FAILED", err
	}
	done[bp].key = key
	bld.hold(key)
	if bld.HoldKey != nil {
		release, err := bld.HoldKey(key)
		if err != nil {
			return "FAILED", fmt.Errorf("hold cache entry: %w", err)
		}
		*releases = append(*releases, release)
	}
	var needs []string
	for _, n := range bp.Def.Needs {
		needs = append(needs, n.Text)
	}
	if p.File.Format == parse.Legacy {
		lw.engine(fmt.Sprintf("Step %d/%d: %s", blockIndex(p, bp)+1, len(p.Blocks), bp.Def.Step))
	}
	if !req.NoCache {
		if e := bld.lookup(key); e != nil {
			if err := bld.ensureBlob(ctx, e, req.epoch); err != nil {
				return "FAILED", err
			}
			done[bp].entry = e
			if p.File.Format == parse.Legacy {
				lw.engine(" ---> Using cache")
			}
			return "CACHED", nil
		}
	}
	send(Event{Block: bp.Def.Name, State: "START", Title: blockTitle(p, bp)})
	lw.engine(fmt.Sprintf("START needs=%s workdir=%s", strings.Join(needs, ","), bp.Start.Workdir))
	if t := blockTitle(p, bp); t != "" {
		// The instruction, as BuildKit's plain progress names each step.
		lw.engine(t)
	}
	if p.File.Format == parse.Legacy {
		lw.engine(" ---> Building...")
	}
	bx.dir = filepath.Join(tmp, bp.Def.Name)
	bx.upper = filepath.Join(bx.dir, "upper")
	bx.work = filepath.Join(bx.dir, "work")
	bx.lower = done.lowerDirs(bp)
	if err := os.MkdirAll(bx.upper, 0o755); err != nil {
		return "FAILED", err
	}
	if err := writeNetFiles(bx.dir); err != nil {
		return "FAILED", err
	}
	if err := bx.runInstrs(ctx); err != nil {
		return "FAILED", err
	}
	e, err := bld.commit(ctx, key, bx.upper, req.epoch)
	if err != nil {
		return "FAILED", err
	}
	done[bp].entry = e
	return "DONE", nil
}

// blockTitle is a Dockerfile step's file:line and instruction, "" for other blocks.
func blockTitle(p *graph.Plan, bp *graph.Block) string {
	if p.File.Format == parse.Dockerfile && len(bp.Instrs) > 0 && bp.Instrs[0].In.Raw != "" {
		return stepText(bp.Instrs[0])
	}
	return ""
}

func blockIndex(p *graph.Plan, bp *graph.Block) int {
	for i, x := range p.Blocks {
		if x == bp {
			return i
		}
	}
	return 0
}

func autoInstr(bp *graph.Block) *parse.Instr {
	for _, in := range bp.Def.Instrs {
		if in.Keyword == "AUTO-DEPS" {
			return in
		}
	}
	return &parse.Instr{Keyword: "AUTO-DEPS", Pos: bp.Def.Pos}
}

func (bld *Builder) hold(key string) {
	bld.mu.Lock()
	bld.inUse[key]++
	bld.mu.Unlock()
}

func (bld *Builder) release(keys []string) {
	bld.mu.Lock()
	defer bld.mu.Unlock()
	for _, k := range keys {
		if bld.inUse[k]--; bld.inUse[k] <= 0 {
			delete(bld.inUse, k)
		}
	}
}

// criticalPath is the chain of blocks, each waiting on the one before, with the largest
// total time: what bounds the build's wall time.
func criticalPath(p *graph.Plan, res map[string]*BlockResult) []string {
	best := map[string]int64{}
	prev := map[string]string{}
	var last string
	for _, bp := range graph.Order(p.Blocks, func(x *graph.Block) []string { return x.Deps }, p.ByName) {
		n := bp.Def.Name
		var b int64
		for _, d := range bp.Deps {
			if v, ok := best[d]; ok && (v > b || prev[n] == "") {
				if v >= b {
					b, prev[n] = v, d
				}
			}
		}
		best[n] = b + res[n].DurationMS
		if last == "" || best[n] >= best[last] {
			last = n
		}
	}
	var path []string
	for n := last; n != ""; n = prev[n] {
		path = append([]string{n}, path...)
	}
	return path
}

// FormatDuration prints 12ms, 1.5s, 2m3s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
}

// writeImage stores the config cb and a manifest over layers, sets every tag at once and
// hands the layers this build wrote (fresh) to OnLayer.
func (bld *Builder) writeImage(ctx context.Context, req *Request, cb []byte, layers, fresh []ocispec.Descriptor, res *Result) error {
	cd, err := bld.Images.PutBlob(ctx, cb)
	if err != nil {
		return fmt.Errorf("store image config: %w", err)
	}
	cd.MediaType = ocispec.MediaTypeImageConfig
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: layers}
	mb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	md, err := bld.Images.PutBlob(ctx, mb)
	if err != nil {
		return fmt.Errorf("store image manifest: %w", err)
	}
	md.MediaType = ocispec.MediaTypeImageManifest
	// Every tag in one write of the index: a build cut short (or refused a tag) leaves
	// none of them set rather than some.
	if err := bld.Images.SetBuiltNames(req.Tags, md, time.Now()); err != nil {
		return fmt.Errorf("tag %s: %w", strings.Join(req.Tags, ", "), err)
	}
	if bld.OnLayer != nil {
		for _, d := range fresh {
			bld.OnLayer(d)
		}
	}
	res.Digest, res.ID = md.Digest.String(), cd.Digest.String()
	return nil
}

// imagePlan is what both frontends' plans give the last step: the base the image starts
// from and the image config over the layers.
type imagePlan interface {
	Base() *graph.Base
	Config(created time.Time, diffIDs []digest.Digest, labels map[string]string, empty func(*graph.Block) bool) ([]byte, error)
}

// finalize writes the image: the base's layers, then those of blocks (in order); the
// frontend's config; the manifest; the names.
func (bld *Builder) finalize(ctx context.Context, plan imagePlan, blocks []*graph.Block, done built, req *Request, res *Result, logf func(string, string)) error {
	t0 := time.Now()
	base := plan.Base()
	layers := append([]ocispec.Descriptor(nil), base.Layers...)
	diffIDs := append([]digest.Digest(nil), base.DiffIDs...)
	var fresh []ocispec.Descriptor
	if base.Built {
		fresh = append(fresh, base.Layers...)
	}
	for _, bp := range blocks {
		e := done[bp].entry
		if e.Entries == 0 {
			continue // ENV-only blocks add nothing to the filesystem
		}
		layers = append(layers, e.descriptor())
		diffIDs = append(diffIDs, e.DiffID)
		fresh = append(fresh, e.descriptor())
	}
	logf("finalize", fmt.Sprintf("writing %d layer(s)", len(layers)))
	cb, err := plan.Config(req.epoch, diffIDs, req.Labels, func(bp *graph.Block) bool { return done[bp].entry.Entries == 0 })
	if err != nil {
		return err
	}
	if err := bld.writeImage(ctx, req, cb, layers, fresh, res); err != nil {
		return err
	}
	logf("finalize", fmt.Sprintf("done (%s)", FormatDuration(time.Since(t0))))
	return nil
}
