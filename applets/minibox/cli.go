package minibox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/kong"

	_ "github.com/minibox/minibox/applets/minibox/oneproc" // the CLI's one P from its first inits
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/timerslack"
	"github.com/minibox/minibox/pkg/version"
)

// CLI is the whole command line. Areas embed their command groups.
type CLI struct {
	VersionFlag kong.VersionFlag `name:"version" help:"Print the CLI's version and exit."`

	ContainerCmds `embed:""`
	ImageCmds     `embed:""`
	BuildCmds     `embed:""`
	SystemCmds    `embed:""`

	Compose ComposeCmd `cmd:"" help:"Run a Compose project: up, down, ps, logs, config, exec, run, create, start, stop, restart, rm, build, pull, push, cp, images, top, events, watch, ls..."`
	Ping    PingCmd    `cmd:"" help:"Check that the daemon answers."`
	Info    InfoCmd    `cmd:"" help:"Show the daemon's facts."`
	Version VersionCmd `cmd:"" help:"Print the CLI's and the daemon's versions."`
	Daemon  DaemonCmd  `cmd:"" help:"Run the daemon (same as miniboxd)."`

	Completion CompletionCmd `cmd:"" help:"Print a shell completion script: bash, zsh or fish." detail:"${completion_help}"`
	Help       HelpCmd       `cmd:"" help:"Show help for a command." hidden:""`
}

// Main runs the CLI and returns an *errdefs.ExitError for non-zero exits.
func Main(ctx context.Context, args []string) error {
	// The CLI mostly waits for the daemon. With one P the runtime has no idle P to wake a
	// thread for, to spin looking for work, whenever a goroutine becomes runnable: that
	// spinning cost a `compose up` about 15% more CPU, taken from the CPUs that start its
	// containers. Its one CPU-heavy job (gzip of an export) is one goroutine anyway.
	// (oneproc has set it already in a process named "minibox": this is then a no-op.)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// Its runtime's monitor thread then wakes less often while it works (timerslack).
	timerslack.Widen()
	return Run(ctx, args, os.Stdout, os.Stderr, os.Getenv)
}

type exitCode int

// traceTime is MINIBOX_TRACE's clock, as precise as the daemon's debug log can be matched.
const traceTime = "15:04:05.000000"

// tracer writes MINIBOX_TRACE's lines: when a command's steps happened, to match against
// the daemon's debug log.
func tracer(on bool, w io.Writer) func(what string) {
	if !on {
		return func(string) {}
	}
	return func(what string) { fmt.Fprintf(w, "[trace] %s %s\n", time.Now().UTC().Format(traceTime), what) }
}

// Run is Main with its streams and environment given (tests use it).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) (err error) {
	trace := tracer(getenv("MINIBOX_TRACE") != "", stderr)
	trace("command started")
	defer func() { trace("command done") }()
	exited := false
	code := 0
	g := grammar(args)
	parser, err := newParser(g, stdout, stderr, func(c int) { exited, code = true, c; panic(exitCode(c)) })
	if err != nil {
		return err
	}
	if len(args) == 0 || args[0] == "-h" {
		args = append([]string{"--help"}, args[min(len(args), 1):]...)
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitCode); !ok {
				panic(r)
			}
			if exited && code != 0 {
				err = &errdefs.ExitError{Code: code, Silent: true}
			} else {
				err = nil
			}
		}
	}()
	kctx, perr := parser.Parse(composeArgs(args))
	if perr != nil {
		fmt.Fprintf(stderr, "[error] %v\n", perr)
		var pe *kong.ParseError
		if errors.As(perr, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
			fmt.Fprintf(stderr, "Run \"minibox %s --help\" for usage.\n", pe.Context.Selected().Path())
		} else {
			fmt.Fprintln(stderr, "Run \"minibox --help\" for the list of commands.")
		}
		return &errdefs.ExitError{Code: 2, Silent: true}
	}
	api, err := client.New(getenv("MINIBOX_API"), getenv("MINIBOX_API_TOKEN"))
	if err != nil {
		return &errdefs.ExitError{Code: 1, Err: err}
	}
	trace("arguments parsed")
	if getenv("MINIBOX_TRACE") != "" {
		api.Trace = func(sent time.Time, method, path string, status int, took time.Duration) {
			fmt.Fprintf(stderr, "[trace] %s %s %s -> %d in %s\n", sent.UTC().Format(traceTime), method, path, status, took.Round(time.Microsecond))
		}
	}
	out := newOutput(stdout, stderr)
	env := Env(getenv)
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.Bind(api, out, env, parser)
	kctx.Bind(groupBindings(g)...)
	if err := kctx.Run(); err != nil {
		var ee *errdefs.ExitError
		if errors.As(err, &ee) {
			return ee
		}
		return &errdefs.ExitError{Code: 1, Err: err}
	}
	return nil
}

// newParser is the CLI's parser over the grammar g (the whole CLI or one command's).
func newParser(g any, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(g,
		kong.Name("minibox"),
		kong.Description("minibox: build images and run containers on one Linux host."),
		grammarVars(g),
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.UsageOnError(),
		kong.PostBuild(func(k *kong.Kong) error { helpShortWhereFree(k); return nil }),
	)
}

// helpShortWhereFree gives -h to help on every command that does not use -h itself, as
// Docker's CLI does: `run -h myhost` is --hostname, `ps -h` is help. Kong's help flag sits
// on the root, where it would win over any command's -h, so the root keeps --help only and
// each command that leaves -h free gets a hidden copy answering to -h.
func helpShortWhereFree(k *kong.Kong) {
	hf := k.Model.HelpFlag
	if hf == nil {
		return
	}
	hf.Short = 0
	var usesH func(n *kong.Node) bool
	usesH = func(n *kong.Node) bool {
		for _, f := range n.Flags {
			if f.Short == 'h' {
				return true
			}
		}
		for _, c := range n.Children {
			if usesH(c) {
				return true
			}
		}
		return false
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, c := range n.Children {
			if c.Type == kong.CommandNode && !usesH(c) {
				short := *hf
				short.Short, short.Hidden = 'h', true
				c.Flags = append(c.Flags, &short)
				continue // its subcommands inherit the copy
			}
			walk(c)
		}
	}
	walk(k.Model.Node)
}

// grammar is the command line's model for args: the root with only the command args name
// (kong reflects over every command it is given, about 6 ms for the whole CLI, on every
// run), or the whole CLI for help, no command or an unknown one.
func grammar(args []string) any {
	name := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	// The whole CLI's struct (every command's flags) is made only to be returned.
	if name == "help" || name == "" && !slices.Contains(args, "--version") {
		return &CLI{}
	}
	var fields []reflect.StructField
	found := false
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if tagHas(f.Tag, "embed") {
				walk(f.Type)
				continue
			}
			if tagHas(f.Tag, "cmd") {
				if !commandNamed(f, name) {
					continue
				}
				found = true
				f.Type = subGrammar(f.Type, args, name)
			}
			f.Index, f.Offset = nil, 0
			fields = append(fields, f)
		}
	}
	walk(reflect.TypeFor[CLI]())
	if !found && name != "" {
		return &CLI{}
	}
	return reflect.New(reflect.StructOf(fields)).Interface()
}

// subGrammar is a command group's type (compose's thirty subcommands) with only the
// subcommand args name after the group's name, and the group's own flags: kong reflects
// over every subcommand it is given, most of a compose command's parse. Anything else
// (no subcommand named, an unknown one, help) keeps the whole group. A pruned group's
// value reaches its subcommands' Run through groupBindings.
func subGrammar(group reflect.Type, args []string, name string) reflect.Type {
	if group.Kind() != reflect.Struct || slices.Contains(args, "--help") || slices.Contains(args, "-h") {
		return group
	}
	i := slices.Index(args, name)
	sub := ""
	for rest := args[i+1:]; len(rest) > 0; rest = rest[1:] {
		a := rest[0]
		if !strings.HasPrefix(a, "-") {
			sub = a
			break
		}
		if f, ok := groupFlag(group, a); ok && f.Type.Kind() != reflect.Bool && !strings.Contains(a, "=") {
			rest = rest[1:] // its value
			if len(rest) == 0 {
				break
			}
		}
	}
	if sub == "" {
		return group
	}
	var fields []reflect.StructField
	found := false
	for i := 0; i < group.NumField(); i++ {
		f := group.Field(i)
		if tagHas(f.Tag, "embed") {
			return group // its fields would need walking: not worth it for a group
		}
		if tagHas(f.Tag, "cmd") {
			if !commandNamed(f, sub) {
				continue
			}
			found = true
		}
		f.Index, f.Offset = nil, 0
		fields = append(fields, f)
	}
	if !found {
		return group
	}
	return reflect.StructOf(fields)
}

// groupFlag is group's flag field that arg (-x, --name or --name=value) names.
func groupFlag(group reflect.Type, arg string) (reflect.StructField, bool) {
	long, isLong := strings.CutPrefix(arg, "--")
	long, _, _ = strings.Cut(long, "=")
	for i := 0; i < group.NumField(); i++ {
		f := group.Field(i)
		if tagHas(f.Tag, "cmd") || tagHas(f.Tag, "arg") {
			continue
		}
		if isLong {
			if n := tagGet(f.Tag, "name"); n == long || n == "" && kebabIs(f.Name, long) {
				return f, true
			}
		} else if sh := tagGet(f.Tag, "short"); sh != "" && "-"+sh == arg {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// groupBindings are the command groups subGrammar pruned in g, each as its own type with
// the flags parsed into g: what their subcommands' Run methods take.
func groupBindings(g any) []any {
	v := reflect.ValueOf(g).Elem()
	var out []any
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() != reflect.Struct || f.Type.Name() != "" || !tagHas(f.Tag, "cmd") {
			continue
		}
		orig, ok := reflect.TypeFor[CLI]().FieldByName(f.Name)
		if !ok {
			continue
		}
		group := reflect.New(orig.Type)
		for j := 0; j < f.Type.NumField(); j++ {
			if tagHas(f.Type.Field(j).Tag, "cmd") {
				continue
			}
			group.Elem().FieldByName(f.Type.Field(j).Name).Set(v.Field(i).Field(j))
		}
		out = append(out, group.Interface())
	}
	return out
}

// grammarVars are the variables g's tags interpolate. Kong interpolates every variable
// into itself once per flag: the completion command's long help, given to a grammar
// without that command (run's hundred flags), tripled kong.New's time (1.8 ms against 0.7 in a warm process; 0.3 ms of a CLI start).
func grammarVars(g any) kong.Vars {
	vars := kong.Vars{"version": version.String("minibox")}
	if reflect.ValueOf(g).Elem().FieldByName("Completion").IsValid() {
		vars["completion_help"] = completionHelp
	}
	return vars
}

// tagHas is tag.Lookup(key) found, without scanning a tag that cannot hold the key (one
// Lookup scans the whole tag, help text and all, for each of the CLI's commands).
func tagHas(tag reflect.StructTag, key string) bool {
	if !strings.Contains(string(tag), key+":") {
		return false
	}
	_, ok := tag.Lookup(key)
	return ok
}

// tagGet is tag.Get(key), likewise.
func tagGet(tag reflect.StructTag, key string) string {
	if !strings.Contains(string(tag), key+":") {
		return ""
	}
	return tag.Get(key)
}

// commandNamed reports whether the command field f answers to name (kong's rules: the
// name tag, else the field name in kebab case, and aliases).
func commandNamed(f reflect.StructField, name string) bool {
	if n := tagGet(f.Tag, "name"); n != "" {
		if n == name {
			return true
		}
	} else if kebabIs(f.Name, name) {
		return true
	}
	for a := range strings.SplitSeq(tagGet(f.Tag, "aliases"), ",") {
		if a != "" && a == name {
			return true
		}
	}
	return false
}

// kebabIs reports whether kebab(s) == name, without making kebab(s) for an ASCII s.
func kebabIs(s, name string) bool {
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return kebab(s) == name
		}
		if 'A' <= c && c <= 'Z' {
			if i > 0 && !('A' <= s[i-1] && s[i-1] <= 'Z') {
				if j >= len(name) || name[j] != '-' {
					return false
				}
				j++
			}
			c += 'a' - 'A'
		}
		if j >= len(name) || name[j] != c {
			return false
		}
		j++
	}
	return j == len(name)
}

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(s[i-1])) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Env reads the CLI's environment (bound so tests can inject it).
type Env func(string) string

// PingCmd checks the daemon.
type PingCmd struct{}

func (PingCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	msg, err := api.Ping(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, msg)
	return nil
}

// VersionCmd prints both versions.
type VersionCmd struct{}

func (VersionCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	fmt.Fprintln(out.Stdout, version.String("minibox"))
	var v struct {
		Version, Commit string
		GoVersion       string `json:"go_version"`
	}
	if err := api.JSON(ctx, "GET", "/version", nil, nil, &v); err != nil {
		return err
	}
	fmt.Fprintf(out.Stdout, "miniboxd %s (commit %s, %s)\n", v.Version, v.Commit, v.GoVersion)
	return nil
}

// InfoCmd prints the daemon's facts.
type InfoCmd struct {
	JSON bool `help:"Print JSON."`
}

func (c InfoCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	var info map[string]any
	if err := api.JSON(ctx, "GET", "/info", nil, nil, &info); err != nil {
		return err
	}
	if c.JSON {
		return out.JSON(info)
	}
	return printInfo(out, info)
}

// DaemonCmd is dispatched to miniboxd before kong runs; it is here for help.
type DaemonCmd struct{}

func (DaemonCmd) Run() error { return errors.New("run \"miniboxd\" or \"minibox daemon\" as root") }

// HelpCmd prints help for a command.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"The command."`
}

func (h HelpCmd) Run(ctx context.Context, parser *kong.Kong, out *Output) error {
	_, err := parser.Parse(append(h.Command, "--help"))
	return err
}
