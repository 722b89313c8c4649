package minibox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
)

// Output is where commands write: data on Stdout, messages on Stderr.
type Output struct {
	Stdout io.Writer
	Stderr io.Writer
	plain  bool // NO_COLOR / MINIBOX_PLAIN, or not a terminal
}

func newOutput(stdout, stderr io.Writer) *Output {
	o := &Output{Stdout: stdout, Stderr: stderr}
	o.plain = os.Getenv("NO_COLOR") != "" || os.Getenv("MINIBOX_PLAIN") != ""
	if f, ok := stdout.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		o.plain = true
	}
	return o
}

// Terminal reports whether colour, bars and redraws are allowed.
func (o *Output) Terminal() bool { return !o.plain }

// Info prints "..  msg" on stderr.
func (o *Output) Info(format string, args ...any) { o.line("..  ", format, args...) }

// OK prints "OK  msg" on stderr.
func (o *Output) OK(format string, args ...any) { o.line("OK  ", format, args...) }

// Warn prints "[warn] msg" on stderr.
func (o *Output) Warn(format string, args ...any) { o.line("[warn] ", format, args...) }

func (o *Output) line(prefix, format string, args ...any) {
	fmt.Fprintf(o.Stderr, prefix+strings.TrimRight(format, "\n")+"\n", args...)
}

// Table prints aligned columns on stdout.
func (o *Output) Table(headers []string, rows [][]string) {
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// JSON prints v indented on stdout.
func (o *Output) JSON(v any) error {
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "->" in ports, "<none>" in names
	return enc.Encode(v)
}
