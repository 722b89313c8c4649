package oci

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/opencontainers/go-digest"
)

// Defaults Docker applies to short names.
const (
	DefaultDomain = "docker.io"
	DefaultTag    = "latest"
	officialRepo  = "library/"
	// Docker caps the whole name (domain + path) at 255 characters.
	maxNameLength = 255
)

// The grammar of github.com/distribution/reference, which every Docker tool shares.
var (
	pathComponent = `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
	domainComp    = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domainRe      = lazyre.New(`^(?:` + domainComp + `(?:\.` + domainComp + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	pathRe        = lazyre.New(`^` + pathComponent + `(?:/` + pathComponent + `)*$`)
	tagRe         = lazyre.New(`^[\w][\w.-]{0,127}$`)
	digestRe      = lazyre.New(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$`)
	idRe          = lazyre.New(`^[a-f0-9]{64}$`)
)

// Reference is a parsed, normalised image reference: Domain/Path[:Tag][@Digest].
type Reference struct {
	Domain string
	Path   string
	Tag    string
	Digest digest.Digest
}

// ParseNormalized parses s in Docker's grammar and normalises it the way Docker does:
// "alpine" is docker.io/library/alpine:latest, "a/b" is docker.io/a/b:latest, a reference
// with only a digest gets no tag. Malformed references are errdefs.ErrInvalid.
func ParseNormalized(s string) (Reference, error) {
	bad := func(why string) (Reference, error) {
		return Reference{}, fmt.Errorf("image reference %q: %s: %w", s, why, errdefs.ErrInvalid)
	}
	if s == "" {
		return bad("empty")
	}
	if idRe.MatchString(s) {
		// Docker refuses these too: a bare 64-hex string is an ID, not a repository.
		return bad("a 64-character hex string is an image ID, not a name")
	}
	rest := s
	var r Reference
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		d := rest[i+1:]
		if !digestRe.MatchString(d) {
			return bad("malformed digest")
		}
		r.Digest = digest.Digest(d)
		if err := r.Digest.Validate(); err != nil {
			return bad(err.Error())
		}
		rest = rest[:i]
	}
	// The tag is after the last ':' that comes after the last '/', so registry ports stay.
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		r.Tag = rest[i+1:]
		if !tagRe.MatchString(r.Tag) {
			return bad("malformed tag")
		}
		rest = rest[:i]
	}
	r.Domain, r.Path = splitDomain(rest)
	if r.Domain == "" || !domainRe.MatchString(r.Domain) {
		return bad("malformed registry name")
	}
	if err := checkPort(r.Domain); err != nil {
		return bad(err.Error())
	}
	if strings.ToLower(r.Path) != r.Path {
		return bad(fmt.Sprintf("repository name %q must be lowercase", r.Path))
	}
	if !pathRe.MatchString(r.Path) {
		return bad("repository names must be lowercase letters, digits and separators")
	}
	if len(r.Domain)+1+len(r.Path) > maxNameLength {
		return bad("name longer than 255 characters")
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = DefaultTag
	}
	return r, nil
}

// checkPort refuses a registry port outside 1-65535 (the grammar takes any digits).
func checkPort(domain string) error {
	i := strings.LastIndexByte(domain, ':')
	if i < 0 || strings.HasSuffix(domain[:i], ":") || strings.Contains(domain[i:], "]") {
		return nil // no port, or an IPv6 address's own colons
	}
	if n, err := strconv.Atoi(domain[i+1:]); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("registry port %s is not in 1-65535", domain[i+1:])
	}
	return nil
}

// splitDomain is Docker's rule: the first component is a registry when it has a '.' or a
// ':' or is "localhost". An uppercase first component without them (UPPER/x) stays in
// the path, which must be lowercase: a repository, not a registry host, is what such a
// name means.
func splitDomain(name string) (domain, path string) {
	i := strings.IndexByte(name, '/')
	if i == -1 || (!strings.ContainsAny(name[:i], ".:") && name[:i] != "localhost") {
		domain, path = DefaultDomain, name
	} else {
		domain, path = name[:i], name[i+1:]
	}
	if domain == "index.docker.io" {
		domain = DefaultDomain
	}
	if domain == DefaultDomain && !strings.ContainsRune(path, '/') {
		path = officialRepo + path
	}
	return domain, path
}

// Name is the repository: domain/path.
func (r Reference) Name() string { return r.Domain + "/" + r.Path }

// String is the normalised reference: name[:tag][@digest].
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// FamiliarName is the repository as Docker shows it: "alpine", "user/app", "ghcr.io/a/b".
func (r Reference) FamiliarName() string {
	if r.Domain == DefaultDomain {
		return strings.TrimPrefix(r.Path, officialRepo)
	}
	return r.Name()
}

// Familiar is the reference as Docker shows it: "alpine:3.20", "ghcr.io/a/b@sha256:...".
func (r Reference) Familiar() string {
	s := r.FamiliarName()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Normalize returns the normalised form of s, or an ErrInvalid error.
func Normalize(s string) (string, error) {
	r, err := ParseNormalized(s)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// Familiar returns the familiar form of s, or s itself when it does not parse.
func Familiar(s string) string {
	r, err := ParseNormalized(s)
	if err != nil {
		return s
	}
	return r.Familiar()
}
