// Package reference stands in for github.com/distribution/reference in minibox's build
// (go.mod replaces it): compose-go's types import it for one helper minibox never calls,
// and the original compiles its grammar's regular expressions in package init, which
// every process of minibox's one binary (each container's shim and init included) would
// pay, about 3 ms and 400 KB each. This package has the part of the API compose-go uses,
// with Docker's grammar and normalisation, compiled on first use.
package reference

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
)

const (
	defaultDomain = "docker.io"
	officialRepo  = "library/"
	defaultTag    = "latest"
	maxNameLength = 255
)

// Errors as the original names them.
var (
	ErrReferenceInvalidFormat = errors.New("invalid reference format")
	ErrTagInvalidFormat       = errors.New("invalid tag format")
	ErrDigestInvalidFormat    = errors.New("invalid digest format")
	ErrNameContainsUppercase  = errors.New("repository name must be lowercase")
	ErrNameEmpty              = errors.New("repository name must have at least one component")
	ErrNameTooLong            = fmt.Errorf("repository name must not be more than %v characters", maxNameLength)
)

// The grammar every Docker tool shares.
var grammar = sync.OnceValue(func() (g struct{ domain, path, tag, digest *regexp.Regexp }) {
	comp := `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
	dom := `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	g.domain = regexp.MustCompile(`^(?:` + dom + `(?:\.` + dom + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	g.path = regexp.MustCompile(`^` + comp + `(?:/` + comp + `)*$`)
	g.tag = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	g.digest = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$`)
	return g
})

// Reference is an image reference.
type Reference interface{ String() string }

// Named is a reference with a repository name.
type Named interface {
	Reference
	Name() string
}

// Tagged is a reference with a tag.
type Tagged interface {
	Reference
	Tag() string
}

// Digested is a reference with a digest.
type Digested interface {
	Reference
	Digest() digest.Digest
}

// Canonical is a named reference with a digest.
type Canonical interface {
	Named
	Digest() digest.Digest
}

// ref is a parsed reference; the types below give it the methods of what it holds, so a
// type assertion to Tagged or Canonical says what the original's would.
type ref struct {
	name, tag string
	dig       digest.Digest
}

func (r ref) Name() string { return r.name }
func (r ref) String() string {
	s := r.name
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.dig != "" {
		s += "@" + r.dig.String()
	}
	return s
}

type taggedRef struct{ ref }

func (r taggedRef) Tag() string { return r.tag }

type canonicalRef struct{ ref }

func (r canonicalRef) Digest() digest.Digest { return r.dig }

type fullRef struct{ ref }

func (r fullRef) Tag() string           { return r.tag }
func (r fullRef) Digest() digest.Digest { return r.dig }

// typed wraps r in the type that has the methods of what r holds.
func typed(r ref) Named {
	switch {
	case r.tag != "" && r.dig != "":
		return fullRef{r}
	case r.dig != "":
		return canonicalRef{r}
	case r.tag != "":
		return taggedRef{r}
	}
	return r
}

// ParseDockerRef parses s as Docker does: normalised (docker.io/library/ for short
// names), with the tag latest when it has neither tag nor digest, and without its tag
// when it has a digest.
func ParseDockerRef(s string) (Named, error) {
	r, err := parseNormalized(s)
	if err != nil {
		return nil, err
	}
	if r.dig != "" {
		r.tag = ""
	} else if r.tag == "" {
		r.tag = defaultTag
	}
	return typed(r), nil
}

// WithDigest returns name with digest d.
func WithDigest(name Named, d digest.Digest) (Canonical, error) {
	if !grammar().digest.MatchString(d.String()) {
		return nil, ErrDigestInvalidFormat
	}
	r := ref{name: name.Name(), dig: d}
	if t, ok := name.(Tagged); ok {
		r.tag = t.Tag()
	}
	return typed(r).(Canonical), nil
}

func parseNormalized(s string) (ref, error) {
	g := grammar()
	var r ref
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		d := rest[i+1:]
		if !g.digest.MatchString(d) {
			return r, ErrDigestInvalidFormat
		}
		r.dig = digest.Digest(d)
		if err := r.dig.Validate(); err != nil {
			return r, err
		}
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		r.tag = rest[i+1:]
		if !g.tag.MatchString(r.tag) {
			return r, ErrTagInvalidFormat
		}
		rest = rest[:i]
	}
	if rest == "" {
		return r, ErrNameEmpty
	}
	domain, path := defaultDomain, rest
	// The first component is a registry when it has a '.' or a ':', is localhost, or has
	// an uppercase letter (no repository may).
	if i := strings.IndexByte(rest, '/'); i >= 0 && (strings.ContainsAny(rest[:i], ".:") || rest[:i] == "localhost" || strings.ToLower(rest[:i]) != rest[:i]) {
		domain, path = rest[:i], rest[i+1:]
	}
	if domain == "index.docker.io" {
		domain = defaultDomain
	}
	if domain == defaultDomain && !strings.ContainsRune(path, '/') {
		path = officialRepo + path
	}
	switch {
	case !g.domain.MatchString(domain):
		return r, ErrReferenceInvalidFormat
	case strings.ToLower(path) != path:
		return r, ErrNameContainsUppercase
	case !g.path.MatchString(path):
		return r, ErrReferenceInvalidFormat
	case len(domain)+1+len(path) > maxNameLength:
		return r, ErrNameTooLong
	}
	r.name = domain + "/" + path
	return r, nil
}

// NamedTagged is a name with a tag.
type NamedTagged interface {
	Named
	Tag() string
}

// ParseNormalizedNamed parses s as a name, normalised (docker.io/library/ for short
// names), keeping its tag and digest as given.
func ParseNormalizedNamed(s string) (Named, error) {
	r, err := parseNormalized(s)
	if err != nil {
		return nil, err
	}
	return typed(r), nil
}

// IsNameOnly reports a name with neither tag nor digest.
func IsNameOnly(n Named) bool {
	_, tagged := n.(Tagged)
	_, digested := n.(Digested)
	return !tagged && !digested
}

// TagNameOnly adds the tag latest to a name with neither tag nor digest.
func TagNameOnly(n Named) Named {
	if !IsNameOnly(n) {
		return n
	}
	return typed(ref{name: n.Name(), tag: defaultTag})
}

// WithTag returns name with tag t (keeping a digest it has).
func WithTag(name Named, t string) (NamedTagged, error) {
	if !grammar().tag.MatchString(t) {
		return nil, ErrTagInvalidFormat
	}
	r := ref{name: name.Name(), tag: t}
	if d, ok := name.(Digested); ok {
		r.dig = d.Digest()
	}
	return typed(r).(NamedTagged), nil
}

// FamiliarName is the name as the docker CLI shows it: without docker.io/, and without
// library/ for an official image.
func FamiliarName(n Named) string {
	name := n.Name()
	if rest, ok := strings.CutPrefix(name, defaultDomain+"/"); ok {
		name = rest
		if r, ok := strings.CutPrefix(name, officialRepo); ok && !strings.ContainsRune(r, '/') {
			name = r
		}
	}
	return name
}

// FamiliarString is the reference as the docker CLI shows it.
func FamiliarString(r Reference) string {
	n, ok := r.(Named)
	if !ok {
		return r.String()
	}
	s := FamiliarName(n)
	if t, ok := r.(Tagged); ok {
		s += ":" + t.Tag()
	}
	if d, ok := r.(Digested); ok {
		s += "@" + d.Digest().String()
	}
	return s
}

// digestReference is a reference that is only a digest (an image ID).
type digestReference digest.Digest

func (d digestReference) String() string        { return string(d) }
func (d digestReference) Digest() digest.Digest { return digest.Digest(d) }

// ParseAnyReference parses an image ID (64 hex digits, or sha256:<hex>) as a digest
// reference, anything else as a normalised name.
func ParseAnyReference(s string) (Reference, error) {
	if len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" {
		return digestReference("sha256:" + s), nil
	}
	if d, err := digest.Parse(s); err == nil {
		return digestReference(d), nil
	}
	return ParseNormalizedNamed(s)
}
