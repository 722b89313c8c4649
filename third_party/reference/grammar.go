package reference

import "strings"

// The reference grammar, recognised by hand so that nothing is compiled at package init
// (every process of a program that links this package pays its init):
//
//	reference        := name [ ":" tag ] [ "@" digest ]
//	name             := [ domain "/" ] remote-name
//	domain           := host [ ":" port-number ]
//	host             := domain-name | "[" ipv6-chars "]"
//	domain-name      := domain-component [ "." domain-component ]*
//	domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//	ipv6-chars       := [a-fA-F0-9:]+
//	port-number      := [0-9]+
//	remote-name      := path-component [ "/" path-component ]*
//	path-component   := alnum [ separator alnum ]*
//	alnum            := [a-z0-9]+
//	separator        := "." | "_" | "__" | "-"+
//	tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//	digest           := algorithm ":" hex{32,}
//	algorithm        := alg-component [ [-_+.] alg-component ]*
//	alg-component    := [A-Za-z][A-Za-z0-9]*
//	identifier       := [a-f0-9]{64}
//
// A name's first "/"-separated element is its domain whenever it is a valid domain and
// the rest is a valid remote name; otherwise the whole name is the remote name.

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

func isWord(c byte) bool { return isAlnum(c) || c == '_' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// validPathComponent reports whether s is one path-component.
func validPathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator not between alphanumerics
		}
		if i == len(s) {
			return true
		}
		switch s[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// validRemoteName reports whether s is a remote-name: path components joined by "/".
func validRemoteName(s string) bool {
	for {
		comp, rest, more := strings.Cut(s, "/")
		if !validPathComponent(comp) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// validDomainName reports whether s is a dot-separated list of domain components.
func validDomainName(s string) bool {
	for {
		comp, rest, more := strings.Cut(s, ".")
		if comp == "" || !isAlnum(comp[0]) || !isAlnum(comp[len(comp)-1]) {
			return false
		}
		for i := 1; i < len(comp)-1; i++ {
			if !isAlnum(comp[i]) && comp[i] != '-' {
				return false
			}
		}
		if !more {
			return true
		}
		s = rest
	}
}

func validPort(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// validDomain reports whether s is a host with an optional ":port".
func validDomain(s string) bool {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 2 {
			return false
		}
		for i := 1; i < end; i++ {
			if !isHex(s[i]) && s[i] != ':' {
				return false
			}
		}
		rest := s[end+1:]
		if rest == "" {
			return true
		}
		return rest[0] == ':' && validPort(rest[1:])
	}
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && !validPort(port) {
		return false
	}
	return validDomainName(host)
}

// splitName splits a name into its domain (possibly empty) and remote name; ok is false
// when s is not a name.
func splitName(s string) (domain, remote string, ok bool) {
	if first, rest, found := strings.Cut(s, "/"); found && validDomain(first) && validRemoteName(rest) {
		return first, rest, true
	}
	if validRemoteName(s) {
		return "", s, true
	}
	return "", "", false
}

// validTag reports whether s is a tag.
func validTag(s string) bool {
	if s == "" || len(s) > 128 || !isWord(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// validDigest reports whether s has the digest syntax of a reference (it does not check
// that the algorithm is known or the length fits it: go-digest does that).
func validDigest(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || len(hex) < 32 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if !isHex(hex[i]) {
			return false
		}
	}
	// Components start with a letter; a separator sits between two components.
	atStart := true
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			atStart = false
		case isDigit(c):
			if atStart {
				return false
			}
		case c == '-' || c == '_' || c == '+' || c == '.':
			if atStart {
				return false
			}
			atStart = true
		default:
			return false
		}
	}
	return !atStart
}

// isIdentifier reports whether s is a bare 64-hex image ID.
func isIdentifier(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// referenceParts are the pieces of a reference string that matched the grammar.
type referenceParts struct {
	domain, remote, tag, digest string
}

// splitReference matches s against the whole reference grammar.
func splitReference(s string) (p referenceParts, ok bool) {
	rest := s
	if at := strings.IndexByte(s, '@'); at >= 0 {
		p.digest = s[at+1:]
		if !validDigest(p.digest) {
			return p, false
		}
		rest = s[:at]
	}
	// Neither a remote name nor a tag holds ":", and a port is followed by "/": a ":"
	// after the last "/" can only start the tag.
	if colon := strings.LastIndexByte(rest, ':'); colon > strings.LastIndexByte(rest, '/') {
		p.tag = rest[colon+1:]
		if !validTag(p.tag) {
			return p, false
		}
		rest = rest[:colon]
	}
	p.domain, p.remote, ok = splitName(rest)
	return p, ok
}
