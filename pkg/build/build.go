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

	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/layer"
	"github.com/minibox/minibox/pkg/oci"
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
		p         *plan
		imageBase *baseInfo
		ds        *dockerPlan
		err       error
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
		p, imageBase = ds.plan, ds.target.base
	} else if p, imageBase, err = bld.planMiniBox(ctx, &req, logf, name, workers); err != nil {
		return nil, err
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
	order := make([]string, len(p.blocks))
	for i, bp := range p.blocks {
		order[i] = bp.b.Name
		deps[bp.b.Name] = bp.deps
	}
	var held []string
	var releases []func()
	defer func() {
		bld.release(held)
		for _, r := range releases {
			r()
		}
	}()
	step := 0
	var failed string
	failed, err = schedule(ctx, order, deps, workers, func(ctx context.Context, n string) error {
		bp := p.byName[n]
		lw := &lineWriter{block: n, emit: logf}
		rmu.Lock()
		writers[n] = lw
		step++
		stepNo := step
		rmu.Unlock()
		bt := time.Now()
		var rel []func()
		state, err := bld.runBlock(ctx, p, &req, bp, tmp, lw, send, stepNo, &rel)
		rmu.Lock()
		releases = append(releases, rel...)
		rmu.Unlock()
		d := time.Since(bt)
		rmu.Lock()
		results[n] = &BlockResult{Name: n, State: state, DurationMS: d.Milliseconds(), Key: bp.key}
		if bp.entry != nil {
			results[n].Layer = bp.entry.Digest.String()
		}
		if bp.key != "" {
			held = append(held, bp.key)
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
	for _, bp := range p.blocks {
		res.Blocks = append(res.Blocks, *results[bp.b.Name])
	}
	res.CriticalPath = criticalPath(p, results)
	if ds != nil {
		err = bld.finalizeDocker(ctx, ds, &req, res, logf)
	} else {
		err = bld.finalize(ctx, p, &req, imageBase, res, logf)
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

// planMiniBox parses a MiniBox file and resolves its bases into a plan.
func (bld *Builder) planMiniBox(ctx context.Context, req *Request, logf func(string, string), name string, workers int) (*plan, *baseInfo, error) {
	if req.FileName == "" {
		req.FileName = "MiniBox"
	}
	if len(strings.TrimSpace(string(req.File))) == 0 {
		return nil, nil, errdefs.Invalid("MiniBox content is required")
	}
	f, err := parse.Parse(req.FileName, req.File)
	if err != nil {
		return nil, nil, err
	}
	if err := bld.prepareContext(req, IgnoreFile); err != nil {
		return nil, nil, err
	}
	args := buildArgs(f, req.BuildArgs)
	req.epoch = layer.DefaultEpoch
	if s, ok := args["SOURCE_DATE_EPOCH"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, nil, errdefs.Invalid(fmt.Sprintf("SOURCE_DATE_EPOCH=%s: expected seconds since 1970", s))
		}
		req.epoch = time.Unix(n, 0).UTC()
	}
	sel, target, err := selectBlocks(f, req.Target)
	if err != nil {
		return nil, nil, err
	}
	logf("build", "START image="+name)
	logf("build", fmt.Sprintf("mode=%s blocks=%d workers=%d", f.Format, len(sel), workers))

	// Bases: each distinct reference once.
	bases := map[string]*baseInfo{}
	byRef := map[string]*baseInfo{}
	baseOf := func(w *parse.Word) (*baseInfo, error) {
		ref, err := expand(w.Text, envList(nil), args)
		if err != nil {
			return nil, posErr(w.Pos, err)
		}
		if b, ok := byRef[ref]; ok {
			return b, nil
		}
		b, err := bld.resolveBase(ctx, req, ref, logf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.Pos, err)
		}
		byRef[ref] = b
		return b, nil
	}
	imageBase, err := baseOf(f.BaseOf(target))
	if err != nil {
		return nil, nil, err
	}
	for _, b := range sel {
		if bases[b.Name], err = baseOf(f.BaseOf(b)); err != nil {
			return nil, nil, err
		}
	}
	p, err := newPlan(f, sel, target, args, bases)
	if err != nil {
		return nil, nil, err
	}
	return p, imageBase, nil
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
	var ig *Ignore
	if req.Dockerfile {
		ig, err = LoadDockerIgnore(real, ignoreFiles...)
	} else {
		ig, err = LoadIgnore(real)
	}
	if err != nil {
		return fmt.Errorf("read the ignore file: %w", err)
	}
	req.Context = real
	req.ctx = &ctxView{root: real, ignore: ig}
	return nil
}

// runBlock computes a block's key and either reuses layers/<key> or builds it.
func (bld *Builder) runBlock(ctx context.Context, p *plan, req *Request, bp *blockPlan, tmp string,
	lw *lineWriter, send func(Event), step int, releases *[]func()) (string, error) {
	bx := &blockRun{bld: bld, plan: p, req: req, bp: bp, out: lw, tmp: tmp}
	key, err := bx.blockKey(ctx)
	if err != nil {
		return "FAILED", err
	}
	bp.key = key
	bld.hold(key)
	if bld.HoldKey != nil {
		release, err := bld.HoldKey(key)
		if err != nil {
			return "FAILED", fmt.Errorf("hold cache entry: %w", err)
		}
		*releases = append(*releases, release)
	}
	var needs []string
	for _, n := range bp.b.Needs {
		needs = append(needs, n.Text)
	}
	if p.file.Format == parse.Legacy {
		lw.engine(fmt.Sprintf("Step %d/%d: %s", blockIndex(p, bp)+1, len(p.blocks), bp.b.Step))
	}
	if !req.NoCache {
		if e := bld.lookup(key); e != nil {
			if err := bld.ensureBlob(ctx, e, req.epoch); err != nil {
				return "FAILED", err
			}
			bp.entry = e
			if p.file.Format == parse.Legacy {
				lw.engine(" ---> Using cache")
			}
			return "CACHED", nil
		}
	}
	send(Event{Block: bp.b.Name, State: "START", Title: blockTitle(p, bp)})
	lw.engine(fmt.Sprintf("START needs=%s workdir=%s", strings.Join(needs, ","), bp.start.workdir))
	if t := blockTitle(p, bp); t != "" {
		// The instruction, as BuildKit's plain progress names each step.
		lw.engine(t)
	}
	if p.file.Format == parse.Legacy {
		lw.engine(" ---> Building...")
	}
	bx.dir = filepath.Join(tmp, bp.b.Name)
	bx.upper = filepath.Join(bx.dir, "upper")
	bx.work = filepath.Join(bx.dir, "work")
	bx.lower = lowerDirs(bp)
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
	bp.entry = e
	return "DONE", nil
}

// blockTitle is a Dockerfile step's file:line and instruction, "" for other blocks.
func blockTitle(p *plan, bp *blockPlan) string {
	if p.file.Format == parse.Dockerfile && len(bp.instrs) > 0 && bp.instrs[0].in.Raw != "" {
		return stepText(bp.instrs[0])
	}
	return ""
}

func blockIndex(p *plan, bp *blockPlan) int {
	for i, x := range p.blocks {
		if x == bp {
			return i
		}
	}
	return 0
}

func autoInstr(bp *blockPlan) *parse.Instr {
	for _, in := range bp.b.Instrs {
		if in.Keyword == "AUTO-DEPS" {
			return in
		}
	}
	return &parse.Instr{Keyword: "AUTO-DEPS", Pos: bp.b.Pos}
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
func criticalPath(p *plan, res map[string]*BlockResult) []string {
	best := map[string]int64{}
	prev := map[string]string{}
	var last string
	for _, bp := range topo(p.blocks, func(x *blockPlan) []string { return x.deps }, p.byName) {
		n := bp.b.Name
		var b int64
		for _, d := range bp.deps {
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

// healthConfig is Docker's Healthcheck (durations in ns), kept in the config's extension.
type healthConfig struct {
	Test        []string      `json:"Test"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

type configWithHealth struct {
	ocispec.ImageConfig
	Healthcheck json.RawMessage `json:"Healthcheck,omitempty"`
	Shell       []string        `json:"Shell,omitempty"`
}

// imageConfig is ocispec.Image plus Docker's Healthcheck, which the OCI struct lacks.
type imageConfig struct {
	Created *time.Time `json:"created,omitempty"`
	ocispec.Platform
	Config  configWithHealth  `json:"config,omitempty"`
	RootFS  ocispec.RootFS    `json:"rootfs"`
	History []ocispec.History `json:"history,omitempty"`
}

// finalize writes the image: base layers, the target's NEED closure, the target; a config
// that inherits the base's and adds the file's settings; the manifest; the names.
func (bld *Builder) finalize(ctx context.Context, p *plan, req *Request, base *baseInfo, res *Result, logf func(string, string)) error {
	t0 := time.Now()
	layers := append([]ocispec.Descriptor(nil), base.Layers...)
	diffIDs := append([]digest.Digest(nil), base.DiffIDs...)
	var fresh []ocispec.Descriptor
	if base.Built {
		fresh = append(fresh, base.Layers...)
	}
	for _, bp := range p.image {
		if bp.entry.Entries == 0 {
			continue // ENV-only blocks add nothing to the filesystem
		}
		layers = append(layers, bp.entry.descriptor())
		diffIDs = append(diffIDs, bp.entry.DiffID)
		fresh = append(fresh, bp.entry.descriptor())
	}
	logf("finalize", fmt.Sprintf("writing %d layer(s)", len(layers)))
	epoch := req.epoch
	cfg := imageConfig{Created: &epoch, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	cfg.Platform = base.Config.Platform
	if cfg.OS == "" || base.Digest == "scratch" || len(base.Layers) == 0 {
		hp := oci.HostPlatform()
		cfg.OS, cfg.Architecture, cfg.Variant = hp.OS, hp.Architecture, hp.Variant
	}
	c := base.Config.Config
	c.Env = nil
	st, err := finalState(p, base, c)
	if err != nil {
		return err
	}
	c.Env = append([]string(nil), st.env...)
	c.User = st.user
	if st.workdir != "" && (st.workdir != "/" || c.WorkingDir != "") {
		c.WorkingDir = st.workdir
	}
	shell := fileShell(p.file, base)
	if ep := p.file.Entrypoint; ep != nil {
		c.Entrypoint = ep.Argv(shell)
		if p.file.Start == nil {
			c.Cmd = nil // Docker's rule: a new ENTRYPOINT drops an inherited CMD
		}
	}
	if cmd := p.file.Start.Argv(shell); cmd != nil {
		c.Cmd = cmd
	}
	if w := p.file.StopSignal; w != nil {
		c.StopSignal = w.Text
	}
	topEnv := envList(c.Env)
	if c.ExposedPorts, err = fileExposedPorts(p, c.ExposedPorts, topEnv); err != nil {
		return err
	}
	if c.Labels, err = fileLabels(p, c.Labels, topEnv); err != nil {
		return err
	}
	c.Volumes = fileVolumes(p, c.Volumes)
	c.Labels = withLabels(c.Labels, req.Labels)
	cfg.Config = configWithHealth{ImageConfig: c, Healthcheck: base.Health, Shell: shell}
	cfg.History = miniBoxHistory(p, base, epoch)
	if h := p.file.Health; h != nil {
		hc := healthConfig{Test: h.Test}
		if h.Test[0] != "NONE" {
			hc.Interval, hc.Timeout, hc.StartPeriod, hc.Retries = h.Interval, h.Timeout, h.StartPeriod, h.Retries
		}
		cfg.Config.Healthcheck, _ = json.Marshal(hc)
	}
	cb, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := bld.writeImage(ctx, req, cb, layers, fresh, res); err != nil {
		return err
	}
	logf("finalize", fmt.Sprintf("done (%s)", FormatDuration(time.Since(t0))))
	return nil
}

// miniBoxHistory is Docker's history of the image: the base's entries, then one per
// block of the image, created_by naming the block and its instructions (an ENV-only block
// is an empty layer, as Docker marks config-only steps). The base's entries keep what
// they did but not when: the image's digest depends on the base's layers and steps, not
// on when a base was imported into this data root.
func miniBoxHistory(p *plan, base *baseInfo, epoch time.Time) []ocispec.History {
	var out []ocispec.History
	if base != nil && len(base.Raw) > 0 {
		var img struct {
			History []ocispec.History `json:"history"`
		}
		json.Unmarshal(base.Raw, &img)
		for _, h := range img.History {
			h.Created = nil
			out = append(out, h)
		}
	}
	for _, bp := range p.image {
		var steps []string
		for _, ip := range bp.instrs {
			steps = append(steps, instrText(ip))
		}
		out = append(out, ocispec.History{Created: &epoch, CreatedBy: "BLOCK " + bp.b.Name + ": " + strings.Join(steps, "; "),
			Comment: "minibox build", EmptyLayer: bp.entry.Entries == 0})
	}
	return out
}

// instrText is an instruction as written: its keyword and arguments.
func instrText(ip instrPlan) string {
	in := ip.in
	if in.Raw != "" && in.Keyword == "RUN" {
		return "RUN " + in.Raw
	}
	var b strings.Builder
	b.WriteString(in.Keyword)
	if in.Chown != "" {
		b.WriteString(" --chown=" + in.Chown)
	}
	if in.Chmod != "" {
		b.WriteString(" --chmod=" + in.Chmod)
	}
	if in.From != "" {
		b.WriteString(" FROM=" + in.From)
	}
	for _, a := range ip.args {
		b.WriteString(" " + a)
	}
	if len(ip.args) == 0 {
		for _, kv := range in.KVs {
			b.WriteString(" " + kv.Key + "=" + kv.Value)
		}
		if len(in.KVs) == 0 {
			for _, w := range in.Args {
				b.WriteString(" " + w.Text)
			}
		}
	}
	return b.String()
}

// fileShell is the shell of shell forms: the file's SHELL, else the base image's.
func fileShell(f *parse.File, base *baseInfo) []string {
	if len(f.Shell) > 0 {
		return f.Shell
	}
	if base == nil || len(base.Raw) == 0 {
		return nil
	}
	var img struct {
		Config struct {
			Shell []string `json:"Shell"`
		} `json:"config"`
	}
	json.Unmarshal(base.Raw, &img)
	return img.Config.Shell
}

// finalState is the environment, user and workdir the image keeps: the target block's,
// or (an image of the base and top-level settings only) the base's with the file's ENV.
func finalState(p *plan, base *baseInfo, c ocispec.ImageConfig) (state, error) {
	if p.target != nil {
		return p.target.end, nil
	}
	st := state{env: append(envList(nil), base.env()...)}
	if len(st.env) == 0 {
		st.env = append(envList(nil), DefaultEnv...)
	}
	for _, in := range p.file.Env {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, st.env, p.args)
			if err != nil {
				return st, posErr(kv.Pos, err)
			}
			st.env = st.env.set(kv.Key, v)
		}
	}
	st.user, st.workdir = c.User, c.WorkingDir
	return st, nil
}

// fileExposedPorts adds the file's EXPOSE ports to the inherited ones.
func fileExposedPorts(p *plan, inherited map[string]struct{}, env envList) (map[string]struct{}, error) {
	if len(p.file.Ports) == 0 {
		return inherited, nil
	}
	ports := map[string]struct{}{}
	for k := range inherited {
		ports[k] = struct{}{}
	}
	for _, w := range p.file.Ports {
		s, err := expand(w.Text, env, p.args)
		if err != nil {
			return nil, posErr(w.Pos, err)
		}
		if err := parse.CheckPort(s); err != nil {
			return nil, posErr(w.Pos, err)
		}
		if !strings.Contains(s, "/") {
			s += "/tcp"
		}
		ports[s] = struct{}{}
	}
	return ports, nil
}

// fileLabels sets the file's LABELs over the inherited ones.
func fileLabels(p *plan, inherited map[string]string, env envList) (map[string]string, error) {
	if len(p.file.Labels) == 0 {
		return inherited, nil
	}
	labels := map[string]string{}
	for k, v := range inherited {
		labels[k] = v
	}
	for _, in := range p.file.Labels {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, env, p.args)
			if err != nil {
				return nil, posErr(kv.Pos, err)
			}
			labels[kv.Key] = v
		}
	}
	return labels, nil
}

// fileVolumes adds the VOLUMEs of the image's blocks to the inherited ones.
func fileVolumes(p *plan, vols map[string]struct{}) map[string]struct{} {
	for _, bp := range p.image {
		for _, ip := range bp.instrs {
			if ip.in.Keyword != "VOLUME" {
				continue
			}
			if vols == nil {
				vols = map[string]struct{}{}
			}
			for _, v := range ip.args {
				vols[v] = struct{}{}
			}
		}
	}
	return vols
}

// withLabels returns labels with extra set over them (a copy when extra has any).
func withLabels(labels, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return labels
	}
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
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
