package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is compiled the first time it is used.
type Regexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// New returns a regexp compiled on first use (it panics then on a bad expression, as
// regexp.MustCompile would at start).
func New(expr string) *Regexp { return &Regexp{expr: expr} }

func (r *Regexp) get() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.expr) })
	return r.re
}

// MatchString reports whether s contains a match.
func (r *Regexp) MatchString(s string) bool { return r.get().MatchString(s) }

// FindStringSubmatch is regexp's.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.get().FindStringSubmatch(s) }
