package minibox

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/registry"
)

// BuildCmds is the build command (also `image build`, registered by the images group if
// it wants it).
type BuildCmds struct {
	Build   BuildCmd     `cmd:"" help:"Build an image from a MiniBox file or a Dockerfile."`
	Builder BuilderGroup `cmd:"" help:"Manage the build cache: prune."`
}

// BuildCmd is `build [-t name]... [-f file] [--no-cache] [--pull] [--target b]
// [--build-arg K=V]... [--progress auto|plain|tty] [context]`.
type BuildCmd struct {
	Tags      []string `short:"t" name:"tag" help:"Name the image (repeatable)."`
	File      string   `short:"f" name:"file" help:"The MiniBox file or Dockerfile (default: <context>/MiniBox, else Dockerfile, else Containerfile; - reads a Dockerfile from stdin)."`
	NoCache   bool     `name:"no-cache" help:"Rebuild every block, ignoring layers/."`
	Pull      bool     `help:"Pull registry bases again even if present."`
	Target    string   `help:"Build this block (and what it needs) and make it the image."`
	BuildArgs []string `name:"build-arg" help:"Set a build argument K=V (K alone: from this environment)."`
	Labels    []string `name:"label" help:"Set a label on the image, k=v (repeatable)."`
	Platform  string   `help:"The platform to build for (only this host's, e.g. linux/amd64)."`
	Secrets   []string `name:"secret" sep:"none" help:"A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (id alone: the variable ID); kept out of the image and the cache."`
	Progress  string   `default:"auto" enum:"auto,plain,tty" help:"auto, plain (log lines) or tty (live view of running blocks)."`
	Quiet     bool     `short:"q" help:"Print only the image ID (the build's output is left out; a failure still says why)."`
	IIDFile   string   `name:"iidfile" placeholder:"FILE" help:"Write the image ID to FILE."`
	Context   string   `arg:"" optional:"" default:"." help:"The build context directory (on the daemon's host)."`
}

func (c BuildCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	dir, err := filepath.Abs(c.Context)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("build context %s is not a directory", c.Context)
	}
	file, content, docker, err := c.buildFile(dir)
	if err != nil {
		return err
	}
	args, labels, err := c.argsAndLabels()
	if err != nil {
		return err
	}
	req := apiBuildRequest(c, dir, filepath.Base(file), string(content), args)
	req.Dockerfile = docker
	if len(labels) > 0 {
		req.Labels = labels
	}
	req.Platform = c.Platform
	if req.Secrets, err = readSecrets(c.Secrets); err != nil {
		return err
	}
	regCfg, err := registryConfig(env)
	if err != nil {
		return err
	}
	tty := !c.Quiet && (c.Progress == "tty" || (c.Progress == "auto" && out.Terminal()))
	var view buildView
	switch {
	case tty:
		view = newBuildLiveView(out)
	case c.Quiet:
		view = &buildPlainView{out: &Output{Stdout: out.Stdout, Stderr: io.Discard, plain: true}}
	default:
		view = &buildPlainView{out: out}
	}
	res, err := api.Build(ctx, req, regCfg, view.event)
	view.done()
	if err != nil {
		if lines := view.failedLines(); len(lines) > 0 && tty {
			for _, l := range lines {
				fmt.Fprintln(out.Stderr, l)
			}
		}
		return err
	}
	if c.IIDFile != "" {
		if err := atomicfile.WriteFile(c.IIDFile, []byte(res.ID), 0o644); err != nil {
			return fmt.Errorf("--iidfile: %w", err)
		}
	}
	name := res.Image
	if name == "" {
		name = "(unnamed)"
	}
	if !c.Quiet {
		out.OK("Built %s %s in %s", name, res.Digest, buildMS(res.DurationMS))
	}
	fmt.Fprintln(out.Stdout, res.ID)
	return nil
}

// buildFile finds and reads the build file: -f - (a Dockerfile on stdin), -f relative to
// the working directory then the context, or the context's MiniBox, Dockerfile or
// Containerfile. docker reports a Dockerfile read from stdin.
func (c BuildCmd) buildFile(dir string) (file string, content []byte, docker bool, err error) {
	file = c.File
	switch {
	case file == "-":
		if content, err = io.ReadAll(os.Stdin); err != nil {
			return "", nil, false, fmt.Errorf("read the Dockerfile from stdin: %v", err)
		}
		return "Dockerfile", content, true, nil
	case file == "":
		file = filepath.Join(dir, "MiniBox")
		for _, n := range []string{"MiniBox", "Dockerfile", "Containerfile"} {
			if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
				file = filepath.Join(dir, n)
				break
			}
		}
	default:
		if _, err := os.Stat(file); err != nil && !filepath.IsAbs(file) {
			// Relative to the working directory first (Docker's rule), else to the context.
			if _, cerr := os.Stat(filepath.Join(dir, file)); cerr == nil {
				file = filepath.Join(dir, file)
			}
		}
	}
	if content, err = os.ReadFile(file); err != nil {
		return "", nil, false, fmt.Errorf("read the build file: %v; pass its path with -f", err)
	}
	return file, content, false, nil
}

// argsAndLabels reads --build-arg (K alone: from this environment, left out when unset,
// as Docker does) and --label.
func (c BuildCmd) argsAndLabels() (args, labels map[string]string, err error) {
	args, labels = map[string]string{}, map[string]string{}
	for _, a := range c.BuildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			val, set := os.LookupEnv(k)
			if !set {
				continue
			}
			v = val
		}
		if k == "" {
			return nil, nil, fmt.Errorf("--build-arg %q: expected K=V", a)
		}
		args[k] = v
	}
	for _, l := range c.Labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, nil, fmt.Errorf("--label %q: expected k=v", l)
		}
		labels[k] = v
	}
	return args, labels, nil
}

// readSecrets reads --secret values as Docker's CLI takes them: id=ID with src=FILE
// (source= too), or env=VAR; with neither, the variable named ID.
func readSecrets(specs []string) (map[string][]byte, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := map[string][]byte{}
	for _, sp := range specs {
		var id, src, env string
		for _, f := range strings.Split(sp, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "id":
				id = v
			case "src", "source":
				src = v
			case "env":
				env = v
			case "type":
				if v != "file" && v != "env" {
					return nil, fmt.Errorf("--secret %q: type must be file or env", sp)
				}
			default:
				return nil, fmt.Errorf("--secret %q: unknown field %q (id, src, env, type)", sp, k)
			}
		}
		if id == "" {
			return nil, fmt.Errorf("--secret %q: expected id=ID,src=FILE or id=ID,env=VAR", sp)
		}
		switch {
		case src != "":
			b, err := os.ReadFile(src)
			if err != nil {
				return nil, fmt.Errorf("--secret %s: %v", id, err)
			}
			out[id] = b
		default:
			if env == "" {
				env = id
			}
			v, ok := os.LookupEnv(env)
			if !ok {
				return nil, fmt.Errorf("--secret %s: the variable %s is not set (give src=FILE or env=VAR)", id, env)
			}
			out[id] = []byte(v)
		}
	}
	return out, nil
}

func apiBuildRequest(c BuildCmd, dir, name, content string, args map[string]string) api.BuildRequest {
	r := api.BuildRequest{Tags: c.Tags, MiniBox: content, File: name, ContextPath: dir,
		NoCache: c.NoCache, Pull: c.Pull, Target: c.Target}
	if len(args) > 0 {
		r.BuildArgs = args
	}
	return r
}

// registryConfig is the X-Registry-Config header: every stored credential, for bases
// from any registry.
func registryConfig(env Env) (string, error) {
	cf, _, err := readCreds(env)
	if err != nil {
		return "", err
	}
	m := map[string]registry.Auth{}
	for host, e := range cf.Auths {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil || e.Auth == "" {
			continue
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		h := host
		if h == dockerHubKey {
			h = "docker.io"
		}
		m[h] = registry.Auth{Username: user, Password: pass, ServerAddress: h}
	}
	return registry.EncodeConfigHeader(m), nil
}

func buildMS(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
}

// buildView renders build events.
type buildView interface {
	event(api.BuildEvent)
	done()
	failedLines() []string
}

// buildPlainView prints the plain progress lines, "[block] line", on stderr (stdout carries only the ID).
type buildPlainView struct {
	out *Output
}

func (v *buildPlainView) event(ev api.BuildEvent) {
	if ev.Line != nil {
		fmt.Fprintf(v.out.Stderr, "[%s] %s\n", ev.Block, *ev.Line)
	}
}
func (v *buildPlainView) done()                 {}
func (v *buildPlainView) failedLines() []string { return nil }

// buildLiveView redraws one row per block (state, time, last output line) under the engine's
// own lines, at most ten times a second.
type buildLiveView struct {
	out   *Output
	mu    sync.Mutex
	rows  []*buildRow
	index map[string]*buildRow
	drawn int
	last  time.Time
	fail  *buildRow
}

type buildRow struct {
	name   string
	title  string // a Dockerfile step's file:line and instruction
	state  string
	start  time.Time
	dur    time.Duration
	line   string
	output []string
}

var buildEngineBlocks = map[string]bool{"build": true, "base": true, "finalize": true, "dag-summary": true}

func newBuildLiveView(out *Output) *buildLiveView {
	return &buildLiveView{out: out, index: map[string]*buildRow{}}
}

func (v *buildLiveView) row(name string) *buildRow {
	r := v.index[name]
	if r == nil {
		r = &buildRow{name: name, state: "WAITING"}
		v.index[name] = r
		v.rows = append(v.rows, r)
	}
	return r
}

func (v *buildLiveView) event(ev api.BuildEvent) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if buildEngineBlocks[ev.Block] {
		if ev.Line != nil {
			v.clear()
			fmt.Fprintf(v.out.Stderr, "[%s] %s\n", ev.Block, *ev.Line)
			v.draw(true)
		}
		return
	}
	r := v.row(ev.Block)
	force := false
	switch {
	case ev.State != "":
		r.state, force = ev.State, true
		if ev.Title != "" {
			r.title = ev.Title
		}
		if ev.State == api.BlockStart {
			r.start = time.Now()
		}
		if ev.DurationMS != nil {
			r.dur = time.Duration(*ev.DurationMS) * time.Millisecond
		}
		if ev.State == api.BlockFailed {
			v.fail = r
		}
	case ev.Line != nil:
		if isStateLine(*ev.Line) || *ev.Line == r.title {
			return // the row shows the state and the step already
		}
		r.line = *ev.Line
		r.output = append(r.output, *ev.Line)
		if len(r.output) > 20 {
			r.output = r.output[len(r.output)-20:]
		}
	}
	v.draw(force)
}

func (v *buildLiveView) clear() {
	for i := 0; i < v.drawn; i++ {
		fmt.Fprint(v.out.Stderr, "\x1b[1A\x1b[2K")
	}
	v.drawn = 0
}

func (v *buildLiveView) draw(force bool) {
	if !force && time.Since(v.last) < 100*time.Millisecond {
		return
	}
	v.clear()
	v.last = time.Now()
	width := 0
	for _, r := range v.rows {
		width = max(width, len(r.name))
	}
	for _, r := range v.rows {
		d := r.dur
		if r.state == api.BlockStart {
			d = time.Since(r.start)
		}
		state := r.state
		if state == api.BlockStart {
			state = "RUNNING"
		}
		if r.title == "" {
			fmt.Fprintf(v.out.Stderr, "  %-*s  %-7s %6s  %s\n", width, r.name, state, buildMS(d.Milliseconds()), clip(r.line, 60))
			v.drawn++
			continue
		}
		// A Dockerfile step: its instruction on the row, and while it runs (or after it
		// failed) its last output line under it, as BuildKit's view does.
		fmt.Fprintf(v.out.Stderr, "  %-*s  %-7s %6s  %s\n", width, r.name, state, buildMS(d.Milliseconds()), clip(r.title, 80))
		v.drawn++
		if r.line != "" && (r.state == api.BlockStart || r.state == api.BlockFailed) {
			fmt.Fprintf(v.out.Stderr, "  %-*s  > %s\n", width, "", clip(r.line, 78))
			v.drawn++
		}
	}
}

func (v *buildLiveView) done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.draw(true)
}

func (v *buildLiveView) failedLines() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fail == nil {
		return nil
	}
	out := []string{fmt.Sprintf("--- last output of block %s:", v.fail.name)}
	if v.fail.title != "" {
		out = append(out, "["+v.fail.name+"] "+v.fail.title)
	}
	for _, l := range v.fail.output {
		out = append(out, "["+v.fail.name+"] "+l)
	}
	return out
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// isStateLine reports the engine's own per-block lines, which the row replaces.
func isStateLine(l string) bool {
	for _, p := range []string{"START needs=", "CACHED (", "DONE (", "FAILED ("} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}
