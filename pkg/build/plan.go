package build

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
)

// DefaultEnv is the build environment when the base sets none. No HOME: init sets it
// from the user's passwd entry at run time (as Docker does), so a USER's image does not
// keep root's.
var DefaultEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// envList is an ordered environment: setting a key keeps its first position, so the
// image's Env order is stable across builds.
type XEnv []string

func (e XEnv) Get(k string) (string, bool) {
	for _, kv := range e {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v, true
		}
	}
	return "", false
}

func (e XEnv) Set(k, v string) XEnv {
	for i, kv := range e {
		if key, _, _ := strings.Cut(kv, "="); key == k {
			out := append(XEnv(nil), e...)
			out[i] = k + "=" + v
			return out
		}
	}
	return append(append(XEnv(nil), e...), k+"="+v)
}

func (e XEnv) Merge(o XEnv) XEnv {
	for _, kv := range o {
		k, v, _ := strings.Cut(kv, "=")
		e = e.Set(k, v)
	}
	return e
}

// state is what is in force at a point of a block: ENV, USER, WORKDIR.
type XState struct {
	Env     XEnv
	User    string
	Workdir string
}

// instrPlan is one instruction with its arguments expanded and the state before it.
type XInstr struct {
	In    *parse.Instr
	Args  []string // expanded (COPY: sources then destination; WORKDIR, USER: one)
	State XState
	Step  *XStep // a Dockerfile's RUN or ADD: what it runs and mounts
}

// XBlock is a block ready to schedule: its base, its NEED closure, and every
// instruction expanded.
type XBlock struct {
	Def      *parse.Block
	Index    int // file order
	Base     *XBase
	Closure  []*XBlock // NEED closure, dependency order, not including this block
	Froms    []*XBlock // COPY FROM= blocks, in instruction order
	Deps     []string  // NEED + BNEED names, for the scheduler
	Start    XState
	End      XState
	Instrs   []XInstr
	AutoDeps bool // AUTO-DEPS present
}

// plan holds the whole build: blocks to build (file order) and the target.
type XPlan struct {
	File   *parse.File
	Args   map[string]string // ARG defaults overridden by build args
	Blocks []*XBlock         // the ones this build runs, file order
	ByName map[string]*XBlock
	Target *XBlock   // nil when the file has no block
	Image  []*XBlock // target's NEED closure then the target: the image's layers
}

// selectBlocks returns the blocks a build runs: all of them, or what target reaches.
func selectBlocks(f *parse.File, target string) ([]*parse.Block, *parse.Block, error) {
	if len(f.Blocks) == 0 {
		if target != "" {
			return nil, nil, fmt.Errorf("target %q: the file has no blocks: %w", target, errdefs.ErrInvalid)
		}
		return nil, nil, nil
	}
	if target == "" {
		return f.Blocks, f.Blocks[len(f.Blocks)-1], nil
	}
	t := f.Block(target)
	if t == nil {
		var names []string
		for _, b := range f.Blocks {
			names = append(names, b.Name)
		}
		return nil, nil, fmt.Errorf("target %q is not a block of %s; blocks: %s: %w", target, f.Name, strings.Join(names, ", "), errdefs.ErrInvalid)
	}
	reach := map[string]bool{}
	var visit func(b *parse.Block)
	visit = func(b *parse.Block) {
		if reach[b.Name] {
			return
		}
		reach[b.Name] = true
		for _, d := range parse.Deps(b) {
			visit(f.Block(d.Text))
		}
	}
	visit(t)
	var out []*parse.Block
	for _, b := range f.Blocks {
		if reach[b.Name] {
			out = append(out, b)
		}
	}
	return out, t, nil
}

// buildArgs merges ARG defaults with the request's values (which win).
func buildArgs(f *parse.File, given map[string]string) map[string]string {
	args := map[string]string{}
	for _, in := range f.Args {
		for _, kv := range in.KVs {
			if kv.HasValue {
				args[kv.Key] = kv.Value
			}
		}
	}
	for k, v := range given {
		args[k] = v
	}
	return args
}

// expand replaces ${NAME} with the ENV in force or the build arg; unknown names are errors.
func expand(s string, env XEnv, args map[string]string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		name := s[i+2 : i+j]
		v, ok := env.Get(name)
		if !ok {
			v, ok = args[name]
		}
		if !ok {
			return "", fmt.Errorf("unknown variable ${%s}: declare it with ARG or ENV, or pass --build-arg %s=VALUE", name, name)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

func posErr(pos parse.Pos, err error) error {
	return &parse.Error{Pos: pos, Msg: err.Error()}
}

// newPlan expands every block in file order (each block's NEEDs come first in a valid
// file's dependency order, which topo guarantees). bases maps each block to its base.
func newPlan(f *parse.File, sel []*parse.Block, target *parse.Block, args map[string]string, bases map[string]*XBase) (*XPlan, error) {
	p := &XPlan{File: f, Args: args, ByName: map[string]*XBlock{}}
	index := map[string]int{}
	for i, b := range f.Blocks {
		index[b.Name] = i
	}
	for _, b := range sel {
		bp := &XBlock{Def: b, Index: index[b.Name], Base: bases[b.Name]}
		p.Blocks = append(p.Blocks, bp)
		p.ByName[b.Name] = bp
	}
	var errs parse.ErrorList
	for _, bp := range topo(p.Blocks, func(bp *XBlock) []string { return names(parse.Deps(bp.Def)) }, p.ByName) {
		if err := p.expandBlock(bp); err != nil {
			if pe, ok := err.(*parse.Error); ok {
				errs = append(errs, pe)
				continue
			}
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if target != nil {
		p.Target = p.ByName[target.Name]
		p.Image = append(append([]*XBlock(nil), p.Target.Closure...), p.Target)
	}
	return p, nil
}

func names(ws []parse.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// topo orders blocks so deps come first, picking the earliest in file order among ready ones.
func topo(blocks []*XBlock, deps func(*XBlock) []string, byName map[string]*XBlock) []*XBlock {
	done := map[string]bool{}
	var out []*XBlock
	for len(out) < len(blocks) {
		progress := false
		for _, bp := range blocks {
			if done[bp.Def.Name] {
				continue
			}
			ready := true
			for _, d := range deps(bp) {
				if _, in := byName[d]; in && !done[d] {
					ready = false
					break
				}
			}
			if ready {
				done[bp.Def.Name] = true
				out = append(out, bp)
				progress = true
				break // restart from the top: file order among the ready
			}
		}
		if !progress {
			break // a cycle; the parser already reported it
		}
	}
	return out
}

// needClosure is every block reachable from b through NEED, dependencies first.
func (p *XPlan) needClosure(b *parse.Block) []*XBlock {
	inClosure := map[string]bool{}
	var walk func(x *parse.Block)
	walk = func(x *parse.Block) {
		for _, n := range x.Needs {
			if !inClosure[n.Text] {
				inClosure[n.Text] = true
				walk(p.File.Block(n.Text))
			}
		}
	}
	walk(b)
	var cl []*XBlock
	for _, x := range p.Blocks {
		if inClosure[x.Def.Name] {
			cl = append(cl, x)
		}
	}
	return topo(cl, func(x *XBlock) []string { return names(x.Def.Needs) }, p.ByName)
}

func (p *XPlan) expandBlock(bp *XBlock) error {
	f, b := p.File, bp.Def
	bp.Deps = names(parse.Deps(b))
	bp.Closure = p.needClosure(b)

	// State at the start: base, top-level ENV, then what the NEEDs leave (later wins).
	st := XState{Workdir: "/"}
	if bp.Base != nil {
		st.Env = append(XEnv(nil), bp.Base.Env()...)
		st.User = bp.Base.Config.Config.User
		if wd := bp.Base.Config.Config.WorkingDir; wd != "" {
			st.Workdir = wd
		}
	}
	if len(st.Env) == 0 {
		st.Env = append(XEnv(nil), DefaultEnv...)
	}
	for _, in := range f.Env {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, st.Env, p.Args)
			if err != nil {
				return posErr(kv.Pos, err)
			}
			st.Env = st.Env.Set(kv.Key, v)
		}
	}
	for _, n := range b.Needs {
		d := p.ByName[n.Text]
		st.Env = st.Env.Merge(d.End.Env)
		if d.End.User != "" {
			st.User = d.End.User
		}
		if d.End.Workdir != "/" && d.End.Workdir != "" {
			st.Workdir = d.End.Workdir
		}
	}
	bp.Start = st
	for _, in := range b.Instrs {
		ip := XInstr{In: in, State: st}
		ex := func(w parse.Word) (string, error) {
			s, err := expand(w.Text, st.Env, p.Args)
			if err != nil {
				return "", posErr(w.Pos, err)
			}
			return s, nil
		}
		switch in.Keyword {
		case "COPY", "WORKDIR", "USER", "VOLUME":
			for _, w := range in.Args {
				s, err := ex(w)
				if err != nil {
					return err
				}
				ip.Args = append(ip.Args, s)
			}
		case "PKG":
			for _, w := range in.Args {
				ip.Args = append(ip.Args, w.Text)
			}
		}
		switch in.Keyword {
		case "WORKDIR":
			wd := ip.Args[0]
			if !path.IsAbs(wd) {
				wd = path.Join(st.Workdir, wd)
			}
			st.Workdir = path.Clean(wd)
		case "USER":
			st.User = ip.Args[0]
		case "ENV":
			for _, kv := range in.KVs {
				v, err := expand(kv.Value, st.Env, p.Args)
				if err != nil {
					return posErr(kv.Pos, err)
				}
				st.Env = st.Env.Set(kv.Key, v)
			}
		case "COPY":
			if in.From != "" {
				bp.Froms = append(bp.Froms, p.ByName[in.From])
			}
		case "AUTO-DEPS":
			bp.AutoDeps = true
			continue // runs after the other instructions
		}
		bp.Instrs = append(bp.Instrs, ip)
	}
	bp.End = st
	return nil
}

// runEnv is the environment of a build container: the state's ENV plus build args not
// shadowed by it, sorted after the ENV for a stable order.
func (p *XPlan) runEnv(st XState) []string {
	env := append([]string(nil), st.Env...)
	var extra []string
	for k, v := range p.Args {
		if _, ok := st.Env.Get(k); !ok {
			extra = append(extra, k+"="+v)
		}
	}
	sort.Strings(extra)
	return append(env, extra...)
}
