package minibox

import (
	"io"
	"testing"
)

// BenchmarkParseRun is what each `minibox run` spends on its command line before its
// request: the grammar for run, kong's model of it and the parse.
func BenchmarkParseRun(b *testing.B) {
	args := []string{"run", "--rm", "--network", "none", "bb", "true"}
	b.ReportAllocs()
	for b.Loop() {
		p, err := newParser(grammar(args), io.Discard, io.Discard, func(int) {})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Parse(composeArgs(args)); err != nil {
			b.Fatal(err)
		}
	}
}
