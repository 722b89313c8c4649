package parse

import "strings"

// check validates references between blocks: every NEED/BNEED/COPY FROM names a block,
// the graph has no cycle, and NEED stays on one base.
func (p *parser) check() {
	f := p.f
	for _, b := range f.Blocks {
		for _, ref := range append(append([]Word(nil), b.Needs...), b.BNeeds...) {
			if f.Block(ref.Text) == nil {
				p.errorf(ref.Pos, "unknown block %q in %s of block %s", token(ref.Text), refKind(b, ref), b.Name)
			}
		}
	}
	// Cycles, found by depth-first search; each reported once, where it closes.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(b *Block)
	visit = func(b *Block) {
		color[b.Name] = grey
		stack = append(stack, b.Name)
		for _, ref := range Deps(b) {
			d := f.Block(ref.Text)
			if d == nil {
				continue
			}
			switch color[d.Name] {
			case white:
				visit(d)
			case grey:
				i := len(stack) - 1
				for stack[i] != d.Name {
					i--
				}
				path := append(append([]string(nil), stack[i:]...), d.Name)
				p.errorf(ref.Pos, "cycle: %s", strings.Join(path, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[b.Name] = black
	}
	for _, b := range f.Blocks {
		if color[b.Name] == white {
			visit(b)
		}
	}
	// NEED stacks layers, which only makes sense on one base.
	for _, b := range f.Blocks {
		base := f.BaseOf(b)
		for _, ref := range b.Needs {
			d := f.Block(ref.Text)
			if d == nil || base == nil {
				continue
			}
			if db := f.BaseOf(d); db != nil && db.Text != base.Text {
				p.errorf(ref.Pos, "NEED across bases: %s builds on %s but %s builds on %s; use BNEED %s and COPY FROM=%s",
					b.Name, base.Text, d.Name, db.Text, d.Name, d.Name)
			}
		}
	}
}

func refKind(b *Block, ref Word) string {
	for _, n := range b.Needs {
		if n == ref {
			return "NEED"
		}
	}
	for _, in := range b.Instrs {
		if in.From == ref.Text && in.Pos == ref.Pos {
			return "COPY FROM="
		}
	}
	return "BNEED"
}

// Deps returns every block b waits for: NEEDs, then BNEEDs (COPY FROM= included), each once.
func Deps(b *Block) []Word {
	seen := map[string]bool{}
	var out []Word
	for _, w := range append(append([]Word(nil), b.Needs...), b.BNeeds...) {
		if !seen[w.Text] {
			seen[w.Text] = true
			out = append(out, w)
		}
	}
	return out
}
