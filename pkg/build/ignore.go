package build

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// IgnoreFile is the context's exclusion list.
const IgnoreFile = ".miniboxignore"

// Ignore is a parsed .miniboxignore: the last pattern matching a path (or any directory
// above it) decides, so "!" re-includes and an excluded directory excludes its contents.
type Ignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	neg      bool
	anchored bool // has a '/': matched against the whole path; else against each name
	re       *regexp.Regexp
}

// LoadIgnore reads dir/.miniboxignore; a missing file ignores nothing.
func LoadIgnore(dir string) (*Ignore, error) {
	b, err := os.ReadFile(filepath.Join(dir, IgnoreFile))
	if os.IsNotExist(err) {
		return &Ignore{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseIgnore(b)
}

// ParseIgnore reads patterns, one a line, # comments.
func ParseIgnore(b []byte) (*Ignore, error) {
	ig := &Ignore{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		r := ignoreRule{}
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
func (ig *Ignore) Excluded(rel string) bool {
	if ig == nil || len(ig.rules) == 0 || rel == "" || rel == "." {
		return false
	}
	rel = strings.Trim(filepath.ToSlash(rel), "/")
	if rel == IgnoreFile {
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

// match tests the rule against the path prefix parts[:i+1].
func (r ignoreRule) match(parts []string, i int) bool {
	if r.anchored {
		return r.re.MatchString(strings.Join(parts[:i+1], "/"))
	}
	return r.re.MatchString(parts[i])
}
