package reference_test

// The expected values below were produced once by running the same calls against
// github.com/distribution/reference v0.6.0 (the implementation this module replaces),
// so each case checks that this one answers exactly as the original did.

import (
	_ "crypto/sha256" // go-digest only accepts the algorithms whose hash is linked
	_ "crypto/sha512"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// plainName is a Named of another package: it tells neither domain nor path.
type plainName string

func (p plainName) Name() string   { return string(p) }
func (p plainName) String() string { return string(p) }

type parseCase struct {
	in                                              string
	parse, normalized, any, docker, named, withName string
}

type opCase struct {
	base, op, arg, want string
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		p, perr := reference.Parse(c.in)
		n, nerr := reference.ParseNormalizedNamed(c.in)
		a, aerr := reference.ParseAnyReference(c.in)
		d, derr := reference.ParseDockerRef(c.in)
		pn, pnerr := reference.ParseNamed(c.in)
		w, werr := reference.WithName(c.in)
		for _, got := range []struct{ fn, got, want string }{
			{"Parse", describe(p, perr), c.parse},
			{"ParseNormalizedNamed", describe(named(n, nerr)), c.normalized},
			{"ParseAnyReference", describe(a, aerr), c.any},
			{"ParseDockerRef", describe(named(d, derr)), c.docker},
			{"ParseNamed", describe(named(pn, pnerr)), c.named},
			{"WithName", describe(named(w, werr)), c.withName},
		} {
			if got.got != got.want {
				t.Errorf("%s(%q):\n got  %s\n want %s", got.fn, c.in, got.got, got.want)
			}
		}
	}
}

func TestOps(t *testing.T) {
	for _, c := range opCases {
		var n reference.Named
		if plain, ok := strings.CutPrefix(c.base, "plain:"); ok {
			n = plainName(plain)
		} else {
			var err error
			if n, err = reference.ParseNormalizedNamed(c.base); err != nil {
				t.Fatal(err)
			}
		}
		var got string
		switch c.op {
		case "WithTag":
			r, err := reference.WithTag(n, c.arg)
			got = describe(named(r, err))
		case "WithDigest":
			r, err := reference.WithDigest(n, digest.Digest(c.arg))
			got = describe(named(r, err))
		case "TrimNamed":
			got = describe(reference.TrimNamed(n), nil)
		case "TagNameOnly":
			got = describe(reference.TagNameOnly(n), nil)
		case "IsNameOnly":
			got = fmt.Sprint(reference.IsNameOnly(n))
		case "FamiliarMatch":
			m, err := reference.FamiliarMatch(c.arg, n)
			got = fmt.Sprint(m, err)
		default:
			t.Fatalf("unknown op %s", c.op)
		}
		if got != c.want {
			t.Errorf("%s(%s, %q):\n got  %s\n want %s", c.op, c.base, c.arg, got, c.want)
		}
	}
}

func TestSort(t *testing.T) {
	if got := reference.Sort(sortIn); !slices.Equal(got, sortOut) {
		t.Errorf("Sort(%q) =\n %q\nwant\n %q", sortIn, got, sortOut)
	}
}

func TestField(t *testing.T) {
	var f reference.Field
	if err := f.UnmarshalText([]byte("example.com/a:1")); err != nil {
		t.Fatal(err)
	}
	if text, _ := f.MarshalText(); string(text) != "example.com/a:1" {
		t.Errorf("MarshalText = %s", text)
	}
	if _, ok := f.Reference().(reference.NamedTagged); !ok {
		t.Errorf("Reference() is %T, not NamedTagged", f.Reference())
	}
	if err := f.UnmarshalText([]byte("A")); !errors.Is(err, reference.ErrNameContainsUppercase) {
		t.Errorf("UnmarshalText(A) = %v", err)
	}
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrReferenceInvalidFormat", reference.ErrReferenceInvalidFormat},
	{"ErrTagInvalidFormat", reference.ErrTagInvalidFormat},
	{"ErrDigestInvalidFormat", reference.ErrDigestInvalidFormat},
	{"ErrNameContainsUppercase", reference.ErrNameContainsUppercase},
	{"ErrNameEmpty", reference.ErrNameEmpty},
	{"ErrNameTooLong", reference.ErrNameTooLong},
	{"ErrNameNotCanonical", reference.ErrNameNotCanonical},
	{"digest.ErrDigestInvalidFormat", digest.ErrDigestInvalidFormat},
	{"digest.ErrDigestInvalidLength", digest.ErrDigestInvalidLength},
	{"digest.ErrDigestUnsupported", digest.ErrDigestUnsupported},
}

// describe renders a result so that two implementations can be compared as text: the
// error (and which sentinel it is), or the interfaces the reference satisfies and
// everything they expose.
func describe(ref reference.Reference, err error) string {
	if err != nil {
		s := "error: " + err.Error()
		for _, e := range sentinels {
			if errors.Is(err, e.err) {
				s += " [" + e.name + "]"
			}
		}
		return s
	}
	var kind, fields []string
	named, isNamed := ref.(reference.Named)
	if isNamed {
		kind = append(kind, "Named")
		fields = append(fields, "name="+named.Name(), "domain="+reference.Domain(named), "path="+reference.Path(named), "famname="+reference.FamiliarName(named))
	}
	if t, ok := ref.(reference.Tagged); ok {
		kind = append(kind, "Tagged")
		fields = append(fields, "tag="+t.Tag())
	}
	if d, ok := ref.(reference.Digested); ok {
		kind = append(kind, "Digested")
		fields = append(fields, "digest="+d.Digest().String())
	}
	if _, ok := ref.(reference.NamedTagged); ok {
		kind = append(kind, "NamedTagged")
	}
	if _, ok := ref.(reference.Canonical); ok {
		kind = append(kind, "Canonical")
	}
	fields = append(fields, "fam="+reference.FamiliarString(ref))
	return strings.Join(kind, ",") + " " + ref.String() + " " + strings.Join(fields, " ")
}

func named(n reference.Named, err error) (reference.Reference, error) {
	if err != nil {
		return nil, err
	}
	return n, nil
}

var parseCases = []parseCase{
	{
		in:         "",
		parse:      "error: repository name must have at least one component [ErrNameEmpty]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu",
		parse:      "Named ubuntu name=ubuntu domain= path=ubuntu famname=ubuntu fam=ubuntu",
		normalized: "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		any:        "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named ubuntu name=ubuntu domain= path=ubuntu famname=ubuntu fam=ubuntu",
	},
	{
		in:         "ubuntu:22.04",
		parse:      "Named,Tagged,NamedTagged ubuntu:22.04 name=ubuntu domain= path=ubuntu famname=ubuntu tag=22.04 fam=ubuntu:22.04",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:22.04 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=22.04 fam=ubuntu:22.04",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:22.04 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=22.04 fam=ubuntu:22.04",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:22.04 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=22.04 fam=ubuntu:22.04",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:latest",
		parse:      "Named,Tagged,NamedTagged ubuntu:latest name=ubuntu domain= path=ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "Ubuntu",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (library/Ubuntu) must be lowercase",
		any:        "error: invalid reference format: repository name (library/Ubuntu) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/Ubuntu) must be lowercase",
		named:      "error: invalid reference format: repository name (library/Ubuntu) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:Latest",
		parse:      "Named,Tagged,NamedTagged ubuntu:Latest name=ubuntu domain= path=ubuntu famname=ubuntu tag=Latest fam=ubuntu:Latest",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:Latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=Latest fam=ubuntu:Latest",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:Latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=Latest fam=ubuntu:Latest",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:Latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=Latest fam=ubuntu:Latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "UBUNTU:TAG",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (library/UBUNTU) must be lowercase",
		any:        "error: invalid reference format: repository name (library/UBUNTU) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/UBUNTU) must be lowercase",
		named:      "error: invalid reference format: repository name (library/UBUNTU) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "library/ubuntu",
		parse:      "Named library/ubuntu name=library/ubuntu domain=library path=ubuntu famname=library/ubuntu fam=library/ubuntu",
		normalized: "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		any:        "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named library/ubuntu name=library/ubuntu domain=library path=ubuntu famname=library/ubuntu fam=library/ubuntu",
	},
	{
		in:         "docker.io/ubuntu",
		parse:      "Named docker.io/ubuntu name=docker.io/ubuntu domain=docker.io path=ubuntu famname=ubuntu fam=ubuntu",
		normalized: "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		any:        "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named docker.io/ubuntu name=docker.io/ubuntu domain=docker.io path=ubuntu famname=ubuntu fam=ubuntu",
	},
	{
		in:         "docker.io/library/ubuntu",
		parse:      "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		normalized: "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		any:        "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		withName:   "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
	},
	{
		in:         "docker.io/library/ubuntu:1",
		parse:      "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		named:      "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "index.docker.io/ubuntu",
		parse:      "Named index.docker.io/ubuntu name=index.docker.io/ubuntu domain=index.docker.io path=ubuntu famname=index.docker.io/ubuntu fam=index.docker.io/ubuntu",
		normalized: "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		any:        "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named index.docker.io/ubuntu name=index.docker.io/ubuntu domain=index.docker.io path=ubuntu famname=index.docker.io/ubuntu fam=index.docker.io/ubuntu",
	},
	{
		in:         "index.docker.io/library/ubuntu:1",
		parse:      "Named,Tagged,NamedTagged index.docker.io/library/ubuntu:1 name=index.docker.io/library/ubuntu domain=index.docker.io path=library/ubuntu famname=index.docker.io/library/ubuntu tag=1 fam=index.docker.io/library/ubuntu:1",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "docker.io/library/a/b",
		parse:      "Named docker.io/library/a/b name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b fam=library/a/b",
		normalized: "Named docker.io/library/a/b name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b fam=library/a/b",
		any:        "Named docker.io/library/a/b name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b fam=library/a/b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a/b:latest name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b tag=latest fam=library/a/b:latest",
		named:      "Named docker.io/library/a/b name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b fam=library/a/b",
		withName:   "Named docker.io/library/a/b name=docker.io/library/a/b domain=docker.io path=library/a/b famname=library/a/b fam=library/a/b",
	},
	{
		in:         "docker.io/foo/bar",
		parse:      "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		normalized: "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		any:        "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		docker:     "Named,Tagged,NamedTagged docker.io/foo/bar:latest name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar tag=latest fam=foo/bar:latest",
		named:      "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		withName:   "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
	},
	{
		in:         "foo/bar",
		parse:      "Named foo/bar name=foo/bar domain=foo path=bar famname=foo/bar fam=foo/bar",
		normalized: "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		any:        "Named docker.io/foo/bar name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar fam=foo/bar",
		docker:     "Named,Tagged,NamedTagged docker.io/foo/bar:latest name=docker.io/foo/bar domain=docker.io path=foo/bar famname=foo/bar tag=latest fam=foo/bar:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named foo/bar name=foo/bar domain=foo path=bar famname=foo/bar fam=foo/bar",
	},
	{
		in:         "foo/bar/baz:tag",
		parse:      "Named,Tagged,NamedTagged foo/bar/baz:tag name=foo/bar/baz domain=foo path=bar/baz famname=foo/bar/baz tag=tag fam=foo/bar/baz:tag",
		normalized: "Named,Tagged,NamedTagged docker.io/foo/bar/baz:tag name=docker.io/foo/bar/baz domain=docker.io path=foo/bar/baz famname=foo/bar/baz tag=tag fam=foo/bar/baz:tag",
		any:        "Named,Tagged,NamedTagged docker.io/foo/bar/baz:tag name=docker.io/foo/bar/baz domain=docker.io path=foo/bar/baz famname=foo/bar/baz tag=tag fam=foo/bar/baz:tag",
		docker:     "Named,Tagged,NamedTagged docker.io/foo/bar/baz:tag name=docker.io/foo/bar/baz domain=docker.io path=foo/bar/baz famname=foo/bar/baz tag=tag fam=foo/bar/baz:tag",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a/b/c/d/e",
		parse:      "Named a/b/c/d/e name=a/b/c/d/e domain=a path=b/c/d/e famname=a/b/c/d/e fam=a/b/c/d/e",
		normalized: "Named docker.io/a/b/c/d/e name=docker.io/a/b/c/d/e domain=docker.io path=a/b/c/d/e famname=a/b/c/d/e fam=a/b/c/d/e",
		any:        "Named docker.io/a/b/c/d/e name=docker.io/a/b/c/d/e domain=docker.io path=a/b/c/d/e famname=a/b/c/d/e fam=a/b/c/d/e",
		docker:     "Named,Tagged,NamedTagged docker.io/a/b/c/d/e:latest name=docker.io/a/b/c/d/e domain=docker.io path=a/b/c/d/e famname=a/b/c/d/e tag=latest fam=a/b/c/d/e:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a/b/c/d/e name=a/b/c/d/e domain=a path=b/c/d/e famname=a/b/c/d/e fam=a/b/c/d/e",
	},
	{
		in:         "localhost/x",
		parse:      "Named localhost/x name=localhost/x domain=localhost path=x famname=localhost/x fam=localhost/x",
		normalized: "Named localhost/x name=localhost/x domain=localhost path=x famname=localhost/x fam=localhost/x",
		any:        "Named localhost/x name=localhost/x domain=localhost path=x famname=localhost/x fam=localhost/x",
		docker:     "Named,Tagged,NamedTagged localhost/x:latest name=localhost/x domain=localhost path=x famname=localhost/x tag=latest fam=localhost/x:latest",
		named:      "Named localhost/x name=localhost/x domain=localhost path=x famname=localhost/x fam=localhost/x",
		withName:   "Named localhost/x name=localhost/x domain=localhost path=x famname=localhost/x fam=localhost/x",
	},
	{
		in:         "localhost:5000/x",
		parse:      "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x",
		normalized: "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x",
		any:        "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x",
		docker:     "Named,Tagged,NamedTagged localhost:5000/x:latest name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=latest fam=localhost:5000/x:latest",
		named:      "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x",
		withName:   "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x",
	},
	{
		in:         "localhost:5000",
		parse:      "Named,Tagged,NamedTagged localhost:5000 name=localhost domain= path=localhost famname=localhost tag=5000 fam=localhost:5000",
		normalized: "Named,Tagged,NamedTagged docker.io/library/localhost:5000 name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost tag=5000 fam=localhost:5000",
		any:        "Named,Tagged,NamedTagged docker.io/library/localhost:5000 name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost tag=5000 fam=localhost:5000",
		docker:     "Named,Tagged,NamedTagged docker.io/library/localhost:5000 name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost tag=5000 fam=localhost:5000",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "localhost",
		parse:      "Named localhost name=localhost domain= path=localhost famname=localhost fam=localhost",
		normalized: "Named docker.io/library/localhost name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost fam=localhost",
		any:        "Named docker.io/library/localhost name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost fam=localhost",
		docker:     "Named,Tagged,NamedTagged docker.io/library/localhost:latest name=docker.io/library/localhost domain=docker.io path=library/localhost famname=localhost tag=latest fam=localhost:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named localhost name=localhost domain= path=localhost famname=localhost fam=localhost",
	},
	{
		in:         "localhost:5000/x:tag",
		parse:      "Named,Tagged,NamedTagged localhost:5000/x:tag name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=tag fam=localhost:5000/x:tag",
		normalized: "Named,Tagged,NamedTagged localhost:5000/x:tag name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=tag fam=localhost:5000/x:tag",
		any:        "Named,Tagged,NamedTagged localhost:5000/x:tag name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=tag fam=localhost:5000/x:tag",
		docker:     "Named,Tagged,NamedTagged localhost:5000/x:tag name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=tag fam=localhost:5000/x:tag",
		named:      "Named,Tagged,NamedTagged localhost:5000/x:tag name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=tag fam=localhost:5000/x:tag",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "localhost:5000/Foo",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (Foo) must be lowercase",
		any:        "error: invalid reference format: repository name (Foo) must be lowercase",
		docker:     "error: invalid reference format: repository name (Foo) must be lowercase",
		named:      "error: invalid reference format: repository name (Foo) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "LOCALHOST/x",
		parse:      "Named LOCALHOST/x name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x fam=LOCALHOST/x",
		normalized: "Named LOCALHOST/x name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x fam=LOCALHOST/x",
		any:        "Named LOCALHOST/x name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x fam=LOCALHOST/x",
		docker:     "Named,Tagged,NamedTagged LOCALHOST/x:latest name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x tag=latest fam=LOCALHOST/x:latest",
		named:      "Named LOCALHOST/x name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x fam=LOCALHOST/x",
		withName:   "Named LOCALHOST/x name=LOCALHOST/x domain=LOCALHOST path=x famname=LOCALHOST/x fam=LOCALHOST/x",
	},
	{
		in:         "[::1]:5000/x",
		parse:      "Named [::1]:5000/x name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x fam=[::1]:5000/x",
		normalized: "Named [::1]:5000/x name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x fam=[::1]:5000/x",
		any:        "Named [::1]:5000/x name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x fam=[::1]:5000/x",
		docker:     "Named,Tagged,NamedTagged [::1]:5000/x:latest name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x tag=latest fam=[::1]:5000/x:latest",
		named:      "Named [::1]:5000/x name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x fam=[::1]:5000/x",
		withName:   "Named [::1]:5000/x name=[::1]:5000/x domain=[::1]:5000 path=x famname=[::1]:5000/x fam=[::1]:5000/x",
	},
	{
		in:         "[::1]/x",
		parse:      "Named [::1]/x name=[::1]/x domain=[::1] path=x famname=[::1]/x fam=[::1]/x",
		normalized: "Named [::1]/x name=[::1]/x domain=[::1] path=x famname=[::1]/x fam=[::1]/x",
		any:        "Named [::1]/x name=[::1]/x domain=[::1] path=x famname=[::1]/x fam=[::1]/x",
		docker:     "Named,Tagged,NamedTagged [::1]/x:latest name=[::1]/x domain=[::1] path=x famname=[::1]/x tag=latest fam=[::1]/x:latest",
		named:      "Named [::1]/x name=[::1]/x domain=[::1] path=x famname=[::1]/x fam=[::1]/x",
		withName:   "Named [::1]/x name=[::1]/x domain=[::1] path=x famname=[::1]/x fam=[::1]/x",
	},
	{
		in:         "[::1]:5000",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[::1]",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[]/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[::1/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[::1]x/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[2001:db8::1]:443/ns/img:v1",
		parse:      "Named,Tagged,NamedTagged [2001:db8::1]:443/ns/img:v1 name=[2001:db8::1]:443/ns/img domain=[2001:db8::1]:443 path=ns/img famname=[2001:db8::1]:443/ns/img tag=v1 fam=[2001:db8::1]:443/ns/img:v1",
		normalized: "Named,Tagged,NamedTagged [2001:db8::1]:443/ns/img:v1 name=[2001:db8::1]:443/ns/img domain=[2001:db8::1]:443 path=ns/img famname=[2001:db8::1]:443/ns/img tag=v1 fam=[2001:db8::1]:443/ns/img:v1",
		any:        "Named,Tagged,NamedTagged [2001:db8::1]:443/ns/img:v1 name=[2001:db8::1]:443/ns/img domain=[2001:db8::1]:443 path=ns/img famname=[2001:db8::1]:443/ns/img tag=v1 fam=[2001:db8::1]:443/ns/img:v1",
		docker:     "Named,Tagged,NamedTagged [2001:db8::1]:443/ns/img:v1 name=[2001:db8::1]:443/ns/img domain=[2001:db8::1]:443 path=ns/img famname=[2001:db8::1]:443/ns/img tag=v1 fam=[2001:db8::1]:443/ns/img:v1",
		named:      "Named,Tagged,NamedTagged [2001:db8::1]:443/ns/img:v1 name=[2001:db8::1]:443/ns/img domain=[2001:db8::1]:443 path=ns/img famname=[2001:db8::1]:443/ns/img tag=v1 fam=[2001:db8::1]:443/ns/img:v1",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[fe80::1%eth0]/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[::ffff:1.2.3.4]/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "[::1]:/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "127.0.0.1:5000/x",
		parse:      "Named 127.0.0.1:5000/x name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x fam=127.0.0.1:5000/x",
		normalized: "Named 127.0.0.1:5000/x name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x fam=127.0.0.1:5000/x",
		any:        "Named 127.0.0.1:5000/x name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x fam=127.0.0.1:5000/x",
		docker:     "Named,Tagged,NamedTagged 127.0.0.1:5000/x:latest name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x tag=latest fam=127.0.0.1:5000/x:latest",
		named:      "Named 127.0.0.1:5000/x name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x fam=127.0.0.1:5000/x",
		withName:   "Named 127.0.0.1:5000/x name=127.0.0.1:5000/x domain=127.0.0.1:5000 path=x famname=127.0.0.1:5000/x fam=127.0.0.1:5000/x",
	},
	{
		in:         "127.0.0.1/x",
		parse:      "Named 127.0.0.1/x name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x fam=127.0.0.1/x",
		normalized: "Named 127.0.0.1/x name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x fam=127.0.0.1/x",
		any:        "Named 127.0.0.1/x name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x fam=127.0.0.1/x",
		docker:     "Named,Tagged,NamedTagged 127.0.0.1/x:latest name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x tag=latest fam=127.0.0.1/x:latest",
		named:      "Named 127.0.0.1/x name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x fam=127.0.0.1/x",
		withName:   "Named 127.0.0.1/x name=127.0.0.1/x domain=127.0.0.1 path=x famname=127.0.0.1/x fam=127.0.0.1/x",
	},
	{
		in:         "example.com/x",
		parse:      "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x",
		normalized: "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x",
		any:        "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x",
		docker:     "Named,Tagged,NamedTagged example.com/x:latest name=example.com/x domain=example.com path=x famname=example.com/x tag=latest fam=example.com/x:latest",
		named:      "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x",
		withName:   "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x",
	},
	{
		in:         "Example.COM/x",
		parse:      "Named Example.COM/x name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x fam=Example.COM/x",
		normalized: "Named Example.COM/x name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x fam=Example.COM/x",
		any:        "Named Example.COM/x name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x fam=Example.COM/x",
		docker:     "Named,Tagged,NamedTagged Example.COM/x:latest name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x tag=latest fam=Example.COM/x:latest",
		named:      "Named Example.COM/x name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x fam=Example.COM/x",
		withName:   "Named Example.COM/x name=Example.COM/x domain=Example.COM path=x famname=Example.COM/x fam=Example.COM/x",
	},
	{
		in:         "EXAMPLE/x",
		parse:      "Named EXAMPLE/x name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x fam=EXAMPLE/x",
		normalized: "Named EXAMPLE/x name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x fam=EXAMPLE/x",
		any:        "Named EXAMPLE/x name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x fam=EXAMPLE/x",
		docker:     "Named,Tagged,NamedTagged EXAMPLE/x:latest name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x tag=latest fam=EXAMPLE/x:latest",
		named:      "Named EXAMPLE/x name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x fam=EXAMPLE/x",
		withName:   "Named EXAMPLE/x name=EXAMPLE/x domain=EXAMPLE path=x famname=EXAMPLE/x fam=EXAMPLE/x",
	},
	{
		in:         "example/X",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (example/X) must be lowercase",
		any:        "error: invalid reference format: repository name (example/X) must be lowercase",
		docker:     "error: invalid reference format: repository name (example/X) must be lowercase",
		named:      "error: invalid reference format: repository name (example/X) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com/X",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (X) must be lowercase",
		any:        "error: invalid reference format: repository name (X) must be lowercase",
		docker:     "error: invalid reference format: repository name (X) must be lowercase",
		named:      "error: invalid reference format: repository name (X) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ex-ample.com/x",
		parse:      "Named ex-ample.com/x name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x fam=ex-ample.com/x",
		normalized: "Named ex-ample.com/x name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x fam=ex-ample.com/x",
		any:        "Named ex-ample.com/x name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x fam=ex-ample.com/x",
		docker:     "Named,Tagged,NamedTagged ex-ample.com/x:latest name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x tag=latest fam=ex-ample.com/x:latest",
		named:      "Named ex-ample.com/x name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x fam=ex-ample.com/x",
		withName:   "Named ex-ample.com/x name=ex-ample.com/x domain=ex-ample.com path=x famname=ex-ample.com/x fam=ex-ample.com/x",
	},
	{
		in:         "ex--ample.com/x",
		parse:      "Named ex--ample.com/x name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x fam=ex--ample.com/x",
		normalized: "Named ex--ample.com/x name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x fam=ex--ample.com/x",
		any:        "Named ex--ample.com/x name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x fam=ex--ample.com/x",
		docker:     "Named,Tagged,NamedTagged ex--ample.com/x:latest name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x tag=latest fam=ex--ample.com/x:latest",
		named:      "Named ex--ample.com/x name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x fam=ex--ample.com/x",
		withName:   "Named ex--ample.com/x name=ex--ample.com/x domain=ex--ample.com path=x famname=ex--ample.com/x fam=ex--ample.com/x",
	},
	{
		in:         "-example.com/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example-.com/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example..com/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com./x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com:/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com:abc/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com:5000:6000/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a:1/b",
		parse:      "Named a:1/b name=a:1/b domain=a:1 path=b famname=a:1/b fam=a:1/b",
		normalized: "Named a:1/b name=a:1/b domain=a:1 path=b famname=a:1/b fam=a:1/b",
		any:        "Named a:1/b name=a:1/b domain=a:1 path=b famname=a:1/b fam=a:1/b",
		docker:     "Named,Tagged,NamedTagged a:1/b:latest name=a:1/b domain=a:1 path=b famname=a:1/b tag=latest fam=a:1/b:latest",
		named:      "Named a:1/b name=a:1/b domain=a:1 path=b famname=a:1/b fam=a:1/b",
		withName:   "Named a:1/b name=a:1/b domain=a:1 path=b famname=a:1/b fam=a:1/b",
	},
	{
		in:         "a:b/c",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,Digested,NamedTagged,Canonical example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain=example.com path=x famname=example.com/x tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,Digested,NamedTagged,Canonical example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain=example.com path=x famname=example.com/x tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Tagged,Digested,NamedTagged,Canonical example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain=example.com path=x famname=example.com/x tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical example.com/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain=example.com path=x famname=example.com/x digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "Named,Tagged,Digested,NamedTagged,Canonical example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain=example.com path=x famname=example.com/x tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Digested,Canonical ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=ubuntu domain= path=ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,Digested,NamedTagged,Canonical ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=ubuntu domain= path=ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tag digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		parse:      "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		normalized: "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		any:        "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		docker:     "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		named:      "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		parse:      "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		normalized: "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		any:        "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		docker:     "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		named:      "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Digested,Canonical ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=ubuntu domain= path=ubuntu famname=ubuntu digest=sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Digested,Canonical docker.io/library/ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Digested,Canonical docker.io/library/ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical docker.io/library/ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Digested,Canonical ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=ubuntu domain= path=ubuntu famname=ubuntu digest=sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Digested,Canonical docker.io/library/ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Digested,Canonical docker.io/library/ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical docker.io/library/ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@md5:0123456789abcdef0123456789abcdef",
		parse:      "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		normalized: "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		any:        "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		docker:     "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		named:      "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		normalized: "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		any:        "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		docker:     "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		named:      "error: unsupported digest algorithm [digest.ErrDigestUnsupported]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: invalid checksum digest format [digest.ErrDigestInvalidFormat]",
		normalized: "error: invalid reference format: repository name (library/ubuntu@SHA256) must be lowercase",
		any:        "error: invalid reference format: repository name (library/ubuntu@SHA256) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/ubuntu@SHA256) must be lowercase",
		named:      "error: invalid reference format: repository name (library/ubuntu@SHA256) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256:0123456789abcdef0123456789abcde",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha256:0123456789abcdef0123456789abcdef",
		parse:      "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		normalized: "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		any:        "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		docker:     "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		named:      "error: invalid checksum digest length [digest.ErrDigestInvalidLength]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@1sha:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha-:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@sha..x:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu@",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         ":tag",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,NamedTagged sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=sha256 domain= path=sha256 famname=sha256 tag=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,NamedTagged docker.io/library/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/sha256 domain=docker.io path=library/sha256 famname=sha256 tag=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Digested sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Tagged,NamedTagged docker.io/library/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/sha256 domain=docker.io path=library/sha256 famname=sha256 tag=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		parse:      "Named,Tagged,NamedTagged sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=sha256 domain= path=sha256 famname=sha256 tag=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		normalized: "Named,Tagged,NamedTagged docker.io/library/sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/sha256 domain=docker.io path=library/sha256 famname=sha256 tag=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		any:        "Named,Tagged,NamedTagged docker.io/library/sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/sha256 domain=docker.io path=library/sha256 famname=sha256 tag=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		docker:     "Named,Tagged,NamedTagged docker.io/library/sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/sha256 domain=docker.io path=library/sha256 famname=sha256 tag=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "md5:0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,NamedTagged md5:0123456789abcdef0123456789abcdef name=md5 domain= path=md5 famname=md5 tag=0123456789abcdef0123456789abcdef fam=md5:0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,NamedTagged docker.io/library/md5:0123456789abcdef0123456789abcdef name=docker.io/library/md5 domain=docker.io path=library/md5 famname=md5 tag=0123456789abcdef0123456789abcdef fam=md5:0123456789abcdef0123456789abcdef",
		any:        "Named,Tagged,NamedTagged docker.io/library/md5:0123456789abcdef0123456789abcdef name=docker.io/library/md5 domain=docker.io path=library/md5 famname=md5 tag=0123456789abcdef0123456789abcdef fam=md5:0123456789abcdef0123456789abcdef",
		docker:     "Named,Tagged,NamedTagged docker.io/library/md5:0123456789abcdef0123456789abcdef name=docker.io/library/md5 domain=docker.io path=library/md5 famname=md5 tag=0123456789abcdef0123456789abcdef fam=md5:0123456789abcdef0123456789abcdef",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "error: invalid repository name (0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef), cannot specify 64-byte hexadecimal strings",
		any:        "Digested sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "error: invalid repository name (0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef), cannot specify 64-byte hexadecimal strings",
		named:      "error: invalid repository name (0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef), cannot specify 64-byte hexadecimal strings",
		withName:   "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	},
	{
		in:         "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (library/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF) must be lowercase",
		any:        "error: invalid reference format: repository name (library/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF) must be lowercase",
		named:      "error: invalid reference format: repository name (library/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		parse:      "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		normalized: "Named docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		any:        "Named docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		docker:     "Named,Tagged,NamedTagged docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde:latest name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde tag=latest fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	},
	{
		in:         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		parse:      "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		normalized: "Named docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		any:        "Named docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		docker:     "Named,Tagged,NamedTagged docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0:latest name=docker.io/library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 domain=docker.io path=library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 tag=latest fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 name=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 domain= path=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 famname=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 fam=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	},
	{
		in:         "a__b",
		parse:      "Named a__b name=a__b domain= path=a__b famname=a__b fam=a__b",
		normalized: "Named docker.io/library/a__b name=docker.io/library/a__b domain=docker.io path=library/a__b famname=a__b fam=a__b",
		any:        "Named docker.io/library/a__b name=docker.io/library/a__b domain=docker.io path=library/a__b famname=a__b fam=a__b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a__b:latest name=docker.io/library/a__b domain=docker.io path=library/a__b famname=a__b tag=latest fam=a__b:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a__b name=a__b domain= path=a__b famname=a__b fam=a__b",
	},
	{
		in:         "a___b",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a.b",
		parse:      "Named a.b name=a.b domain= path=a.b famname=a.b fam=a.b",
		normalized: "Named docker.io/library/a.b name=docker.io/library/a.b domain=docker.io path=library/a.b famname=a.b fam=a.b",
		any:        "Named docker.io/library/a.b name=docker.io/library/a.b domain=docker.io path=library/a.b famname=a.b fam=a.b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a.b:latest name=docker.io/library/a.b domain=docker.io path=library/a.b famname=a.b tag=latest fam=a.b:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a.b name=a.b domain= path=a.b famname=a.b fam=a.b",
	},
	{
		in:         "a..b",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a-b",
		parse:      "Named a-b name=a-b domain= path=a-b famname=a-b fam=a-b",
		normalized: "Named docker.io/library/a-b name=docker.io/library/a-b domain=docker.io path=library/a-b famname=a-b fam=a-b",
		any:        "Named docker.io/library/a-b name=docker.io/library/a-b domain=docker.io path=library/a-b famname=a-b fam=a-b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a-b:latest name=docker.io/library/a-b domain=docker.io path=library/a-b famname=a-b tag=latest fam=a-b:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a-b name=a-b domain= path=a-b famname=a-b fam=a-b",
	},
	{
		in:         "a---b",
		parse:      "Named a---b name=a---b domain= path=a---b famname=a---b fam=a---b",
		normalized: "Named docker.io/library/a---b name=docker.io/library/a---b domain=docker.io path=library/a---b famname=a---b fam=a---b",
		any:        "Named docker.io/library/a---b name=docker.io/library/a---b domain=docker.io path=library/a---b famname=a---b fam=a---b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a---b:latest name=docker.io/library/a---b domain=docker.io path=library/a---b famname=a---b tag=latest fam=a---b:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a---b name=a---b domain= path=a---b famname=a---b fam=a---b",
	},
	{
		in:         "a_b",
		parse:      "Named a_b name=a_b domain= path=a_b famname=a_b fam=a_b",
		normalized: "Named docker.io/library/a_b name=docker.io/library/a_b domain=docker.io path=library/a_b famname=a_b fam=a_b",
		any:        "Named docker.io/library/a_b name=docker.io/library/a_b domain=docker.io path=library/a_b famname=a_b fam=a_b",
		docker:     "Named,Tagged,NamedTagged docker.io/library/a_b:latest name=docker.io/library/a_b domain=docker.io path=library/a_b famname=a_b tag=latest fam=a_b:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named a_b name=a_b domain= path=a_b famname=a_b fam=a_b",
	},
	{
		in:         "a._b",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a-.b",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a-",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "-a",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "_a",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         ".a",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a/",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "/a",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a//b",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a/b:c/d",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:tag:tag",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:tag/x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "a@b@c",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		parse:      "Named,Tagged,NamedTagged ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt name=ubuntu domain= path=ubuntu famname=ubuntu tag=tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt fam=ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt fam=ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt fam=ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt fam=ubuntu:tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:.x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:_x",
		parse:      "Named,Tagged,NamedTagged ubuntu:_x name=ubuntu domain= path=ubuntu famname=ubuntu tag=_x fam=ubuntu:_x",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:_x name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=_x fam=ubuntu:_x",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:_x name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=_x fam=ubuntu:_x",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:_x name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=_x fam=ubuntu:_x",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:-x",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubuntu:X.y-Z_9",
		parse:      "Named,Tagged,NamedTagged ubuntu:X.y-Z_9 name=ubuntu domain= path=ubuntu famname=ubuntu tag=X.y-Z_9 fam=ubuntu:X.y-Z_9",
		normalized: "Named,Tagged,NamedTagged docker.io/library/ubuntu:X.y-Z_9 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=X.y-Z_9 fam=ubuntu:X.y-Z_9",
		any:        "Named,Tagged,NamedTagged docker.io/library/ubuntu:X.y-Z_9 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=X.y-Z_9 fam=ubuntu:X.y-Z_9",
		docker:     "Named,Tagged,NamedTagged docker.io/library/ubuntu:X.y-Z_9 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=X.y-Z_9 fam=ubuntu:X.y-Z_9",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		normalized: "Named docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=docker.io path=library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		any:        "Named docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=docker.io path=library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		docker:     "Named,Tagged,NamedTagged docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:latest name=docker.io/library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=docker.io path=library/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx tag=latest fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	},
	{
		in:         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		normalized: "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		any:        "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		docker:     "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		named:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		withName:   "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	},
	{
		in:         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		normalized: "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		any:        "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		docker:     "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		named:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		withName:   "Named xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain= path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	},
	{
		in:         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		normalized: "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		any:        "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		docker:     "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		named:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		withName:   "error: repository name must not be more than 255 characters [ErrNameTooLong]",
	},
	{
		in:         "example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "Named example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		normalized: "Named example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		any:        "Named example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		docker:     "Named,Tagged,NamedTagged example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:latest name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx tag=latest fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:latest",
		named:      "Named example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		withName:   "Named example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx name=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx domain=example.com path=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx famname=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fam=example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	},
	{
		in:         "example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		parse:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		normalized: "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		any:        "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		docker:     "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		named:      "error: repository name must not be more than 255 characters [ErrNameTooLong]",
		withName:   "error: repository name must not be more than 255 characters [ErrNameTooLong]",
	},
	{
		in:         "foo bar",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "foo\tbar",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "ubüntu",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "Ka",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (library/Ka) must be lowercase",
		any:        "error: invalid reference format: repository name (library/Ka) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/Ka) must be lowercase",
		named:      "error: invalid reference format: repository name (library/Ka) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "docker.io",
		parse:      "Named docker.io name=docker.io domain= path=docker.io famname=docker.io fam=docker.io",
		normalized: "Named docker.io/library/docker.io name=docker.io/library/docker.io domain=docker.io path=library/docker.io famname=docker.io fam=docker.io",
		any:        "Named docker.io/library/docker.io name=docker.io/library/docker.io domain=docker.io path=library/docker.io famname=docker.io fam=docker.io",
		docker:     "Named,Tagged,NamedTagged docker.io/library/docker.io:latest name=docker.io/library/docker.io domain=docker.io path=library/docker.io famname=docker.io tag=latest fam=docker.io:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named docker.io name=docker.io domain= path=docker.io famname=docker.io fam=docker.io",
	},
	{
		in:         "docker.io/",
		parse:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		normalized: "error: invalid reference format [ErrReferenceInvalidFormat]",
		any:        "error: invalid reference format [ErrReferenceInvalidFormat]",
		docker:     "error: invalid reference format [ErrReferenceInvalidFormat]",
		named:      "error: invalid reference format [ErrReferenceInvalidFormat]",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "docker.io/UPPER",
		parse:      "error: repository name must be lowercase [ErrNameContainsUppercase]",
		normalized: "error: invalid reference format: repository name (library/UPPER) must be lowercase",
		any:        "error: invalid reference format: repository name (library/UPPER) must be lowercase",
		docker:     "error: invalid reference format: repository name (library/UPPER) must be lowercase",
		named:      "error: invalid reference format: repository name (library/UPPER) must be lowercase",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
	{
		in:         "Docker.io/x",
		parse:      "Named Docker.io/x name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x fam=Docker.io/x",
		normalized: "Named Docker.io/x name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x fam=Docker.io/x",
		any:        "Named Docker.io/x name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x fam=Docker.io/x",
		docker:     "Named,Tagged,NamedTagged Docker.io/x:latest name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x tag=latest fam=Docker.io/x:latest",
		named:      "Named Docker.io/x name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x fam=Docker.io/x",
		withName:   "Named Docker.io/x name=Docker.io/x domain=Docker.io path=x famname=Docker.io/x fam=Docker.io/x",
	},
	{
		in:         "9/x",
		parse:      "Named 9/x name=9/x domain=9 path=x famname=9/x fam=9/x",
		normalized: "Named docker.io/9/x name=docker.io/9/x domain=docker.io path=9/x famname=9/x fam=9/x",
		any:        "Named docker.io/9/x name=docker.io/9/x domain=docker.io path=9/x famname=9/x fam=9/x",
		docker:     "Named,Tagged,NamedTagged docker.io/9/x:latest name=docker.io/9/x domain=docker.io path=9/x famname=9/x tag=latest fam=9/x:latest",
		named:      "error: repository name must be canonical [ErrNameNotCanonical]",
		withName:   "Named 9/x name=9/x domain=9 path=x famname=9/x fam=9/x",
	},
	{
		in:         "example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		parse:      "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b/c domain=example.com path=a/b/c famname=example.com/a/b/c tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		normalized: "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b/c domain=example.com path=a/b/c famname=example.com/a/b/c tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		any:        "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b/c domain=example.com path=a/b/c famname=example.com/a/b/c tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		docker:     "Named,Digested,Canonical example.com/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b/c domain=example.com path=a/b/c famname=example.com/a/b/c digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		named:      "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b/c domain=example.com path=a/b/c famname=example.com/a/b/c tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b/c:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		withName:   "error: invalid reference format [ErrReferenceInvalidFormat]",
	},
}

var opCases = []opCase{
	{"docker.io/library/ubuntu", "WithTag", "v1", "Named,Tagged,NamedTagged docker.io/library/ubuntu:v1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=v1 fam=ubuntu:v1"},
	{"docker.io/library/ubuntu", "WithTag", "latest", "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest"},
	{"docker.io/library/ubuntu", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithTag", "Tag_1.0-rc", "Named,Tagged,NamedTagged docker.io/library/ubuntu:Tag_1.0-rc name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=Tag_1.0-rc fam=ubuntu:Tag_1.0-rc"},
	{"docker.io/library/ubuntu", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/ubuntu@md5:0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=md5:0123456789abcdef0123456789abcdef fam=ubuntu@md5:0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/ubuntu@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Digested,Canonical docker.io/library/ubuntu@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=ubuntu@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"docker.io/library/ubuntu", "TrimNamed", "", "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu"},
	{"docker.io/library/ubuntu", "TagNameOnly", "", "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest"},
	{"docker.io/library/ubuntu", "IsNameOnly", "", "true"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "ubuntu", "true <nil>"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "ubuntu:*", "false <nil>"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "*/*", "false <nil>"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "docker.io/*/*", "false <nil>"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "example.com/*/*", "false <nil>"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"docker.io/library/ubuntu", "FamiliarMatch", "x", "false <nil>"},
	{"docker.io/library/ubuntu:1", "WithTag", "v1", "Named,Tagged,NamedTagged docker.io/library/ubuntu:v1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=v1 fam=ubuntu:v1"},
	{"docker.io/library/ubuntu:1", "WithTag", "latest", "Named,Tagged,NamedTagged docker.io/library/ubuntu:latest name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=latest fam=ubuntu:latest"},
	{"docker.io/library/ubuntu:1", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithTag", "Tag_1.0-rc", "Named,Tagged,NamedTagged docker.io/library/ubuntu:Tag_1.0-rc name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=Tag_1.0-rc fam=ubuntu:Tag_1.0-rc"},
	{"docker.io/library/ubuntu:1", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu:1", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:1@md5:0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 digest=md5:0123456789abcdef0123456789abcdef fam=ubuntu:1@md5:0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu:1", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:1@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=ubuntu:1@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"docker.io/library/ubuntu:1", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"docker.io/library/ubuntu:1", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Tagged,Digested,NamedTagged,Canonical docker.io/library/ubuntu:1@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=ubuntu:1@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"docker.io/library/ubuntu:1", "TrimNamed", "", "Named docker.io/library/ubuntu name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu fam=ubuntu"},
	{"docker.io/library/ubuntu:1", "TagNameOnly", "", "Named,Tagged,NamedTagged docker.io/library/ubuntu:1 name=docker.io/library/ubuntu domain=docker.io path=library/ubuntu famname=ubuntu tag=1 fam=ubuntu:1"},
	{"docker.io/library/ubuntu:1", "IsNameOnly", "", "false"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "ubuntu", "true <nil>"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "ubuntu:*", "true <nil>"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "*/*", "false <nil>"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "docker.io/*/*", "false <nil>"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "example.com/*/*", "false <nil>"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"docker.io/library/ubuntu:1", "FamiliarMatch", "x", "false <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "v1", "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "latest", "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b tag=latest digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "Tag_1.0-rc", "Named,Tagged,Digested,NamedTagged,Canonical example.com/a/b:Tag_1.0-rc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b tag=Tag_1.0-rc digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b:Tag_1.0-rc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/a/b@md5:0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b digest=md5:0123456789abcdef0123456789abcdef fam=example.com/a/b@md5:0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/a/b@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Digested,Canonical example.com/a/b@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=example.com/a/b@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "TrimNamed", "", "Named example.com/a/b name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b fam=example.com/a/b"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "TagNameOnly", "", "Named,Digested,Canonical example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/a/b domain=example.com path=a/b famname=example.com/a/b digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IsNameOnly", "", "false"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "ubuntu", "false <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "ubuntu:*", "false <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "*/*", "false <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "docker.io/*/*", "false <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "example.com/*/*", "true <nil>"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"example.com/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "x", "false <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "v1", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=v1 digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "latest", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=latest digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "Tag_1.0-rc", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:Tag_1.0-rc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=Tag_1.0-rc digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:Tag_1.0-rc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=t digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:t@md5:0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=t digest=md5:0123456789abcdef0123456789abcdef fam=localhost:5000/x:t@md5:0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:t@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=t digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:t@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:t@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=t digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=localhost:5000/x:t@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "TrimNamed", "", "Named localhost:5000/x name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x fam=localhost:5000/x"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "TagNameOnly", "", "Named,Tagged,Digested,NamedTagged,Canonical localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=localhost:5000/x domain=localhost:5000 path=x famname=localhost:5000/x tag=t digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IsNameOnly", "", "false"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "ubuntu", "false <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "ubuntu:*", "false <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "*/*", "true <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "docker.io/*/*", "false <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "example.com/*/*", "false <nil>"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"localhost:5000/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "FamiliarMatch", "x", "false <nil>"},
	{"plain:example.com/x", "WithTag", "v1", "Named,Tagged,NamedTagged example.com/x:v1 name=example.com/x domain= path=example.com/x famname=example.com/x tag=v1 fam=example.com/x:v1"},
	{"plain:example.com/x", "WithTag", "latest", "Named,Tagged,NamedTagged example.com/x:latest name=example.com/x domain= path=example.com/x famname=example.com/x tag=latest fam=example.com/x:latest"},
	{"plain:example.com/x", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:example.com/x", "WithTag", "Tag_1.0-rc", "Named,Tagged,NamedTagged example.com/x:Tag_1.0-rc name=example.com/x domain= path=example.com/x famname=example.com/x tag=Tag_1.0-rc fam=example.com/x:Tag_1.0-rc"},
	{"plain:example.com/x", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:example.com/x", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:example.com/x", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:example.com/x", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain= path=example.com/x famname=example.com/x digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"plain:example.com/x", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:example.com/x", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/x@md5:0123456789abcdef0123456789abcdef name=example.com/x domain= path=example.com/x famname=example.com/x digest=md5:0123456789abcdef0123456789abcdef fam=example.com/x@md5:0123456789abcdef0123456789abcdef"},
	{"plain:example.com/x", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical example.com/x@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=example.com/x domain= path=example.com/x famname=example.com/x digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=example.com/x@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"plain:example.com/x", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:example.com/x", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:example.com/x", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Digested,Canonical example.com/x@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=example.com/x domain= path=example.com/x famname=example.com/x digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=example.com/x@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"plain:example.com/x", "TrimNamed", "", "Named example.com/x name=example.com/x domain=example.com path=x famname=example.com/x fam=example.com/x"},
	{"plain:example.com/x", "TagNameOnly", "", "Named,Tagged,NamedTagged example.com/x:latest name=example.com/x domain= path=example.com/x famname=example.com/x tag=latest fam=example.com/x:latest"},
	{"plain:example.com/x", "IsNameOnly", "", "true"},
	{"plain:example.com/x", "FamiliarMatch", "ubuntu", "false <nil>"},
	{"plain:example.com/x", "FamiliarMatch", "ubuntu:*", "false <nil>"},
	{"plain:example.com/x", "FamiliarMatch", "*/*", "true <nil>"},
	{"plain:example.com/x", "FamiliarMatch", "docker.io/*/*", "false <nil>"},
	{"plain:example.com/x", "FamiliarMatch", "example.com/*/*", "false <nil>"},
	{"plain:example.com/x", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"plain:example.com/x", "FamiliarMatch", "x", "false <nil>"},
	{"plain:docker.io/library/y", "WithTag", "v1", "Named,Tagged,NamedTagged docker.io/library/y:v1 name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y tag=v1 fam=docker.io/library/y:v1"},
	{"plain:docker.io/library/y", "WithTag", "latest", "Named,Tagged,NamedTagged docker.io/library/y:latest name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y tag=latest fam=docker.io/library/y:latest"},
	{"plain:docker.io/library/y", "WithTag", "", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:docker.io/library/y", "WithTag", "Tag_1.0-rc", "Named,Tagged,NamedTagged docker.io/library/y:Tag_1.0-rc name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y tag=Tag_1.0-rc fam=docker.io/library/y:Tag_1.0-rc"},
	{"plain:docker.io/library/y", "WithTag", ".x", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:docker.io/library/y", "WithTag", "a/b", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:docker.io/library/y", "WithTag", "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "error: invalid tag format [ErrTagInvalidFormat]"},
	{"plain:docker.io/library/y", "WithDigest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=docker.io/library/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"plain:docker.io/library/y", "WithDigest", "sha256:0123456789abcdef0123456789abcde", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:docker.io/library/y", "WithDigest", "md5:0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/y@md5:0123456789abcdef0123456789abcdef name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y digest=md5:0123456789abcdef0123456789abcdef fam=docker.io/library/y@md5:0123456789abcdef0123456789abcdef"},
	{"plain:docker.io/library/y", "WithDigest", "sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Named,Digested,Canonical docker.io/library/y@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y digest=sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef fam=docker.io/library/y@sha256+b64:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	{"plain:docker.io/library/y", "WithDigest", "sha256", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:docker.io/library/y", "WithDigest", "", "error: invalid digest format [ErrDigestInvalidFormat]"},
	{"plain:docker.io/library/y", "WithDigest", "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "Named,Digested,Canonical docker.io/library/y@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y digest=SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF fam=docker.io/library/y@SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"},
	{"plain:docker.io/library/y", "TrimNamed", "", "Named docker.io/library/y name=docker.io/library/y domain=docker.io path=library/y famname=y fam=y"},
	{"plain:docker.io/library/y", "TagNameOnly", "", "Named,Tagged,NamedTagged docker.io/library/y:latest name=docker.io/library/y domain= path=docker.io/library/y famname=docker.io/library/y tag=latest fam=docker.io/library/y:latest"},
	{"plain:docker.io/library/y", "IsNameOnly", "", "true"},
	{"plain:docker.io/library/y", "FamiliarMatch", "ubuntu", "false <nil>"},
	{"plain:docker.io/library/y", "FamiliarMatch", "ubuntu:*", "false <nil>"},
	{"plain:docker.io/library/y", "FamiliarMatch", "*/*", "false <nil>"},
	{"plain:docker.io/library/y", "FamiliarMatch", "docker.io/*/*", "true <nil>"},
	{"plain:docker.io/library/y", "FamiliarMatch", "example.com/*/*", "false <nil>"},
	{"plain:docker.io/library/y", "FamiliarMatch", "[", "false syntax error in pattern"},
	{"plain:docker.io/library/y", "FamiliarMatch", "x", "false <nil>"},
}

var sortIn = []string{"ubuntu", "BAD", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ubuntu:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "alpine:3", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", "busybox", "ubuntu:1", "a:b:c", "alpine:3"}

var sortOut = []string{"docker.io/library/ubuntu:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/alpine:3", "docker.io/library/alpine:3", "docker.io/library/ubuntu:1", "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/busybox", "docker.io/library/ubuntu", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", "BAD", "a:b:c"}
