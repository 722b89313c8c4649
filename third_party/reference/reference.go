// Package reference parses and builds image references (name, tag, digest) as Docker
// and the OCI distribution spec write them, with Docker Hub's normalisation
// ("ubuntu" is "docker.io/library/ubuntu").
//
// It stands in for github.com/distribution/reference in minibox's build (go.mod replaces
// the module): compose-go's types and Docker's Go client import it, and the original
// compiles its grammar's regular expressions in package init, which every process of
// minibox's one binary (each container's shim and init included) would pay, about 3 ms
// and 400 KB each. This package has the original's API, types, results and errors, but
// does no work at init: the grammar (grammar.go) is matched by hand. The original's
// exported *regexp.Regexp variables are therefore not provided.
package reference

import (
	"errors"
	"strings"

	"github.com/opencontainers/go-digest"
)

const (
	// RepositoryNameTotalLengthMax is the longest a repository path may be (the domain
	// is not counted).
	RepositoryNameTotalLengthMax = 255

	// NameTotalLengthMax is the old name of RepositoryNameTotalLengthMax.
	//
	// Deprecated: use [RepositoryNameTotalLengthMax] instead.
	NameTotalLengthMax = RepositoryNameTotalLengthMax
)

var (
	// ErrReferenceInvalidFormat is returned for a string that is not a reference.
	ErrReferenceInvalidFormat = errors.New("invalid reference format")
	// ErrTagInvalidFormat is returned for a string that is not a tag.
	ErrTagInvalidFormat = errors.New("invalid tag format")
	// ErrDigestInvalidFormat is returned for a string that is not a digest.
	ErrDigestInvalidFormat = errors.New("invalid digest format")
	// ErrNameContainsUppercase is returned for a reference that would be valid in
	// lower case.
	ErrNameContainsUppercase = errors.New("repository name must be lowercase")
	// ErrNameEmpty is returned for an empty reference.
	ErrNameEmpty = errors.New("repository name must have at least one component")
	// ErrNameTooLong is returned when the repository path is longer than
	// RepositoryNameTotalLengthMax.
	ErrNameTooLong = errors.New("repository name must not be more than 255 characters")
	// ErrNameNotCanonical is returned by ParseNamed for a name that is not written in
	// its normalised form.
	ErrNameNotCanonical = errors.New("repository name must be canonical")
)

// Reference is any image reference.
type Reference interface {
	// String returns the full reference.
	String() string
}

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

// NamedTagged is a named reference with a tag.
type NamedTagged interface {
	Named
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

// Field wraps a Reference so that it encodes as text.
type Field struct {
	reference Reference
}

// AsField wraps reference in a Field.
func AsField(reference Reference) Field { return Field{reference} }

// Reference returns the wrapped reference.
func (f Field) Reference() Reference { return f.reference }

// MarshalText returns the reference's string.
func (f Field) MarshalText() ([]byte, error) { return []byte(f.reference.String()), nil }

// UnmarshalText parses p with Parse.
func (f *Field) UnmarshalText(p []byte) error {
	r, err := Parse(string(p))
	if err != nil {
		return err
	}
	f.reference = r
	return nil
}

// The concrete types. Which interfaces a value satisfies tells its caller what it
// holds, so each combination of tag and digest is its own type.
type (
	// repo is a bare name.
	repo struct{ domain, path string }
	// tagged is a name with a tag.
	tagged struct {
		repo
		tag string
	}
	// pinned is a name with a digest.
	pinned struct {
		repo
		digest digest.Digest
	}
	// taggedPinned is a name with a tag and a digest.
	taggedPinned struct {
		repo
		tag    string
		digest digest.Digest
	}
	// digestOnly is a digest without a name.
	digestOnly digest.Digest
)

func (r repo) Name() string {
	if r.domain == "" {
		return r.path
	}
	return r.domain + "/" + r.path
}
func (r repo) String() string { return r.Name() }
func (r repo) Domain() string { return r.domain }
func (r repo) Path() string   { return r.path }

func (t tagged) String() string { return t.Name() + ":" + t.tag }
func (t tagged) Tag() string    { return t.tag }

func (p pinned) String() string        { return p.Name() + "@" + string(p.digest) }
func (p pinned) Digest() digest.Digest { return p.digest }

func (t taggedPinned) String() string        { return t.Name() + ":" + t.tag + "@" + string(t.digest) }
func (t taggedPinned) Tag() string           { return t.tag }
func (t taggedPinned) Digest() digest.Digest { return t.digest }

func (d digestOnly) String() string        { return string(d) }
func (d digestOnly) Digest() digest.Digest { return digest.Digest(d) }

// build returns the type that fits what r carries.
func build(r repo, tag string, dgst digest.Digest) Named {
	switch {
	case tag != "" && dgst != "":
		return taggedPinned{r, tag, dgst}
	case tag != "":
		return tagged{r, tag}
	case dgst != "":
		return pinned{r, dgst}
	}
	return r
}

// repoOf returns the domain and path of a Named, whatever its implementation.
func repoOf(named Named) repo {
	if r, ok := named.(interface {
		Domain() string
		Path() string
	}); ok {
		return repo{r.Domain(), r.Path()}
	}
	domain, path, ok := splitName(named.Name())
	if !ok {
		return repo{"", named.Name()}
	}
	return repo{domain, path}
}

// Domain returns the domain part of named ("" when it has none).
func Domain(named Named) string { return repoOf(named).domain }

// Path returns named's name without its domain.
func Path(named Named) string { return repoOf(named).path }

// Parse parses s as a reference without normalising it: "ubuntu" stays "ubuntu".
func Parse(s string) (Reference, error) {
	p, ok := splitReference(s)
	if !ok {
		if s == "" {
			return nil, ErrNameEmpty
		}
		if _, ok := splitReference(strings.ToLower(s)); ok {
			return nil, ErrNameContainsUppercase
		}
		return nil, ErrReferenceInvalidFormat
	}
	if len(p.remote) > RepositoryNameTotalLengthMax {
		return nil, ErrNameTooLong
	}
	var dgst digest.Digest
	if p.digest != "" {
		var err error
		if dgst, err = digest.Parse(p.digest); err != nil {
			return nil, err
		}
	}
	return build(repo{p.domain, p.remote}, p.tag, dgst), nil
}

// ParseNamed parses s as a name that must already be in normalised form (as
// ParseNormalizedNamed would write it).
func ParseNamed(s string) (Named, error) {
	named, err := ParseNormalizedNamed(s)
	if err != nil {
		return nil, err
	}
	if named.String() != s {
		return nil, ErrNameNotCanonical
	}
	return named, nil
}

// WithName returns the bare name s, unnormalised.
func WithName(s string) (Named, error) {
	domain, path, ok := splitName(s)
	if !ok {
		return nil, ErrReferenceInvalidFormat
	}
	if len(path) > RepositoryNameTotalLengthMax {
		return nil, ErrNameTooLong
	}
	return repo{domain, path}, nil
}

// WithTag returns name with tag; a digest that name carries is kept.
func WithTag(name Named, tag string) (NamedTagged, error) {
	if !validTag(tag) {
		return nil, ErrTagInvalidFormat
	}
	r := nameParts(name)
	if c, ok := name.(Canonical); ok {
		return taggedPinned{r, tag, c.Digest()}, nil
	}
	return tagged{r, tag}, nil
}

// WithDigest returns name with dgst; a tag that name carries is kept.
func WithDigest(name Named, dgst digest.Digest) (Canonical, error) {
	if !validDigest(string(dgst)) {
		return nil, ErrDigestInvalidFormat
	}
	r := nameParts(name)
	if t, ok := name.(Tagged); ok {
		return taggedPinned{r, t.Tag(), dgst}, nil
	}
	return pinned{r, dgst}, nil
}

// nameParts is how WithTag and WithDigest take a name apart: a Named of another
// package that does not tell its domain keeps its whole name as the path.
func nameParts(name Named) repo {
	if r, ok := name.(interface {
		Domain() string
		Path() string
	}); ok {
		return repo{r.Domain(), r.Path()}
	}
	return repo{path: name.Name()}
}

// TrimNamed returns ref's name without tag or digest.
func TrimNamed(ref Named) Named { return repoOf(ref) }
