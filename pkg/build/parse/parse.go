package parse

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/signals"
)

// BlockName is the rule for block names.
var BlockName = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

var (
	topLevel = []string{"BASE", "BLOCK", "START", "ENTRYPOINT", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "PORT", "EXPOSE", "LABEL", "ARG", "ENV"}
	inBlock  = []string{"BASE", "NEED", "BNEED", "RUN", "COPY", "WORKDIR", "ENV", "USER", "VOLUME", "PKG", "AUTO-DEPS", "PORT", "EXPOSE", "LABEL"}
	// legacy keywords and what they mean in the DAG format.
	legacyAlias = map[string]string{
		"BOX": "BASE", "START-WITH": "BASE", "FROM": "BASE", "BASE": "BASE",
		"RUN-COMMAND": "RUN", "RUN": "RUN", "PKG": "PKG", "ADD-PACKAGE": "PKG",
		"INSTALL-DEPS": "RUN", "CLONE-REPO": "RUN",
		"GOTO-FOLDER": "WORKDIR", "WORKDIR": "WORKDIR", "SET-ENVIRONMENT": "ENV", "ENV": "ENV",
		"IMPORT-FILE": "COPY", "COPY": "COPY", "GRAB-ALL": "COPY", "SYNC-PACK": "COPY",
		"LAUNCH": "START", "CMD": "START", "START": "START",
		"HEALTHCHECK": "HEALTHCHECK", "USER": "USER", "PORT": "PORT", "EXPOSE": "EXPOSE",
		"VOLUME": "VOLUME", "LABEL": "LABEL", "ARG": "ARG", "AUTO-DEPS": "AUTO-DEPS",
	}
)

type line struct {
	no     int
	col    int // of text's first byte
	indent bool
	text   string
}

type parser struct {
	f    *File
	errs ErrorList
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads a MiniBox file named name (for error positions). On any problem it returns
// an ErrorList with all of them.
func Parse(name string, src []byte) (*File, error) {
	p := &parser{f: &File{Name: name}}
	lines := splitLines(string(src))
	if len(lines) > 0 {
		switch strings.ToUpper(firstWord(lines[0].text)) {
		case "BOX", "FROM", "START-WITH":
			p.f.Format = Legacy
		}
	}
	if p.f.Format == Legacy {
		p.legacy(lines)
	} else {
		p.dag(lines)
	}
	p.check()
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i].Pos, p.errs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, p.errs
	}
	return p.f, nil
}

// splitLines drops comments and blank lines and joins continuations (a trailing \).
func splitLines(src string) []line {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	raw := strings.Split(src, "\n")
	var out []line
	for i := 0; i < len(raw); i++ {
		s := raw[i]
		text := strings.TrimLeft(s, " \t")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		l := line{no: i + 1, col: len(s) - len(text) + 1, indent: len(text) < len(s)}
		text = strings.TrimRight(text, " \t")
		for strings.HasSuffix(text, "\\") && i+1 < len(raw) {
			i++
			next := strings.TrimSpace(raw[i])
			text = strings.TrimRight(strings.TrimSuffix(text, "\\"), " \t") + " " + next
			text = strings.TrimRight(text, " \t")
		}
		if text == "" {
			continue
		}
		l.text = text
		out = append(out, l)
	}
	return out
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// words splits l.text after its keyword, recording columns.
func (p *parser) words(l line) (kw Word, args []Word, rest string) {
	s := l.text
	i := 0
	var all []Word
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if start < i {
			all = append(all, Word{Text: s[start:i], Pos: Pos{p.f.Name, l.no, l.col + start}})
		}
	}
	kw = all[0]
	rest = strings.TrimSpace(s[len(kw.Text):])
	return kw, all[1:], rest
}

func (p *parser) dag(lines []line) {
	var cur *Block
	for _, l := range lines {
		kw, args, rest := p.words(l)
		key := strings.ToUpper(kw.Text)
		if !l.indent {
			cur = nil
			if !contains(topLevel, key) {
				if contains(inBlock, key) {
					p.errorf(kw.Pos, "%s outside a block: indent it under a BLOCK", key)
				} else {
					p.errorf(kw.Pos, "unknown directive %q; expected one of %s", token(kw.Text), strings.Join(topLevel, ", "))
				}
				continue
			}
			switch key {
			case "BLOCK":
				if len(args) != 1 {
					p.errorf(kw.Pos, "BLOCK requires one block name")
					continue
				}
				cur = p.block(args[0])
			default:
				p.top(key, kw, args, rest)
			}
			continue
		}
		if cur == nil {
			p.errorf(kw.Pos, "instruction outside a block: %s is indented but no BLOCK is open", kw.Text)
			continue
		}
		if !contains(inBlock, key) && contains(topLevel, key) {
			p.errorf(kw.Pos, "%s belongs at the top level of the file, not inside block %s: write it unindented", token(kw.Text), cur.Name)
			continue
		}
		if !contains(inBlock, key) {
			p.errorf(kw.Pos, "unknown instruction %q in block %s; expected one of %s", token(kw.Text), cur.Name, strings.Join(inBlock, ", "))
			continue
		}
		p.inBlock(cur, key, kw, args, rest)
	}
	if p.f.Base == nil && len(p.errs) == 0 {
		p.errorf(Pos{p.f.Name, 1, 1}, "missing BASE: the file needs a BASE <image> line (or BASE scratch)")
	}
}

func (p *parser) block(name Word) *Block {
	if !BlockName.MatchString(name.Text) {
		p.errorf(name.Pos, "bad block name %q: use letters, digits, '_', '.', '-', starting with a letter or digit", token(name.Text))
	}
	if first := p.f.Block(name.Text); first != nil {
		p.errorf(name.Pos, "duplicate block %q (first defined at line %d)", token(name.Text), first.Pos.Line)
		return &Block{Name: name.Text, Pos: name.Pos} // parsed but not kept
	}
	b := &Block{Name: name.Text, Pos: name.Pos}
	p.f.Blocks = append(p.f.Blocks, b)
	return b
}

// top handles a file-global directive.
func (p *parser) top(key string, kw Word, args []Word, rest string) {
	switch key {
	case "BASE":
		if len(args) != 1 {
			p.errorf(kw.Pos, "BASE requires one image reference, scratch, or a .tar/.tar.gz rootfs")
			return
		}
		w := args[0]
		p.f.Base = &w
	case "START":
		p.f.Start = p.start(kw, rest)
	case "ENTRYPOINT":
		p.f.Entrypoint = p.start(kw, rest)
	case "SHELL":
		var sh []string
		if err := json.Unmarshal([]byte(rest), &sh); err != nil || len(sh) == 0 {
			p.errorf(kw.Pos, `SHELL requires a JSON array of strings, such as ["/bin/bash", "-c"]`)
			return
		}
		p.f.Shell = sh
	case "STOPSIGNAL":
		if len(args) != 1 {
			p.errorf(kw.Pos, "STOPSIGNAL requires one signal, such as SIGQUIT")
			return
		}
		if _, err := signals.Parse(args[0].Text); err != nil {
			p.errorf(args[0].Pos, "STOPSIGNAL: %v", err)
			return
		}
		w := args[0]
		p.f.StopSignal = &w
	case "HEALTHCHECK":
		if h := p.health(kw, args, rest); h != nil {
			p.f.Health = h
		}
	case "PORT", "EXPOSE":
		p.ports(key, kw, args)
	case "LABEL":
		if in := p.kvs(key, kw, args, rest); in != nil {
			p.f.Labels = append(p.f.Labels, in)
		}
	case "ENV":
		if in := p.kvs(key, kw, args, rest); in != nil {
			p.f.Env = append(p.f.Env, in)
		}
	case "ARG":
		if in := p.arg(kw, args); in != nil {
			p.f.Args = append(p.f.Args, in)
		}
	}
}

func (p *parser) inBlock(b *Block, key string, kw Word, args []Word, rest string) {
	switch key {
	case "BASE":
		if len(b.Instrs) > 0 || len(b.Needs) > 0 || len(b.BNeeds) > 0 || b.Base != nil {
			p.errorf(kw.Pos, "BASE must be the first line of block %s", b.Name)
			return
		}
		if len(args) != 1 {
			p.errorf(kw.Pos, "BASE requires one image reference")
			return
		}
		w := args[0]
		b.Base = &w
	case "NEED", "BNEED":
		if len(args) == 0 {
			p.errorf(kw.Pos, "%s requires at least one block name", key)
			return
		}
		for _, a := range splitCommas(args) {
			if key == "NEED" {
				b.Needs = append(b.Needs, a)
			} else {
				b.BNeeds = append(b.BNeeds, a)
			}
		}
	case "PORT", "EXPOSE":
		p.ports(key, kw, args)
	case "LABEL":
		if in := p.kvs(key, kw, args, rest); in != nil {
			p.f.Labels = append(p.f.Labels, in)
		}
	default:
		if in := p.instr(key, kw, args, rest); in != nil {
			b.Instrs = append(b.Instrs, in)
			if in.From != "" {
				b.BNeeds = append(b.BNeeds, Word{Text: in.From, Pos: in.Pos})
			}
		}
	}
}

func splitCommas(args []Word) []Word {
	var out []Word
	for _, a := range args {
		off := 0
		for _, part := range strings.Split(a.Text, ",") {
			if part != "" {
				pos := a.Pos
				pos.Col += off
				out = append(out, Word{Text: part, Pos: pos})
			}
			off += len(part) + 1
		}
	}
	return out
}

// instr parses RUN COPY WORKDIR ENV USER VOLUME PKG AUTO-DEPS.
func (p *parser) instr(key string, kw Word, args []Word, rest string) *Instr {
	in := &Instr{Pos: kw.Pos, Keyword: key, Args: args, Raw: rest}
	switch key {
	case "RUN":
		if rest == "" {
			p.errorf(kw.Pos, "RUN requires a command")
			return nil
		}
	case "COPY":
		return p.copyInstr(in)
	case "WORKDIR":
		if len(args) != 1 {
			p.errorf(kw.Pos, "WORKDIR requires one path")
			return nil
		}
	case "USER":
		if len(args) != 1 {
			p.errorf(kw.Pos, "USER requires one user[:group]")
			return nil
		}
	case "ENV":
		return p.kvs(key, kw, args, rest)
	case "VOLUME":
		if strings.HasPrefix(rest, "[") {
			var paths []string
			if err := json.Unmarshal([]byte(rest), &paths); err != nil {
				p.errorf(kw.Pos, "VOLUME requires paths or a JSON array of strings: %v", err)
				return nil
			}
			in.Args = nil
			for _, s := range paths {
				in.Args = append(in.Args, Word{Text: s, Pos: args[0].Pos})
			}
		}
		if len(in.Args) == 0 {
			p.errorf(kw.Pos, "VOLUME requires at least one path")
			return nil
		}
	case "PKG":
		if len(args) == 0 {
			p.errorf(kw.Pos, "PKG requires at least one package name")
			return nil
		}
	case "AUTO-DEPS":
		if len(args) != 0 {
			p.errorf(args[0].Pos, "AUTO-DEPS takes no arguments")
			return nil
		}
	}
	return in
}

func (p *parser) copyInstr(in *Instr) *Instr {
	var rest []Word
	ok := true
	for i, a := range in.Args {
		t := a.Text
		upper := strings.ToUpper(t)
		switch {
		case len(rest) == 0 && strings.HasPrefix(upper, "FROM="):
			in.From = t[len("FROM="):]
		case len(rest) == 0 && strings.HasPrefix(t, "--"):
			name, val, has := strings.Cut(t[2:], "=")
			if !has && i+1 < len(in.Args) && (name == "chown" || name == "chmod" || name == "from") {
				p.errorf(a.Pos, "COPY flag --%s requires =<value>", name)
				ok = false
				continue
			}
			switch name {
			case "chown":
				in.Chown = val
				if val == "" {
					p.errorf(a.Pos, "COPY --chown requires user[:group]")
					ok = false
				}
			case "chmod":
				if _, err := strconv.ParseUint(val, 8, 32); err != nil || val == "" || len(val) > 4 {
					p.errorf(a.Pos, "COPY --chmod requires an octal mode like 0644, not %q", token(val))
					ok = false
				}
				in.Chmod = val
			case "from":
				in.From = val
			default:
				p.errorf(a.Pos, "COPY: unknown flag --%s; expected --chown, --chmod or --from (FROM=)", token(name))
				ok = false
			}
		default:
			rest = append(rest, a)
		}
	}
	if in.From == "" && hasFromFlag(in.Args) {
		p.errorf(in.Pos, "COPY FROM= requires a block name")
		ok = false
	}
	in.Args = rest
	if len(rest) < 2 {
		p.errorf(in.Pos, "COPY requires at least one source and a destination")
		ok = false
	}
	if !ok {
		return nil
	}
	return in
}

func hasFromFlag(args []Word) bool {
	for _, a := range args {
		u := strings.ToUpper(a.Text)
		if u == "FROM=" || u == "--FROM=" {
			return true
		}
	}
	return false
}

// kvs parses ENV/LABEL: k=v... or (ENV only) "k rest of line".
func (p *parser) kvs(key string, kw Word, args []Word, rest string) *Instr {
	in := &Instr{Pos: kw.Pos, Keyword: key, Args: args, Raw: rest}
	if len(args) == 0 {
		p.errorf(kw.Pos, "%s requires key=value", key)
		return nil
	}
	if key == "ENV" && !strings.Contains(args[0].Text, "=") {
		if len(args) < 2 {
			p.errorf(args[0].Pos, "ENV requires key=value or key value")
			return nil
		}
		// "ENV K V W" sets K to "V W": the rest of the line, verbatim.
		val := strings.TrimSpace(rest[len(args[0].Text):])
		in.KVs = []KV{{Key: args[0].Text, Value: val, HasValue: true, Pos: args[0].Pos}}
		return in
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a.Text, "=")
		if !ok || k == "" {
			p.errorf(a.Pos, "%s requires key=value, got %q", key, token(a.Text))
			return nil
		}
		in.KVs = append(in.KVs, KV{Key: k, Value: v, HasValue: true, Pos: a.Pos})
	}
	return in
}

func (p *parser) arg(kw Word, args []Word) *Instr {
	if len(args) == 0 {
		p.errorf(kw.Pos, "ARG requires a name[=default]")
		return nil
	}
	in := &Instr{Pos: kw.Pos, Keyword: "ARG", Args: args}
	for _, a := range args {
		k, v, has := strings.Cut(a.Text, "=")
		if k == "" {
			p.errorf(a.Pos, "ARG requires a name[=default]")
			return nil
		}
		in.KVs = append(in.KVs, KV{Key: k, Value: v, HasValue: has, Pos: a.Pos})
	}
	return in
}

func (p *parser) ports(key string, kw Word, args []Word) {
	if len(args) == 0 {
		p.errorf(kw.Pos, "%s requires a port number", key)
		return
	}
	for _, a := range args {
		if !strings.Contains(a.Text, "${") {
			if err := CheckPort(a.Text); err != nil {
				p.errorf(a.Pos, "%s: %v", key, err)
				continue
			}
		}
		p.f.Ports = append(p.f.Ports, a)
	}
}

// CheckPort validates "<n>[/tcp|/udp]".
func CheckPort(s string) error {
	num, proto, has := strings.Cut(s, "/")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q; expected a number 1-65535 with an optional /tcp or /udp", token(s))
	}
	if has && proto != "tcp" && proto != "udp" && proto != "sctp" {
		return fmt.Errorf("bad protocol in %q; expected tcp or udp", token(s))
	}
	return nil
}

func (p *parser) start(kw Word, rest string) *Start {
	s := &Start{Pos: kw.Pos}
	if strings.HasPrefix(rest, "[") {
		if err := json.Unmarshal([]byte(rest), &s.Exec); err != nil {
			p.errorf(kw.Pos, "%s requires words or a JSON array of strings: %v", strings.ToUpper(kw.Text), err)
			return nil
		}
		if s.Exec == nil {
			s.Exec = []string{}
		}
		return s
	}
	s.Shell = rest
	return s
}

func (p *parser) health(kw Word, args []Word, rest string) *Health {
	h := &Health{Pos: kw.Pos, Interval: 30 * time.Second, Timeout: 30 * time.Second, Retries: 3}
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i].Text, "--"); i++ {
		a := args[i]
		name, val, has := strings.Cut(a.Text[2:], "=")
		if !has {
			if i+1 >= len(args) {
				p.errorf(a.Pos, "HEALTHCHECK --%s requires a value", name)
				return nil
			}
			i++
			val = args[i].Text
		}
		switch name {
		case "interval", "timeout", "start-period":
			d, err := ParseDuration(val)
			if err != nil {
				p.errorf(a.Pos, "HEALTHCHECK --%s: bad duration %q; expected 30s, 1m30s or a number of seconds", name, token(val))
				return nil
			}
			switch name {
			case "interval":
				h.Interval = d
			case "timeout":
				h.Timeout = d
			default:
				h.StartPeriod = d
			}
		case "retries":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				p.errorf(a.Pos, "HEALTHCHECK --retries: bad number %q", token(val))
				return nil
			}
			h.Retries = n
		default:
			p.errorf(a.Pos, "HEALTHCHECK: unknown flag --%s; expected --interval, --timeout, --start-period or --retries", name)
			return nil
		}
	}
	if i >= len(args) {
		p.errorf(kw.Pos, "HEALTHCHECK requires a command or NONE")
		return nil
	}
	cmd := strings.TrimSpace(rest[strings.Index(rest, args[i].Text):])
	switch strings.ToUpper(args[i].Text) {
	case "NONE":
		h.Test = []string{"NONE"}
		return h
	case "CMD":
		cmd = strings.TrimSpace(cmd[3:])
		if cmd == "" {
			p.errorf(args[i].Pos, "HEALTHCHECK CMD requires a command")
			return nil
		}
	}
	if strings.HasPrefix(cmd, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(cmd), &argv); err != nil || len(argv) == 0 {
			p.errorf(kw.Pos, "HEALTHCHECK requires a command or a JSON array of strings")
			return nil
		}
		h.Test = append([]string{"CMD"}, argv...)
		return h
	}
	h.Test = []string{"CMD-SHELL", cmd}
	return h
}

// ParseDuration reads "30s", "1m30s", "500ms" or a bare number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative")
	}
	return d, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
