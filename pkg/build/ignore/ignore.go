package ignore

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// MiniBoxFile is the context's exclusion list of a MiniBox file's build.
const MiniBoxFile = ".miniboxignore"

// Rules is a parsed .miniboxignore: the last pattern matching a path (or any directory
// above it) decides, so "!" re-includes and an excluded directory excludes its contents.
type Rules struct {
	rules []rule
	// docker, when set, decides instead: a .dockerignore, with Docker's own matcher.
	docker *patternmatcher.PatternMatcher
	// dockerMu serialises docker's matching: it compiles each pattern on first use, in
	// place, and a build's blocks match in parallel.
	dockerMu sync.Mutex
	name     string // the ignore file, kept in every image like Docker's .dockerignore
}

type rule struct {
	neg      bool
	anchored bool // has a '/': matched against the whole path; else against each name
	re       *regexp.Regexp
}

// Load reads dir/.miniboxignore; a missing file ignores nothing.
func Load(dir string) (*Rules, error) {
	b, err := os.ReadFile(filepath.Join(dir, MiniBoxFile))
	if os.IsNotExist(err) {
		return &Rules{}, nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// LoadDocker reads the first of names (then .dockerignore) in dir with Docker's
// rules; none present ignores nothing.
func LoadDocker(dir string, names ...string) (*Rules, error) {
	for _, n := range append(names, ".dockerignore") {
		f, err := os.Open(filepath.Join(dir, n))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", n, err, errdefs.ErrInvalid)
		}
		return &Rules{docker: pm, name: n}, nil
	}
	return &Rules{}, nil
}

// Parse reads patterns, one a line, # comments.
func Parse(b []byte) (*Rules, error) {
	ig := &Rules{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		r := rule{}
		if strings.HasPrefix(p, "!") {
			r.neg, p = true, strings.TrimSpace(p[1:])
		}
		p = strings.TrimSuffix(p, "/")
		if strings.HasPrefix(p, "/") {
			p = strings.TrimPrefix(p, "/")
			r.anchored = true
		}
		if strings.Contains(p, "/") {
			r.anchored = true
		}
		if p == "" {
			continue
		}
		re, err := regexp.Compile("^" + globRegexp(p) + "$")
		if err != nil {
			return nil, err
		}
		r.re = re
		ig.rules = append(ig.rules, r)
	}
	return ig, sc.Err()
}

// globRegexp translates a glob with *, ?, [..] and ** (any number of directories).
func globRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "/**") && i+3 == len(p):
			b.WriteString("(?:/.*)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Excluded reports whether rel (slash-separated, relative to the context) is left out.
func (ig *Rules) Excluded(rel string) bool {
	if ig == nil || rel == "" || rel == "." {
		return false
	}
	if ig.docker != nil {
		rel = strings.Trim(filepath.ToSlash(rel), "/")
		if rel == ig.name {
			return false
		}
		ig.dockerMu.Lock()
		ex, err := ig.docker.MatchesOrParentMatches(rel)
		ig.dockerMu.Unlock()
		return err == nil && ex
	}
	if len(ig.rules) == 0 {
		return false
	}
	rel = strings.Trim(filepath.ToSlash(rel), "/")
	if rel == MiniBoxFile {
		return false // the builder reads it; COPY . still gets it, as Docker's .dockerignore
	}
	parts := strings.Split(rel, "/")
	excluded := false
	for _, r := range ig.rules {
		for i := range parts {
			if r.match(parts, i) {
				excluded = !r.neg
				break
			}
		}
	}
	return excluded
}

// Descend reports whether an excluded directory rel may still hold paths that a "!"
// exception of a .dockerignore takes back: the copy and the key then walk into it, as
// Docker's does, keeping only what is re-included (and the directories above it).
func (ig *Rules) Descend(rel string) bool {
	if ig == nil || ig.docker == nil || !ig.docker.Exclusions() {
		return false
	}
	parts := strings.Split(strings.Trim(filepath.ToSlash(rel), "/"), "/")
	for _, p := range ig.docker.Patterns() {
		if p.Exclusion() && mayMatchBelow(strings.Split(p.String(), "/"), parts) {
			return true
		}
	}
	return false
}

// mayMatchBelow reports whether a pattern (split on /) can match a path below the
// directory dir: each of dir's names matches the pattern's element at its depth, and
// the pattern goes deeper (or reaches a "**", which matches at any depth).
func mayMatchBelow(pat, dir []string) bool {
	for i, d := range dir {
		if i >= len(pat) {
			return false
		}
		if strings.Contains(pat[i], "**") {
			return true
		}
		if ok, err := filepath.Match(pat[i], d); err != nil || !ok {
			return false
		}
	}
	return len(pat) > len(dir)
}

// match tests the rule against the path prefix parts[:i+1].
func (r rule) match(parts []string, i int) bool {
	if r.anchored {
		return r.re.MatchString(strings.Join(parts[:i+1], "/"))
	}
	return r.re.MatchString(parts[i])
}
