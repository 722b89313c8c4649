package dockerfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// defaultPath is the PATH of a stage whose base sets none (BuildKit's).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// File is a parsed Dockerfile: its stages and the ARGs before the first FROM.
type File struct {
	name   string
	stages []instructions.Stage
	meta   []instructions.ArgCommand
	escape rune
	lines  []string
}

func (df *File) errAt(line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line > 0 && line <= len(df.lines) {
		msg = strings.TrimSpace(df.lines[line-1]) + ": " + msg
	}
	return parse.ErrorList{&parse.Error{Pos: parse.Pos{File: df.name, Line: line, Col: 1}, Msg: msg}}
}

func lineOf(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// Check parses a Dockerfile, reporting its errors as file:line (ErrInvalid).
func Check(name string, src []byte) error {
	_, err := Parse(name, src)
	return err
}

// Parse reads src with BuildKit's parser and its typed instructions. A "# syntax=" line
// is accepted and served by this built-in parser: nothing is pulled.
func Parse(name string, src []byte) (*File, error) {
	df := &File{name: name, lines: strings.Split(string(src), "\n")}
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, errdefs.Invalid(name + ": the Dockerfile is empty")
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		var le *parser.LocationError
		line := 0
		if errors.As(err, &le) && len(le.Locations) > 0 {
			line = lineOf(le.Locations[0])
		}
		return nil, df.errAt(line, "%v", err)
	}
	df.escape = res.EscapeToken
	for _, n := range res.AST.Children {
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			return nil, df.errAt(n.StartLine, "%v", err)
		}
		if len(df.stages) == 0 {
			if a, ok := cmd.(*instructions.ArgCommand); ok {
				df.meta = append(df.meta, *a)
				continue
			}
		}
		switch c := cmd.(type) {
		case *instructions.Stage:
			df.stages = append(df.stages, *c)
		case instructions.Command:
			if len(df.stages) == 0 {
				return nil, df.errAt(n.StartLine, "%s before the first FROM: only ARG may come first", strings.ToUpper(n.Value))
			}
			s := &df.stages[len(df.stages)-1]
			s.AddCommand(c)
		default:
			return nil, df.errAt(n.StartLine, "unexpected instruction %T", cmd)
		}
	}
	if len(df.stages) == 0 {
		return nil, df.errAt(0, "no FROM: a Dockerfile needs at least one stage")
	}
	return df, nil
}

// lexEnv is what ${NAME} sees: the stage's ENV, then its ARGs (ENV wins, as in Docker).
type lexEnv struct {
	env  graph.Env
	args map[string]string
}

func (l lexEnv) Get(k string) (string, bool) {
	if v, ok := l.env.Get(k); ok {
		return v, true
	}
	v, ok := l.args[k]
	return v, ok
}

func (l lexEnv) Keys() []string {
	var out []string
	for _, kv := range l.env {
		k, _, _ := strings.Cut(kv, "=")
		out = append(out, k)
	}
	for k := range l.args {
		out = append(out, k)
	}
	return out
}

// dockerConfig is the runtime config of a Docker image, with Docker's extensions.
type dockerConfig struct {
	ocispec.ImageConfig
	Healthcheck json.RawMessage `json:"Healthcheck,omitempty"`
	OnBuild     []string        `json:"OnBuild,omitempty"`
	Shell       []string        `json:"Shell,omitempty"`
}

type dockerImage struct {
	Created *time.Time `json:"created,omitempty"`
	Author  string     `json:"author,omitempty"`
	ocispec.Platform
	Config  dockerConfig      `json:"config"`
	RootFS  ocispec.RootFS    `json:"rootfs"`
	History []ocispec.History `json:"history,omitempty"`
}

func (c dockerConfig) clone() dockerConfig {
	b, _ := json.Marshal(c)
	var out dockerConfig
	json.Unmarshal(b, &out)
	return out
}

// histEntry is one history line: inherited from the base, or an instruction of a stage
// (bp is its block when it may add a layer).
type histEntry struct {
	inherited *ocispec.History
	createdBy string
	bp        *graph.Block
}

// dstage is one stage of the Dockerfile (or an image read by COPY --from / a mount).
type dstage struct {
	idx       int
	name      string // AS name, lower-case
	label     string // for block names: the name, else the index
	st        *instructions.Stage
	line      int
	fromStage *dstage
	ref       string // image (or scratch) when fromStage is nil
	platform  string
	uses      []*dstage

	planned bool
	base    *graph.Base
	chain   []*graph.Block // every block from the root base up, in order
	cfg     dockerConfig
	author  string
	history []histEntry
}

func (s *dstage) last() *graph.Block { return s.chain[len(s.chain)-1] }

// Plan is a Dockerfile's build: the blocks to run (Graph) and the stage that is the image.
type Plan struct {
	Graph  *graph.Plan
	Stages int // how many stages the target needs
	target *dstage
}

// Options are what planning takes besides the file.
type Options struct {
	BuildArgs map[string]string
	Target    string // the stage that is the image; "" for the last
	// ResolveBase finds (or pulls) a base image other than scratch.
	ResolveBase func(ctx context.Context, ref string) (*graph.Base, error)
	// Begin is called once the stages to build are known, before their bases resolve.
	Begin func()
}

// platformArgs are BuildKit's automatic platform ARGs: this builder builds for its host.
func platformArgs() map[string]string {
	hp := oci.HostPlatform()
	p := hp.OS + "/" + hp.Architecture
	if hp.Variant != "" {
		p += "/" + hp.Variant
	}
	m := map[string]string{}
	for _, pre := range []string{"TARGET", "BUILD"} {
		m[pre+"PLATFORM"], m[pre+"OS"], m[pre+"ARCH"], m[pre+"VARIANT"] = p, hp.OS, hp.Architecture, hp.Variant
	}
	return m
}

// CheckPlatform refuses a platform other than the host's: RUN steps run natively.
func CheckPlatform(p string) error {
	if p == "" {
		return nil
	}
	want, err := oci.ParsePlatform(p)
	if err != nil {
		return errdefs.Invalid(fmt.Sprintf("platform %q: %v", p, err))
	}
	hp := oci.HostPlatform()
	if want.OS != hp.OS || want.Architecture != hp.Architecture {
		return errdefs.Invalid(fmt.Sprintf("platform %s: this builder runs build steps natively and builds %s/%s only", p, hp.OS, hp.Architecture))
	}
	return nil
}

type dockerPlanner struct {
	opts   Options
	df     *File
	lex    *shell.Lex
	global map[string]string // ARGs before FROM, build args and platform ARGs
	stages []*dstage
	images map[string]*dstage // COPY --from=<image>
	bases  map[string]*graph.Base
	p      *graph.Plan
}

func (dp *dockerPlanner) expandGlobal(s string, line int) (string, error) {
	out, _, err := dp.lex.ProcessWord(s, lexEnv{args: dp.global})
	if err != nil {
		return "", dp.df.errAt(line, "%v", err)
	}
	return out, nil
}

// stageRef finds what a --from or FROM names: a stage by name or index, else an image.
func (dp *dockerPlanner) stageRef(ref string, self *dstage, line int) (*dstage, error) {
	if ref == "" {
		return nil, dp.df.errAt(line, "empty stage or image name")
	}
	if n, err := strconv.Atoi(ref); err == nil {
		if n < 0 || n >= len(dp.stages) {
			return nil, dp.df.errAt(line, "stage index %d out of range (%d stages)", n, len(dp.stages))
		}
		return dp.stages[n], nil
	}
	if s := dp.lookupStage(ref, self); s != nil {
		return s, nil
	}
	if s, ok := dp.images[ref]; ok {
		return s, nil
	}
	s := &dstage{idx: -1, label: fmt.Sprintf("image-%d", len(dp.images)+1), ref: ref, line: line, st: &instructions.Stage{BaseName: ref}}
	dp.images[ref] = s
	return s, nil
}

// lookupStage finds a stage by its AS name (case-insensitive), never self.
func (dp *dockerPlanner) lookupStage(ref string, self *dstage) *dstage {
	for _, s := range dp.stages {
		if s != self && s.name != "" && strings.EqualFold(s.name, ref) {
			return s
		}
	}
	return nil
}

// Plan turns the stages the target needs into blocks: one per RUN, COPY, ADD and
// WORKDIR, each stacked on the one before it in its stage; a stage FROM another continues
// that one's chain; COPY --from and mounts wait for the stage they read. Stages nobody
// needs are neither planned, pulled nor built.
func (df *File) Plan(ctx context.Context, opts Options) (*Plan, error) {
	dp := &dockerPlanner{opts: opts, df: df, lex: shell.NewLex(df.escape), global: platformArgs(),
		images: map[string]*dstage{}, bases: map[string]*graph.Base{},
		p: &graph.Plan{File: &parse.File{Name: df.name, Format: parse.Dockerfile}, Args: map[string]string{}, ByName: map[string]*graph.Block{}}}
	if err := dp.globalArgs(); err != nil {
		return nil, err
	}
	for i := range df.stages {
		st := &df.stages[i]
		s := &dstage{idx: i, name: st.Name, label: st.Name, st: st, line: lineOf(st.Location)}
		if s.label == "" {
			s.label = strconv.Itoa(i)
		}
		dp.stages = append(dp.stages, s)
	}
	for _, s := range dp.stages {
		if err := dp.linkStage(s); err != nil {
			return nil, err
		}
	}
	target, err := dp.targetStage()
	if err != nil {
		return nil, err
	}
	order, err := dp.stageOrder(target)
	if err != nil {
		return nil, err
	}
	if opts.Begin != nil {
		opts.Begin()
	}
	for _, s := range order {
		if err := dp.planStage(ctx, s); err != nil {
			return nil, err
		}
	}
	dp.p.Target = target.last()
	dp.p.Image = target.chain
	return &Plan{Graph: dp.p, Stages: len(order), target: target}, nil
}

func runMountFroms(c *instructions.RunCommand) []string {
	// Mount flags are only parsed at expansion; read from= here without expanding.
	var out []string
	for _, fl := range mountFlags(c) {
		for _, field := range strings.Split(fl, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
			if strings.EqualFold(k, "from") && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// mountFlags returns the --mount values of a RUN, from its source text.
func mountFlags(c *instructions.RunCommand) []string {
	var out []string
	code := c.String()
	for _, w := range strings.Fields(code) {
		if v, ok := strings.CutPrefix(w, "--mount="); ok {
			out = append(out, strings.Trim(v, `"'`))
		}
	}
	return out
}

func (dp *dockerPlanner) resolveBase(ctx context.Context, ref string, line int) (*graph.Base, error) {
	if b, ok := dp.bases[ref]; ok {
		return b, nil
	}
	var b *graph.Base
	var err error
	if ref == "scratch" {
		b = &graph.Base{Ref: ref, Digest: "scratch"}
	} else if b, err = dp.opts.ResolveBase(ctx, ref); err != nil {
		return nil, dp.df.errAt(line, "%v", err)
	}
	dp.bases[ref] = b
	return b, nil
}

// globalArgs evaluates the ARGs before the first FROM: --build-arg, else their default.
func (dp *dockerPlanner) globalArgs() error {
	for _, a := range dp.df.meta {
		for _, kv := range a.Args {
			v, given := dp.opts.BuildArgs[kv.Key]
			if !given && kv.Value != nil {
				var err error
				if v, err = dp.expandGlobal(*kv.Value, lineOf(a.Location())); err != nil {
					return err
				}
				given = true
			}
			if given {
				dp.global[kv.Key] = v
			}
		}
	}
	return nil
}

// linkStage resolves the stage's FROM (another stage or an image) and the stages its
// COPY --from and RUN --mount read.
func (dp *dockerPlanner) linkStage(s *dstage) error {
	base, err := dp.expandGlobal(s.st.BaseName, s.line)
	if err != nil {
		return err
	}
	if s.platform, err = dp.expandGlobal(s.st.Platform, s.line); err != nil {
		return err
	}
	if base == "" {
		return dp.df.errAt(s.line, "FROM needs an image or a stage")
	}
	if s.fromStage = dp.lookupStage(base, s); s.fromStage == nil {
		s.ref = base
	}
	for _, c := range s.st.Commands {
		var froms []string
		switch c := c.(type) {
		case *instructions.CopyCommand:
			if c.From != "" {
				froms = append(froms, c.From)
			}
		case *instructions.RunCommand:
			froms = append(froms, runMountFroms(c)...)
		}
		for _, f := range froms {
			f, err := dp.expandGlobal(f, lineOf(c.Location()))
			if err != nil {
				return err
			}
			ref, err := dp.stageRef(f, nil, lineOf(c.Location()))
			if err != nil {
				return err
			}
			if ref == s {
				return dp.df.errAt(lineOf(c.Location()), "circular dependency: stage %s reads from itself", s.label)
			}
			s.uses = append(s.uses, ref)
		}
	}
	return nil
}

// targetStage is --target's stage, or the last one.
func (dp *dockerPlanner) targetStage() (*dstage, error) {
	if dp.opts.Target == "" {
		return dp.stages[len(dp.stages)-1], nil
	}
	var names []string
	for _, s := range dp.stages {
		if s.name == "" {
			continue
		}
		if strings.EqualFold(s.name, dp.opts.Target) {
			return s, nil
		}
		names = append(names, s.name)
	}
	return nil, errdefs.Invalid(fmt.Sprintf("target %q is not a stage of %s; stages: %s", dp.opts.Target, dp.df.name, strings.Join(names, ", ")))
}

// stageOrder lists the stages target needs, dependencies first; a cycle is an error that
// names it.
func (dp *dockerPlanner) stageOrder(target *dstage) ([]*dstage, error) {
	const (
		white = iota
		grey
		black
	)
	color := map[*dstage]int{}
	var order, stack []*dstage
	var visit func(s *dstage) error
	visit = func(s *dstage) error {
		color[s] = grey
		stack = append(stack, s)
		deps := append([]*dstage(nil), s.uses...)
		if s.fromStage != nil {
			deps = append([]*dstage{s.fromStage}, deps...)
		}
		for _, d := range deps {
			switch color[d] {
			case white:
				if err := visit(d); err != nil {
					return err
				}
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				var path []string
				for _, x := range append(append([]*dstage(nil), stack[i:]...), d) {
					path = append(path, x.label)
				}
				return dp.df.errAt(s.line, "circular dependency between stages: %s", strings.Join(path, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[s] = black
		order = append(order, s)
		return nil
	}
	if err := visit(target); err != nil {
		return nil, err
	}
	return order, nil
}

// planStage plans one stage whose dependencies are planned.
func (dp *dockerPlanner) planStage(ctx context.Context, s *dstage) error {
	if err := dp.stageBase(ctx, s); err != nil {
		return err
	}
	var onbuild []string
	onbuild, s.cfg.OnBuild = s.cfg.OnBuild, nil
	env := graph.Env(s.cfg.Env)
	if _, ok := env.Get("PATH"); !ok {
		k, v, _ := strings.Cut(defaultPath, "=")
		env = env.Set(k, v)
	}
	s.cfg.Env = env
	st := graph.State{Env: env, User: s.cfg.User, Workdir: s.cfg.WorkingDir}
	if st.Workdir == "" {
		st.Workdir = "/"
	}
	cmds, err := dp.onbuildCommands(s, onbuild)
	if err != nil {
		return err
	}
	nTriggers := len(cmds)
	cmds = append(cmds, s.st.Commands...)
	args := map[string]string{}
	cmdSet := false
	own := 0
	for i, cmd := range cmds {
		line := lineOf(cmd.Location())
		if i < nTriggers {
			line = s.line
		}
		errAt := func(format string, a ...any) error { return dp.df.errAt(line, format, a...) }
		expander := func(word string) (string, error) {
			out, unmatched, err := dp.lex.ProcessWord(word, lexEnv{env: st.Env, args: args})
			if err == nil {
				err = dp.argBeforeDecl(s, unmatched, line)
			}
			return out, err
		}
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
			if err := ex.Expand(expander); err != nil {
				return errAt("%v", err)
			}
		}
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
			// Heredocs of COPY and ADD: variables expand, quotes stay (BuildKit's lexer).
			raw := shell.NewLex(dp.df.escape)
			raw.SkipProcessQuotes = true
			if err := ex.ExpandRaw(func(word string) (string, error) {
				out, unmatched, err := raw.ProcessWord(word, lexEnv{env: st.Env, args: args})
				if err == nil {
					err = dp.argBeforeDecl(s, unmatched, line)
				}
				return out, err
			}); err != nil {
				return errAt("%v", err)
			}
		}
		code := strings.ToUpper(cmd.Name())
		if sv, ok := cmd.(fmt.Stringer); ok {
			code = strings.TrimSpace(sv.String())
		}
		if c, ok := cmd.(*instructions.ArgCommand); ok {
			dp.setArgs(c, args)
			continue // not in the image's history (Docker keeps ARG out of it too)
		}
		hist := histEntry{createdBy: code}
		handled, err := dp.configInstruction(cmd, s, &st, args, &cmdSet)
		if err != nil {
			return errAt("%v", err)
		}
		if !handled {
			step, err := dp.stepInstruction(cmd, s, &st, args)
			if err != nil {
				return errAt("%v", err)
			}
			own++
			step.In.Pos = parse.Pos{File: dp.df.name, Line: line, Col: 1}
			step.In.Raw = code
			hist.bp = dp.addBlock(s, fmt.Sprintf("%s:%d", s.label, own), code, *step)
		}
		s.history = append(s.history, hist)
	}
	if len(s.chain) == 0 {
		// A stage of metadata only still has a block, so COPY --from and FROM read it
		// like any other (an empty layer, left out of the image).
		dp.addBlock(s, s.label+":0", "(base "+s.base.Ref+")", graph.Instr{})
	}
	s.planned = true
	return nil
}

// argBeforeDecl refuses a variable the builder expands (not a RUN's shell) that names an
// ARG not yet in force: one the stage declares on a later line, or a global ARG (before
// FROM) the stage has not declared. Docker would expand it to nothing, silently.
func (dp *dockerPlanner) argBeforeDecl(s *dstage, unmatched map[string]struct{}, line int) error {
	for name := range unmatched {
		for _, c := range s.st.Commands {
			a, ok := c.(*instructions.ArgCommand)
			if !ok || lineOf(a.Location()) <= line {
				continue
			}
			for _, kv := range a.Args {
				if kv.Key == name {
					return fmt.Errorf("$%s is used before its ARG (line %d) declares it", name, lineOf(a.Location()))
				}
			}
		}
		for _, a := range dp.df.meta {
			for _, kv := range a.Args {
				if kv.Key == name {
					return fmt.Errorf("$%s is a global ARG (line %d): a stage sees it only after its own \"ARG %s\"", name, lineOf(a.Location()), name)
				}
			}
		}
	}
	return nil
}

// stageBase starts the stage from its parent stage or from its base image's config and
// history.
func (dp *dockerPlanner) stageBase(ctx context.Context, s *dstage) error {
	if par := s.fromStage; par != nil {
		s.base, s.cfg, s.author = par.base, par.cfg.clone(), par.author
		s.chain = append([]*graph.Block(nil), par.chain...)
		s.history = append([]histEntry(nil), par.history...)
		return nil
	}
	if err := CheckPlatform(s.platform); err != nil {
		return dp.df.errAt(s.line, "%v", err)
	}
	b, err := dp.resolveBase(ctx, s.ref, s.line)
	if err != nil {
		return err
	}
	s.base = b
	var img dockerImage
	if len(b.Raw) > 0 {
		json.Unmarshal(b.Raw, &img)
	}
	s.cfg, s.author = img.Config, img.Author
	for i := range img.History {
		s.history = append(s.history, histEntry{inherited: &img.History[i]})
	}
	return nil
}

// onbuildCommands parses the base's ONBUILD triggers, which run first in the stage.
func (dp *dockerPlanner) onbuildCommands(s *dstage, triggers []string) ([]instructions.Command, error) {
	var cmds []instructions.Command
	for _, trig := range triggers {
		res, err := parser.Parse(strings.NewReader(trig))
		if err != nil {
			return nil, dp.df.errAt(s.line, "ONBUILD trigger %q of the base: %v", trig, err)
		}
		for _, n := range res.AST.Children {
			c, err := instructions.ParseInstruction(n)
			if err != nil {
				return nil, dp.df.errAt(s.line, "ONBUILD trigger %q of the base: %v", trig, err)
			}
			cmd, ok := c.(instructions.Command)
			if !ok {
				return nil, dp.df.errAt(s.line, "ONBUILD trigger %q of the base is not allowed", trig)
			}
			cmds = append(cmds, cmd)
		}
	}
	return cmds, nil
}

// setArgs gives each declared ARG its value: --build-arg, else its default, else the
// value of the global ARG of that name.
func (dp *dockerPlanner) setArgs(c *instructions.ArgCommand, args map[string]string) {
	for _, kv := range c.Args {
		if v, ok := dp.opts.BuildArgs[kv.Key]; ok {
			args[kv.Key] = v
		} else if kv.Value != nil {
			args[kv.Key] = *kv.Value
		} else if v, ok := dp.global[kv.Key]; ok {
			args[kv.Key] = v
		}
	}
}

// shellForm is a command line as the image runs it: exec form as is, shell form through
// the stage's SHELL.
func (s *dstage) shellForm(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string(nil), c.CmdLine...)
	}
	sh := s.cfg.Shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string(nil), sh...), strings.Join(c.CmdLine, " "))
}

// configInstruction applies an instruction that changes only the image's config; false
// means cmd makes a block.
func (dp *dockerPlanner) configInstruction(cmd instructions.Command, s *dstage, st *graph.State, args map[string]string, cmdSet *bool) (bool, error) {
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			st.Env = st.Env.Set(kv.Key, kv.Value)
		}
		s.cfg.Env = st.Env
	case *instructions.LabelCommand:
		if s.cfg.Labels == nil {
			s.cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			s.cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.MaintainerCommand:
		s.author = c.Maintainer
	case *instructions.UserCommand:
		st.User = c.User
		s.cfg.User = c.User
	case *instructions.ExposeCommand:
		return true, dp.expose(c, s, st, args)
	case *instructions.VolumeCommand:
		if s.cfg.Volumes == nil {
			s.cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v = strings.TrimSpace(v); v == "" {
				return true, fmt.Errorf("VOLUME with an empty path")
			}
			s.cfg.Volumes[v] = struct{}{}
		}
	case *instructions.EntrypointCommand:
		s.cfg.Entrypoint = s.shellForm(c.ShellDependantCmdLine)
		if !*cmdSet {
			s.cfg.Cmd = nil // Docker's rule: a new ENTRYPOINT drops an inherited CMD
		}
	case *instructions.CmdCommand:
		s.cfg.Cmd = s.shellForm(c.ShellDependantCmdLine)
		*cmdSet = true
	case *instructions.ShellCommand:
		s.cfg.Shell = append([]string(nil), c.Shell...)
	case *instructions.HealthCheckCommand:
		b, err := json.Marshal(c.Health)
		if err != nil {
			return true, err
		}
		s.cfg.Healthcheck = b
	case *instructions.StopSignalCommand:
		s.cfg.StopSignal = c.Signal
	case *instructions.OnbuildCommand:
		s.cfg.OnBuild = append(s.cfg.OnBuild, c.Expression)
	default:
		return false, nil
	}
	return true, nil
}

// expose adds EXPOSE's ports, expanded and checked, as Docker keys them ("80/tcp").
func (dp *dockerPlanner) expose(c *instructions.ExposeCommand, s *dstage, st *graph.State, args map[string]string) error {
	if s.cfg.ExposedPorts == nil {
		s.cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, p := range c.Ports {
		ps, err := dp.lex.ProcessWords(p, lexEnv{env: st.Env, args: args})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := parse.CheckPort(p); err != nil {
				return err
			}
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			s.cfg.ExposedPorts[strings.ToLower(p)] = struct{}{}
		}
	}
	return nil
}

// stepInstruction plans an instruction that makes a block: WORKDIR, RUN, COPY, ADD.
func (dp *dockerPlanner) stepInstruction(cmd instructions.Command, s *dstage, st *graph.State, args map[string]string) (*graph.Instr, error) {
	switch c := cmd.(type) {
	case *instructions.WorkdirCommand:
		wd := c.Path
		if !path.IsAbs(wd) {
			wd = path.Join(st.Workdir, wd)
		}
		wd = path.Clean(wd)
		step := &graph.Instr{In: &parse.Instr{Keyword: "WORKDIR"}, Args: []string{wd}, State: *st}
		st.Workdir = wd
		s.cfg.WorkingDir = wd
		return step, nil
	case *instructions.RunCommand:
		return dp.runStep(c, s, *st, args, s.shellForm)
	case *instructions.CopyCommand:
		if c.Parents || len(c.ExcludePatterns) > 0 {
			return nil, fmt.Errorf("COPY --parents and --exclude are not supported by this builder")
		}
		for _, src := range c.SourcePaths {
			if isRemoteSource(src) {
				return nil, fmt.Errorf("COPY cannot take a URL (%s): ADD downloads", src)
			}
		}
		dst := multiDest(c.DestPath, len(c.SourcePaths)+len(c.SourceContents))
		ip, err := dp.copyStep("COPY", c.SourcePaths, dst, c.From, c.Chown, c.Chmod, s, *st, args)
		if err != nil {
			return nil, err
		}
		if len(c.SourceContents) > 0 {
			ip.Step = &graph.Step{Inline: inlineFiles(c.SourceContents)}
		}
		return ip, nil
	case *instructions.AddCommand:
		return dp.addStep(c, s, st, args)
	}
	return nil, fmt.Errorf("instruction %s is not supported by this builder", strings.ToUpper(cmd.Name()))
}

// addBlock appends a block for one instruction to the stage's chain.
func (dp *dockerPlanner) addBlock(s *dstage, name, code string, ip graph.Instr) *graph.Block {
	bp := &graph.Block{Def: &parse.Block{Name: name, Step: code}, Index: len(dp.p.Blocks), Base: s.base,
		Closure: append([]*graph.Block(nil), s.chain...), Start: ip.State, End: ip.State}
	if ip.In != nil {
		bp.Def.Pos = ip.In.Pos
		bp.Instrs = []graph.Instr{ip}
	}
	if len(s.chain) > 0 {
		prev := s.last()
		bp.Deps = append(bp.Deps, prev.Def.Name)
		bp.Def.Needs = append(bp.Def.Needs, parse.Word{Text: prev.Def.Name})
	}
	if ip.Step != nil {
		for _, m := range ip.Step.Mounts {
			if m.Type == "bind" && m.From != "" {
				bp.Froms = append(bp.Froms, dp.p.ByName[m.From])
			}
		}
	}
	if ip.In != nil && ip.In.From != "" {
		bp.Froms = append(bp.Froms, dp.p.ByName[ip.In.From])
	}
	for _, f := range bp.Froms {
		if !containsStr(bp.Deps, f.Def.Name) {
			bp.Deps = append(bp.Deps, f.Def.Name)
			bp.Def.BNeeds = append(bp.Def.BNeeds, parse.Word{Text: f.Def.Name})
		}
	}
	dp.p.Blocks = append(dp.p.Blocks, bp)
	dp.p.ByName[name] = bp
	s.chain = append(s.chain, bp)
	return bp
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// runEnvOf is a RUN's environment: ENV, then the stage's ARGs that ENV does not shadow.
func runEnvOf(st graph.State, args map[string]string) []string {
	env := append([]string(nil), st.Env...)
	var extra []string
	for k, v := range args {
		if _, ok := st.Env.Get(k); !ok {
			extra = append(extra, k+"="+v)
		}
	}
	sort.Strings(extra)
	return append(env, extra...)
}

func (dp *dockerPlanner) fromStage(ref string) (*dstage, error) {
	ref, _, err := dp.lex.ProcessWord(ref, lexEnv{args: dp.global})
	if err != nil {
		return nil, err
	}
	s, err := dp.stageRef(ref, nil, 0)
	if err != nil {
		return nil, err
	}
	if !s.planned {
		if s.idx >= 0 {
			return nil, fmt.Errorf("stage %s is not built before it is read", s.label)
		}
		// An image named by --from: planned here, the first time it is read.
		if err := dp.planStage(context.Background(), s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (dp *dockerPlanner) copyStep(kw string, srcs []string, dst, from, chown, chmod string, s *dstage, st graph.State, args map[string]string) (*graph.Instr, error) {
	if chmod != "" {
		if _, err := strconv.ParseUint(chmod, 8, 32); err != nil {
			return nil, fmt.Errorf("--chmod=%s: expected an octal mode such as 0755", chmod)
		}
	}
	in := &parse.Instr{Keyword: kw, Chown: chown, Chmod: chmod}
	if from != "" {
		fs, err := dp.fromStage(from)
		if err != nil {
			return nil, err
		}
		in.From = fs.last().Def.Name
	}
	ip := &graph.Instr{In: in, Args: append(append([]string(nil), srcs...), dst), State: st}
	_ = args
	return ip, nil
}

func (dp *dockerPlanner) runStep(c *instructions.RunCommand, s *dstage, st graph.State, args map[string]string,
	shellForm func(instructions.ShellDependantCmdLine) []string) (*graph.Instr, error) {
	dk := &graph.Step{Env: runEnvOf(st, args)}
	switch n := instructions.GetNetwork(c); n {
	case instructions.NetworkNone:
		dk.Network = "none"
	case instructions.NetworkHost, instructions.NetworkDefault, "":
		dk.Network = "host"
	default:
		return nil, fmt.Errorf("--network=%s: expected none or host", n)
	}
	if sec := instructions.GetSecurity(c); sec != "" && sec != instructions.SecuritySandbox {
		return nil, fmt.Errorf("--security=%s is not supported by this builder", sec)
	}
	for _, m := range instructions.GetMounts(c) {
		dm := graph.Mount{Type: string(m.Type), Target: m.Target, Source: m.Source, ReadOnly: m.ReadOnly, CacheID: m.CacheID, Mode: m.Mode, UID: m.UID, GID: m.GID}
		switch m.Type {
		case instructions.MountTypeSSH:
			return nil, fmt.Errorf("--mount=type=ssh: no SSH agent was given to this build (minibox build forwards none); put what the step fetches over SSH in the build context, or pass a key with --secret")
		case instructions.MountTypeSecret:
			dk.Mounts = append(dk.Mounts, secretMount(m, st.Workdir))
			continue
		}
		if dm.Target == "" {
			return nil, fmt.Errorf("--mount=type=%s needs a target", m.Type)
		}
		if !path.IsAbs(dm.Target) {
			dm.Target = path.Join(st.Workdir, dm.Target)
		}
		switch m.Type {
		case instructions.MountTypeCache:
			if dm.CacheID == "" {
				dm.CacheID = dm.Target
			}
			if m.From != "" {
				return nil, fmt.Errorf("--mount=type=cache,from= is not supported by this builder")
			}
		case instructions.MountTypeBind:
			if m.From != "" {
				fs, err := dp.fromStage(m.From)
				if err != nil {
					return nil, err
				}
				dm.From = fs.last().Def.Name
			} else {
				clean := path.Clean("/" + dm.Source)
				if strings.HasPrefix(path.Clean(dm.Source), "..") {
					return nil, fmt.Errorf("--mount source %s is outside the build context", m.Source)
				}
				dm.Source = strings.TrimPrefix(clean, "/")
			}
		case instructions.MountTypeTmpfs:
		default:
			return nil, fmt.Errorf("--mount=type=%s is not supported by this builder (bind, cache, tmpfs and secret are)", m.Type)
		}
		dk.Mounts = append(dk.Mounts, dm)
	}
	cl := c.ShellDependantCmdLine
	if len(c.Files) > 0 {
		if len(cl.CmdLine) != 1 || !cl.PrependShell {
			return nil, fmt.Errorf("a heredoc needs the shell form of RUN")
		}
		if h := parser.MustParseHeredoc(cl.CmdLine[0]); h != nil {
			data := c.Files[0].Data
			if c.Files[0].Chomp {
				data = parser.ChompHeredocContent(data)
			}
			if strings.HasPrefix(data, "#!") {
				// A script with its own interpreter: run as a file, as BuildKit does.
				dk.Scripts = []graph.Script{{Name: c.Files[0].Name, Data: data}}
				dk.Argv = []string{path.Join("/dev/pipes", c.Files[0].Name)}
			} else {
				cl = instructions.ShellDependantCmdLine{CmdLine: []string{data}, PrependShell: true}
			}
		} else {
			// Heredocs inside a command: the shell reads them.
			var b strings.Builder
			b.WriteString(cl.CmdLine[0])
			for _, f := range c.Files {
				b.WriteByte('\n')
				b.WriteString(f.Data)
				b.WriteString(f.Name)
			}
			cl = instructions.ShellDependantCmdLine{CmdLine: []string{b.String()}, PrependShell: true}
		}
	}
	if dk.Argv == nil {
		dk.Argv = shellForm(cl)
	}
	if len(dk.Argv) == 0 {
		return nil, fmt.Errorf("RUN needs a command")
	}
	return &graph.Instr{In: &parse.Instr{Keyword: "RUN"}, State: st, Step: dk}, nil
}

// secretMount is a RUN's secret: its id (id=, else src=, else the target's name), the
// file it is mounted as (target=, else /run/secrets/<id>, none when only env= is asked
// for) and the variable it is given as. Only these go into the key, never the content.
func secretMount(m *instructions.Mount, workdir string) graph.Mount {
	dm := graph.Mount{Type: "secret", CacheID: m.CacheID, Target: m.Target, Required: m.Required, Mode: m.Mode, UID: m.UID, GID: m.GID, ReadOnly: true}
	if m.Source != "" {
		dm.CacheID = m.Source
	}
	if dm.CacheID == "" {
		dm.CacheID = path.Base(m.Target)
	}
	if m.Env != nil {
		dm.Env = *m.Env
		if dm.Env == "" {
			dm.Env = dm.CacheID
		}
	} else if dm.Target == "" {
		dm.Target = "/run/secrets/" + path.Base(dm.CacheID)
	}
	if dm.Target != "" && !path.IsAbs(dm.Target) {
		dm.Target = path.Join(workdir, dm.Target)
	}
	return dm
}

// Base is the target stage's base image: its layers come first in the image.
func (p *Plan) Base() *graph.Base { return p.target.base }

// Layers are the target stage's blocks, in order: each adds its layer (unless empty) over
// the base's.
func (p *Plan) Layers() []*graph.Block { return p.target.chain }

// Config is the image's config blob: the target stage's config with Docker's extensions,
// labels set over its own, the image's diffIDs, and its history (the base's, then one
// entry per instruction, empty reporting a block that added nothing).
func (p *Plan) Config(created time.Time, diffIDs []digest.Digest, labels map[string]string, empty func(*graph.Block) bool) ([]byte, error) {
	s := p.target
	img := dockerImage{Created: &created, Author: s.author, Config: s.cfg.clone(),
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	img.Platform = s.base.Config.Platform
	if img.OS == "" || s.base.Digest == "scratch" {
		hp := oci.HostPlatform()
		img.OS, img.Architecture, img.Variant = hp.OS, hp.Architecture, hp.Variant
	}
	if len(labels) > 0 {
		if img.Config.Labels == nil {
			img.Config.Labels = map[string]string{}
		}
		maps.Copy(img.Config.Labels, labels)
	}
	if img.RootFS.DiffIDs == nil {
		img.RootFS.DiffIDs = []digest.Digest{}
	}
	for _, h := range s.history {
		if h.inherited != nil {
			img.History = append(img.History, *h.inherited)
			continue
		}
		img.History = append(img.History, ocispec.History{Created: &created, CreatedBy: h.createdBy, Comment: "minibox build",
			EmptyLayer: h.bp == nil || empty(h.bp)})
	}
	return json.Marshal(img)
}
