package miniboxfile

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
)

// DefaultEnv is the build environment when the base sets none. No HOME: init sets it
// from the user's passwd entry at run time (as Docker does), so a USER's image does not
// keep root's.
var DefaultEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

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

// Args merges ARG defaults with the request's values (which win).
func Args(f *parse.File, given map[string]string) map[string]string {
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
func expand(s string, env graph.Env, args map[string]string) (string, error) {
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
func newPlan(f *parse.File, sel []*parse.Block, target *parse.Block, args map[string]string, bases map[string]*graph.Base) (*graph.Plan, error) {
	p := &graph.Plan{File: f, Args: args, ByName: map[string]*graph.Block{}}
	index := map[string]int{}
	for i, b := range f.Blocks {
		index[b.Name] = i
	}
	for _, b := range sel {
		bp := &graph.Block{Def: b, Index: index[b.Name], Base: bases[b.Name]}
		p.Blocks = append(p.Blocks, bp)
		p.ByName[b.Name] = bp
	}
	var errs parse.ErrorList
	for _, bp := range graph.Order(p.Blocks, func(bp *graph.Block) []string { return names(parse.Deps(bp.Def)) }, p.ByName) {
		if err := expandBlock(p, bp); err != nil {
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
		p.Image = append(append([]*graph.Block(nil), p.Target.Closure...), p.Target)
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

// needClosure is every block reachable from b through NEED, dependencies first.
func needClosure(p *graph.Plan, b *parse.Block) []*graph.Block {
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
	var cl []*graph.Block
	for _, x := range p.Blocks {
		if inClosure[x.Def.Name] {
			cl = append(cl, x)
		}
	}
	return graph.Order(cl, func(x *graph.Block) []string { return names(x.Def.Needs) }, p.ByName)
}

func expandBlock(p *graph.Plan, bp *graph.Block) error {
	f, b := p.File, bp.Def
	bp.Deps = names(parse.Deps(b))
	bp.Closure = needClosure(p, b)

	// State at the start: base, top-level ENV, then what the NEEDs leave (later wins).
	st := graph.State{Workdir: "/"}
	if bp.Base != nil {
		st.Env = append(graph.Env(nil), bp.Base.Env()...)
		st.User = bp.Base.Config.Config.User
		if wd := bp.Base.Config.Config.WorkingDir; wd != "" {
			st.Workdir = wd
		}
	}
	if len(st.Env) == 0 {
		st.Env = append(graph.Env(nil), DefaultEnv...)
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
		ip := graph.Instr{In: in, State: st}
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

// Plan is a MiniBox file's build: the blocks to run (Graph) and the base of the image.
type Plan struct {
	Graph *graph.Plan
	base  *graph.Base
}

// Base is the image's base: the target's, or the file's for a file without blocks.
func (p *Plan) Base() *graph.Base { return p.base }

// Options are what planning takes besides the file.
type Options struct {
	Args   map[string]string // Args(file, build args)
	Target string            // the block that is the image; "" for the last
	// ResolveBase finds, pulls or unpacks a base: scratch, a tarball, an image.
	ResolveBase func(ctx context.Context, ref string) (*graph.Base, error)
	// Begin is called with the number of blocks to build, before their bases resolve.
	Begin func(blocks int)
}

// PlanFile selects the blocks the target needs, resolves each distinct base once and
// expands every block.
func PlanFile(ctx context.Context, f *parse.File, opts Options) (*Plan, error) {
	args := opts.Args
	sel, target, err := selectBlocks(f, opts.Target)
	if err != nil {
		return nil, err
	}
	if opts.Begin != nil {
		opts.Begin(len(sel))
	}

	// Bases: each distinct reference once.
	bases := map[string]*graph.Base{}
	byRef := map[string]*graph.Base{}
	baseOf := func(w *parse.Word) (*graph.Base, error) {
		ref, err := expand(w.Text, graph.Env(nil), args)
		if err != nil {
			return nil, posErr(w.Pos, err)
		}
		if b, ok := byRef[ref]; ok {
			return b, nil
		}
		b, err := opts.ResolveBase(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.Pos, err)
		}
		byRef[ref] = b
		return b, nil
	}
	imageBase, err := baseOf(f.BaseOf(target))
	if err != nil {
		return nil, err
	}
	for _, b := range sel {
		if bases[b.Name], err = baseOf(f.BaseOf(b)); err != nil {
			return nil, err
		}
	}
	p, err := newPlan(f, sel, target, args, bases)
	if err != nil {
		return nil, err
	}
	return &Plan{Graph: p, base: imageBase}, nil
}
