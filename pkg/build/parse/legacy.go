package parse

import (
	"fmt"
	"sort"
	"strings"
)

// legacy reads the original flat format: every step becomes a block NEEDing the one
// before, so each step is cached on its own, as the original's steps were.
func (p *parser) legacy(lines []line) {
	var prev *Block
	for _, l := range lines {
		kw, args, rest := p.words(l)
		orig := strings.ToUpper(kw.Text)
		key, ok := legacyAlias[orig]
		if !ok {
			p.errorf(kw.Pos, "unknown directive %q; expected one of %s", token(kw.Text), strings.Join(legacyKeywords(), ", "))
			continue
		}
		switch key {
		case "BASE", "START", "HEALTHCHECK", "PORT", "EXPOSE", "LABEL", "ARG":
			p.top(key, kw, args, rest)
			continue
		}
		switch orig {
		case "INSTALL-DEPS":
			rest = "npm install"
		case "CLONE-REPO":
			if rest == "" {
				p.errorf(kw.Pos, "CLONE-REPO requires a repository address")
				continue
			}
			rest = "git clone " + rest
		case "GRAB-ALL", "SYNC-PACK":
			args = []Word{{Text: ".", Pos: kw.Pos}, {Text: "/app", Pos: kw.Pos}}
		}
		in := p.instr(key, kw, args, rest)
		if in == nil {
			continue
		}
		b := &Block{
			Name: fmt.Sprintf("step-%d", len(p.f.Blocks)+1),
			Pos:  kw.Pos,
			Step: strings.TrimSpace(orig + " " + strings.TrimSpace(l.text[len(kw.Text):])),
		}
		if prev != nil {
			b.Needs = []Word{{Text: prev.Name, Pos: kw.Pos}}
		}
		b.Instrs = []*Instr{in}
		if in.From != "" {
			b.BNeeds = append(b.BNeeds, Word{Text: in.From, Pos: in.Pos})
		}
		p.f.Blocks = append(p.f.Blocks, b)
		prev = b
	}
	if p.f.Base == nil && len(p.errs) == 0 {
		p.errorf(Pos{p.f.Name, 1, 1}, "missing BASE: the file needs a BOX, FROM or START-WITH line")
	}
}

func legacyKeywords() []string {
	var ks []string
	for k := range legacyAlias {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
