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
type envList []string

func (e envList) get(k string) (string, bool) {
	for _, kv := range e {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v, true
		}
	}
	return "", false
}

func (e envList) set(k, v string) envList {
	for i, kv := range e {
		if key, _, _ := strings.Cut(kv, "="); key == k {
			out := append(envList(nil), e...)
			out[i] = k + "=" + v
			return out
		}
	}
	return append(append(envList(nil), e...), k+"="+v)
}

func (e envList) merge(o envList) envList {
	for _, kv := range o {
		k, v, _ := strings.Cut(kv, "=")
		e = e.set(k, v)
	}
	return e
}

// state is what is in force at a point of a block: ENV, USER, WORKDIR.
type state struct {
	env     envList
	user    string
	workdir string
}

// instrPlan is one instruction with its arguments expanded and the state before it.
type instrPlan struct {
	in   *parse.Instr
	args []string // expanded (COPY: sources then destination; WORKDIR, USER: one)
	st   state
	dk   *dockerStep // a Dockerfile's RUN or ADD: what it runs and mounts
}

// blockPlan is a block ready to schedule: its base, its NEED closure, and every
// instruction expanded.
type blockPlan struct {
	b       *parse.Block
	index   int // file order
	base    *baseInfo
	closure []*blockPlan // NEED closure, dependency order, not including this block
	froms   []*blockPlan // COPY FROM= blocks, in instruction order
	deps    []string     // NEED + BNEED names, for the scheduler
	start   state
	end     state
	instrs  []instrPlan
	auto    bool // AUTO-DEPS present
}

// plan holds the whole build: blocks to build (file order) and the target.
type plan struct {
	file   *parse.File
	args   map[string]string // ARG defaults overridden by build args
	blocks []*blockPlan      // the ones this build runs, file order
	byName map[string]*blockPlan
	target *blockPlan   // nil when the file has no block
	image  []*blockPlan // target's NEED closure then the target: the image's layers
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
func expand(s string, env envList, args map[string]string) (string, error) {
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
		v, ok := env.get(name)
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
func newPlan(f *parse.File, sel []*parse.Block, target *parse.Block, args map[string]string, bases map[string]*baseInfo) (*plan, error) {
	p := &plan{file: f, args: args, byName: map[string]*blockPlan{}}
	index := map[string]int{}
	for i, b := range f.Blocks {
		index[b.Name] = i
	}
	for _, b := range sel {
		bp := &blockPlan{b: b, index: index[b.Name], base: bases[b.Name]}
		p.blocks = append(p.blocks, bp)
		p.byName[b.Name] = bp
	}
	var errs parse.ErrorList
	for _, bp := range topo(p.blocks, func(bp *blockPlan) []string { return names(parse.Deps(bp.b)) }, p.byName) {
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
		p.target = p.byName[target.Name]
		p.image = append(append([]*blockPlan(nil), p.target.closure...), p.target)
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
func topo(blocks []*blockPlan, deps func(*blockPlan) []string, byName map[string]*blockPlan) []*blockPlan {
	done := map[string]bool{}
	var out []*blockPlan
	for len(out) < len(blocks) {
		progress := false
		for _, bp := range blocks {
			if done[bp.b.Name] {
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
				done[bp.b.Name] = true
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
func (p *plan) needClosure(b *parse.Block) []*blockPlan {
	inClosure := map[string]bool{}
	var walk func(x *parse.Block)
	walk = func(x *parse.Block) {
		for _, n := range x.Needs {
			if !inClosure[n.Text] {
				inClosure[n.Text] = true
				walk(p.file.Block(n.Text))
			}
		}
	}
	walk(b)
	var cl []*blockPlan
	for _, x := range p.blocks {
		if inClosure[x.b.Name] {
			cl = append(cl, x)
		}
	}
	return topo(cl, func(x *blockPlan) []string { return names(x.b.Needs) }, p.byName)
}

func (p *plan) expandBlock(bp *blockPlan) error {
	f, b := p.file, bp.b
	bp.deps = names(parse.Deps(b))
	bp.closure = p.needClosure(b)

	// State at the start: base, top-level ENV, then what the NEEDs leave (later wins).
	st := state{workdir: "/"}
	if bp.base != nil {
		st.env = append(envList(nil), bp.base.env()...)
		st.user = bp.base.Config.Config.User
		if wd := bp.base.Config.Config.WorkingDir; wd != "" {
			st.workdir = wd
		}
	}
	if len(st.env) == 0 {
		st.env = append(envList(nil), DefaultEnv...)
	}
	for _, in := range f.Env {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, st.env, p.args)
			if err != nil {
				return posErr(kv.Pos, err)
			}
			st.env = st.env.set(kv.Key, v)
		}
	}
	for _, n := range b.Needs {
		d := p.byName[n.Text]
		st.env = st.env.merge(d.end.env)
		if d.end.user != "" {
			st.user = d.end.user
		}
		if d.end.workdir != "/" && d.end.workdir != "" {
			st.workdir = d.end.workdir
		}
	}
	bp.start = st
	for _, in := range b.Instrs {
		ip := instrPlan{in: in, st: st}
		ex := func(w parse.Word) (string, error) {
			s, err := expand(w.Text, st.env, p.args)
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
				ip.args = append(ip.args, s)
			}
		case "PKG":
			for _, w := range in.Args {
				ip.args = append(ip.args, w.Text)
			}
		}
		switch in.Keyword {
		case "WORKDIR":
			wd := ip.args[0]
			if !path.IsAbs(wd) {
				wd = path.Join(st.workdir, wd)
			}
			st.workdir = path.Clean(wd)
		case "USER":
			st.user = ip.args[0]
		case "ENV":
			for _, kv := range in.KVs {
				v, err := expand(kv.Value, st.env, p.args)
				if err != nil {
					return posErr(kv.Pos, err)
				}
				st.env = st.env.set(kv.Key, v)
			}
		case "COPY":
			if in.From != "" {
				bp.froms = append(bp.froms, p.byName[in.From])
			}
		case "AUTO-DEPS":
			bp.auto = true
			continue // runs after the other instructions
		}
		bp.instrs = append(bp.instrs, ip)
	}
	bp.end = st
	return nil
}

// runEnv is the environment of a build container: the state's ENV plus build args not
// shadowed by it, sorted after the ENV for a stable order.
func (p *plan) runEnv(st state) []string {
	env := append([]string(nil), st.env...)
	var extra []string
	for k, v := range p.args {
		if _, ok := st.env.get(k); !ok {
			extra = append(extra, k+"="+v)
		}
	}
	sort.Strings(extra)
	return append(env, extra...)
}
