package oci

import (
	"errors"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestParseNormalized(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for in, want := range map[string][2]string{
		"alpine":                       {"docker.io/library/alpine:latest", "alpine:latest"},
		"alpine:3.20":                  {"docker.io/library/alpine:3.20", "alpine:3.20"},
		"user/app":                     {"docker.io/user/app:latest", "user/app:latest"},
		"docker.io/alpine":             {"docker.io/library/alpine:latest", "alpine:latest"},
		"index.docker.io/library/x:1":  {"docker.io/library/x:1", "x:1"},
		"ghcr.io/a/b:t":                {"ghcr.io/a/b:t", "ghcr.io/a/b:t"},
		"localhost/app":                {"localhost/app:latest", "localhost/app:latest"},
		"localhost:5000/app":           {"localhost:5000/app:latest", "localhost:5000/app:latest"},
		"127.0.0.1:5000/a/b/c:v1.2-rc": {"127.0.0.1:5000/a/b/c:v1.2-rc", "127.0.0.1:5000/a/b/c:v1.2-rc"},
		"redis@" + d:                   {"docker.io/library/redis@" + d, "redis@" + d},
		"redis:7@" + d:                 {"docker.io/library/redis:7@" + d, "redis:7@" + d},
		"my_app.v2__x--y":              {"docker.io/library/my_app.v2__x--y:latest", "my_app.v2__x--y:latest"},
		"Registry.Example:65535/a":     {"Registry.Example:65535/a:latest", "Registry.Example:65535/a:latest"},
		"[::1]:5000/a":                 {"[::1]:5000/a:latest", "[::1]:5000/a:latest"},
	} {
		r, err := ParseNormalized(in)
		if err != nil {
			t.Errorf("ParseNormalized(%q): %v", in, err)
			continue
		}
		if r.String() != want[0] || r.Familiar() != want[1] {
			t.Errorf("ParseNormalized(%q) = %q familiar %q, want %q, %q", in, r.String(), r.Familiar(), want[0], want[1])
		}
	}
}

func TestParseNormalizedRefuses(t *testing.T) {
	for _, in := range []string{
		"", "Alpine", "alpine:", ":tag", "a//b", "-a", "a/", "alpine:bad/tag", "alpine@sha256:xyz",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "a b", "../x", "a/../b",
		"alpine:" + string(make([]byte, 200)),
		"UPPER/x", "Upper", "user/App", "ghcr.io/Org/app", "localhost:99999/x", "localhost:0/x",
		"registry.example:65536/a/b:1", "[::1]:70000/x",
	} {
		if r, err := ParseNormalized(in); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseNormalized(%q) = %v, %v; want ErrInvalid", in, r, err)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := ParsePlatform("linux/arm64/v8")
	if err != nil || p.OS != "linux" || p.Architecture != "arm64" || p.Variant != "v8" {
		t.Errorf("ParsePlatform = %+v, %v", p, err)
	}
	if _, err := ParsePlatform("linux"); err == nil {
		t.Error("ParsePlatform(linux) accepted")
	}
}
