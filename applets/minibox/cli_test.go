package minibox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/minibox/minibox/pkg/errdefs"
)

// describeNode writes what a user can see or use of n and the commands under it: names,
// aliases, help, flags and arguments with everything that changes their parsing.
func describeNode(w io.Writer, n *kong.Node, indent string) {
	group := ""
	if n.Group != nil {
		group = n.Group.Key + "/" + n.Group.Title
	}
	fmt.Fprintf(w, "%snode %d %q aliases=%q hidden=%v group=%q passthrough=%v help=%q detail=%q\n",
		indent, n.Type, n.Name, n.Aliases, n.Hidden, group, n.Passthrough, n.Help, n.Detail)
	if n.DefaultCmd != nil {
		fmt.Fprintf(w, "%s  default-cmd %q\n", indent, n.DefaultCmd.Name)
	}
	for _, f := range n.Flags {
		fmt.Fprintf(w, "%s  flag %q short=%q aliases=%q hidden=%v negated=%v placeholder=%q envs=%q xor=%q and=%q",
			indent, f.Name, f.Short, f.Aliases, f.Hidden, f.Negated, f.PlaceHolder, f.Envs, f.Xor, f.And)
		describeValue(w, f.Value)
	}
	for _, p := range n.Positional {
		fmt.Fprintf(w, "%s  arg %q", indent, p.Name)
		describeValue(w, p)
	}
	if n.Argument != nil {
		fmt.Fprintf(w, "%s  argument %q", indent, n.Argument.Name)
		describeValue(w, n.Argument)
	}
	for _, c := range n.Children {
		describeNode(w, c, indent+"  ")
	}
}

func describeValue(w io.Writer, v *kong.Value) {
	fmt.Fprintf(w, " help=%q default=%q has-default=%v enum=%q required=%v format=%q passthrough=%v type=%s sep=%q\n",
		v.Help, v.Default, v.HasDefault, v.Enum, v.Required, v.Format, v.PassthroughMode, v.Target.Type(), v.Tag.Sep)
}

// commandPaths lists the command lines naming n and every command under it.
func commandPaths(n *kong.Node, path []string) [][]string {
	paths := [][]string{path}
	for _, c := range n.Children {
		if c.Type == kong.CommandNode {
			paths = append(paths, commandPaths(c, append(append([]string(nil), path...), c.Name))...)
		}
	}
	return paths
}

// fullCLI runs args against the whole CLI's grammar and returns what it wrote and its exit
// code, as Run would with no per-command grammar.
func fullCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := -1
	p, err := newParser(&CLI{}, &out, &out, func(c int) { code = c; panic(exitCode(c)) })
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(exitCode); !ok {
					panic(r)
				}
			}
		}()
		if _, err := p.Parse(args); err != nil {
			fmt.Fprintf(&out, "[error] %v\n", err)
		}
	}()
	return out.String(), code
}

func runCLI(args ...string) (string, int) {
	var out bytes.Buffer
	err := Run(context.Background(), args, &out, &out, func(string) string { return "" })
	var ee *errdefs.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.Code
	}
	if err != nil {
		return out.String() + err.Error(), -2
	}
	return out.String(), 0
}

// TestGrammarPerCommand checks that the grammar Run builds for one top-level command is
// the whole CLI's view of that command: the same root flags, the same command tree with
// the same flags and help, and the same --help output for every command under it.
func TestGrammarPerCommand(t *testing.T) {
	full, err := newParser(&CLI{}, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var fullRoot strings.Builder
	for _, f := range full.Model.Flags {
		fmt.Fprintf(&fullRoot, "flag %q short=%q hidden=%v", f.Name, f.Short, f.Hidden)
		describeValue(&fullRoot, f.Value)
	}
	commands := 0
	for _, cmd := range full.Model.Children {
		for _, name := range append([]string{cmd.Name}, cmd.Aliases...) {
			g := grammar([]string{name, "x"})
			if _, whole := g.(*CLI); whole {
				if name != "help" { // help shows any command's help: it needs them all
					t.Errorf("%s: Run would build the whole grammar", name)
				}
				continue
			}
			p, err := newParser(g, io.Discard, io.Discard, func(int) {})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var root strings.Builder
			for _, f := range p.Model.Flags {
				fmt.Fprintf(&root, "flag %q short=%q hidden=%v", f.Name, f.Short, f.Hidden)
				describeValue(&root, f.Value)
			}
			if root.String() != fullRoot.String() {
				t.Errorf("%s: root flags\n%s\nwant\n%s", name, root.String(), fullRoot.String())
			}
			if len(p.Model.Children) != 1 {
				t.Errorf("%s: %d commands in its grammar", name, len(p.Model.Children))
				continue
			}
			var got, want strings.Builder
			describeNode(&got, p.Model.Children[0], "")
			describeNode(&want, cmd, "")
			if got.String() != want.String() {
				t.Errorf("%s: its grammar\n%s\nthe whole CLI's\n%s", name, got.String(), want.String())
			}
		}
		for _, path := range commandPaths(cmd, []string{cmd.Name}) {
			for _, args := range [][]string{append(path, "--help"), append(path, "--no-such-flag")} {
				answersAsWholeCLI(t, append([]string(nil), args...))
			}
			commands++
		}
	}
	if commands < 50 {
		t.Errorf("only %d commands checked", commands)
	}
	// No command, help and an unknown command get the whole grammar; --version alone the
	// root's flags only: each answers as the whole CLI does.
	for _, args := range [][]string{{"--help"}, {"--version"}, {"no-such-command"}, {"no-such-command", "--help"}, {"--bogus"}} {
		answersAsWholeCLI(t, args)
	}
}

// answersAsWholeCLI checks that Run answers args with the whole CLI's output and exit code.
func answersAsWholeCLI(t *testing.T, args []string) {
	t.Helper()
	gotOut, gotCode := runCLI(args...)
	wantOut, wantCode := fullCLI(t, args...)
	if wantCode == -1 {
		// A parse error: Run prints it after kong's usage, and then a hint.
		wantCode = 2
		if !strings.HasPrefix(gotOut, wantOut) {
			t.Errorf("%q: usage\n%s\nwant\n%s", args, gotOut, wantOut)
		}
	} else if gotOut != wantOut {
		t.Errorf("%q: output\n%s\nwant\n%s", args, gotOut, wantOut)
	}
	if gotCode != wantCode {
		t.Errorf("%q: exit code %d, want %d", args, gotCode, wantCode)
	}
}

func TestKebabIs(t *testing.T) {
	names := []string{"", "run", "Run", "ImageLs", "RmAll", "HTTPProxy", "IPv6", "A", "aB", "Über", "ComposeUp", "Ps"}
	for _, s := range names {
		for _, name := range append([]string{kebab(s), kebab(s) + "x", strings.TrimSuffix(kebab(s), "-")}, names...) {
			if got, want := kebabIs(s, name), kebab(s) == name; got != want {
				t.Errorf("kebabIs(%q, %q) = %v, want %v", s, name, got, want)
			}
		}
	}
}

// A group's subcommand gets a grammar with that subcommand alone, the group's flags parsed
// as the whole CLI parses them, and the group (with those flags) bound for its Run.
func TestSubGrammar(t *testing.T) {
	full, err := newParser(&CLI{}, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var wantUp strings.Builder
	for _, c := range full.Model.Children {
		if c.Name == "compose" {
			for _, sub := range c.Children {
				if sub.Name == "up" {
					describeNode(&wantUp, sub, "")
				}
			}
		}
	}
	args := []string{"compose", "-p", "proj", "-f", "a.yaml", "--profile=x", "--project-directory", "up", "up", "-d"}
	g := grammar(args)
	p, err := newParser(g, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	compose := p.Model.Children[0]
	if len(compose.Children) != 1 || compose.Children[0].Name != "up" {
		t.Fatalf("compose's grammar has %d subcommands, want up alone", len(compose.Children))
	}
	var gotUp strings.Builder
	describeNode(&gotUp, compose.Children[0], "")
	if gotUp.String() != wantUp.String() {
		t.Errorf("up's grammar\n%s\nthe whole CLI's\n%s", gotUp.String(), wantUp.String())
	}
	if _, err := p.Parse(composeArgs(args)); err != nil {
		t.Fatal(err)
	}
	bound := groupBindings(g)
	if len(bound) != 1 {
		t.Fatalf("bound %d groups, want compose", len(bound))
	}
	c, ok := bound[0].(*ComposeCmd)
	if !ok || c.ProjectName != "proj" || strings.Join(c.File, ",") != "a.yaml" || strings.Join(c.Profile, ",") != "x" || c.ProjectDirectory != "up" {
		t.Errorf("bound %#v", bound[0])
	}
	// Help, and a subcommand that is not one, keep the whole group.
	for _, args := range [][]string{{"compose", "up", "--help"}, {"compose", "nope"}, {"compose"}} {
		if _, err := newParser(grammar(args), io.Discard, io.Discard, func(int) {}); err != nil {
			t.Fatal(err)
		}
		if bound := groupBindings(grammar(args)); len(bound) != 0 {
			t.Errorf("%q: pruned", args)
		}
	}
}
