package reference

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

const (
	// dockerHub is the domain a name without one belongs to.
	dockerHub = "docker.io"
	// dockerHubLegacy is Docker Hub's old ("index") domain, normalised to dockerHub.
	dockerHubLegacy = "index.docker.io"
	// officialPrefix is the namespace of Docker Hub's official images: "ubuntu" is
	// "docker.io/library/ubuntu".
	officialPrefix = "library/"
	// defaultTag is the tag of a reference that names none.
	defaultTag = "latest"
)

// ParseNormalizedNamed parses s as Docker's command line writes a name and returns it
// normalised: "ubuntu:22.04" is "docker.io/library/ubuntu:22.04". A bare 64-hex ID is
// refused (use ParseAnyReference where an ID is allowed).
func ParseNormalizedNamed(s string) (Named, error) {
	if isIdentifier(s) {
		return nil, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitDockerDomain(s)
	remote, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(remote) != remote {
		return nil, fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	ref, err := Parse(domain + "/" + remainder)
	if err != nil {
		return nil, err
	}
	named, ok := ref.(Named)
	if !ok {
		return nil, fmt.Errorf("reference %s has no name", ref.String())
	}
	return named, nil
}

// splitDockerDomain tells the domain of a familiar name from its first element, and
// adds Docker Hub's defaults: the first element is a domain when it is "localhost",
// holds a "." or ":" (a host name, an IP address, a port), or has upper case (which a
// path may not).
func splitDockerDomain(name string) (domain, remainder string) {
	first, rest, found := strings.Cut(name, "/")
	switch {
	case !found:
		// A single element ("ubuntu", "ubuntu:22.04") is an official image, even
		// when it looks like a host.
		return dockerHub, officialPrefix + name
	case first == dockerHubLegacy:
		domain, remainder = dockerHub, rest
	case first == "localhost" || strings.ContainsAny(first, ".:") || strings.ToLower(first) != first:
		domain, remainder = first, rest
	default:
		domain, remainder = dockerHub, name
	}
	if domain == dockerHub && !strings.Contains(remainder, "/") {
		remainder = officialPrefix + remainder
	}
	return domain, remainder
}

// ParseDockerRef parses s as ParseNormalizedNamed does and returns what Docker pulls:
// a reference with both a tag and a digest loses its tag, and one with neither gets
// ":latest".
func ParseDockerRef(s string) (Named, error) {
	named, err := ParseNormalizedNamed(s)
	if err != nil {
		return nil, err
	}
	if tp, ok := named.(taggedPinned); ok {
		return pinned{tp.repo, tp.digest}, nil
	}
	return TagNameOnly(named), nil
}

// ParseAnyReference parses s as an image ID (64 hex digits, taken as a sha256 digest),
// a digest, or a familiar name.
func ParseAnyReference(s string) (Reference, error) {
	if isIdentifier(s) {
		return digestOnly("sha256:" + s), nil
	}
	if d, err := digest.Parse(s); err == nil {
		return digestOnly(d), nil
	}
	return ParseNormalizedNamed(s)
}

// IsNameOnly reports whether ref has neither a tag nor a digest.
func IsNameOnly(ref Named) bool {
	if _, ok := ref.(NamedTagged); ok {
		return false
	}
	if _, ok := ref.(Canonical); ok {
		return false
	}
	return true
}

// TagNameOnly adds the tag "latest" to a reference that has neither tag nor digest.
func TagNameOnly(ref Named) Named {
	if !IsNameOnly(ref) {
		return ref
	}
	tagged, err := WithTag(ref, defaultTag)
	if err != nil {
		panic(err) // "latest" is a valid tag
	}
	return tagged
}

// familiar is implemented by this package's named types: they know their short form.
type familiar interface {
	Named
	familiar() Named
}

// short drops Docker Hub's domain, and the "library/" of an official image.
func (r repo) short() repo {
	if r.domain != dockerHub {
		return r
	}
	p := r.path
	if rest, ok := strings.CutPrefix(p, officialPrefix); ok && !strings.Contains(rest, "/") {
		p = rest
	}
	return repo{"", p}
}

func (r repo) familiar() Named         { return r.short() }
func (t tagged) familiar() Named       { return tagged{t.repo.short(), t.tag} }
func (p pinned) familiar() Named       { return pinned{p.repo.short(), p.digest} }
func (t taggedPinned) familiar() Named { return taggedPinned{t.repo.short(), t.tag, t.digest} }

// FamiliarName returns ref's name as Docker shows it ("ubuntu" for
// "docker.io/library/ubuntu").
func FamiliarName(ref Named) string {
	if f, ok := ref.(familiar); ok {
		return f.familiar().Name()
	}
	return ref.Name()
}

// FamiliarString returns ref as Docker shows it ("ubuntu:22.04" for
// "docker.io/library/ubuntu:22.04").
func FamiliarString(ref Reference) string {
	if f, ok := ref.(familiar); ok {
		return f.familiar().String()
	}
	return ref.String()
}

// FamiliarMatch reports whether ref's familiar string, or else its familiar name,
// matches pattern (path.Match syntax).
func FamiliarMatch(pattern string, ref Reference) (bool, error) {
	matched, err := path.Match(pattern, FamiliarString(ref))
	if named, ok := ref.(Named); ok && !matched {
		matched, _ = path.Match(pattern, FamiliarName(named))
	}
	return matched, err
}

// Sort parses references with ParseAnyReference and returns them in their normalised
// form, most specific first (name+tag+digest, name+tag, name+digest, name, digest),
// then alphabetically; the strings that do not parse come last, sorted.
func Sort(references []string) []string {
	var parsed []Reference
	var bad []string
	for _, s := range references {
		if r, err := ParseAnyReference(s); err == nil {
			parsed = append(parsed, r)
		} else {
			bad = append(bad, s)
		}
	}
	sort.SliceStable(parsed, func(a, b int) bool {
		ra, rb := rank(parsed[a]), rank(parsed[b])
		if ra != rb {
			return ra < rb
		}
		return parsed[a].String() < parsed[b].String()
	})
	sort.Strings(bad)
	var out []string
	for _, r := range parsed {
		out = append(out, r.String())
	}
	return append(out, bad...)
}

// rank orders references by how much they pin down.
func rank(ref Reference) int {
	_, named := ref.(Named)
	_, hasTag := ref.(Tagged)
	_, hasDigest := ref.(Digested)
	switch {
	case named && hasTag && hasDigest:
		return 1
	case named && hasTag:
		return 2
	case named && hasDigest:
		return 3
	case named:
		return 4
	}
	return 5
}
