package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
	"golang.org/x/sys/unix"
)

func TestBuildHostPath(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	for _, d := range []string{"allowed/ctx", "allowed-not", "outside"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.Symlink(filepath.Join(dir, "outside"), filepath.Join(allowed, "escape"))
	os.Symlink(filepath.Join(allowed, "ctx"), filepath.Join(dir, "outside", "in"))
	e := &Engine{Root: t.TempDir(), Cfg: Config{BuildPrefixes: []string{allowed + "/"}}}
	for p, want := range map[string]error{
		filepath.Join(allowed, "ctx"):       nil,
		allowed:                             nil,
		filepath.Join(dir, "outside", "in"): nil, // a link from outside to inside resolves inside
		filepath.Join(allowed, "escape"):    errdefs.ErrForbidden,
		filepath.Join(dir, "allowed-not"):   errdefs.ErrForbidden, // a prefix ends at a separator
		filepath.Join(dir, "outside"):       errdefs.ErrForbidden,
		"relative/ctx":                      errdefs.ErrInvalid,
		filepath.Join(allowed, "missing"):   errdefs.ErrInvalid,
	} {
		fd, _, err := e.openBuildContext(p)
		if (want == nil) != (err == nil) || want != nil && !errors.Is(err, want) {
			t.Errorf("openBuildContext(%s) = %v, want %v", p, err, want)
		}
		if err == nil {
			unix.Close(fd)
		}
	}
	// Unset prefixes allow any existing path.
	if fd, _, err := (&Engine{Root: t.TempDir()}).openBuildContext(filepath.Join(dir, "outside")); err != nil {
		t.Errorf("no prefixes: %v", err)
	} else {
		unix.Close(fd)
	}
}

func TestPrepareBuild(t *testing.T) {
	dir := t.TempDir()
	e := &Engine{Root: t.TempDir()}
	if _, err := e.PrepareBuild(api.BuildRequest{ContextPath: dir}, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("no MiniBox: %v", err)
	}
	if _, err := e.PrepareBuild(api.BuildRequest{ContextPath: dir, MiniBox: "BASE x\nNOPE\n"}, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("parse error: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "Other"), []byte("BASE scratch\n"), 0o644)
	pb, err := e.PrepareBuild(api.BuildRequest{Context: dir, File: "Other", Image: "img:1", Tags: []string{"img:2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pb.req.FileName != "Other" || len(pb.req.Tags) != 2 || pb.req.Tags[0] != "img:1" {
		t.Errorf("prepared %+v", pb.req)
	}
}

// Build secrets are checked at the edge: an id that is no plain name or a value over the
// limit is a 400 naming the field; good ones reach the builder's request.
func TestPrepareBuildSecrets(t *testing.T) {
	dir := t.TempDir()
	e := &Engine{Root: t.TempDir()}
	df := "FROM scratch\n"
	for _, bad := range []map[string][]byte{{"": []byte("x")}, {"a/b": []byte("x")}, {"..": []byte("x")}, {"big": make([]byte, maxSecret+1)}} {
		_, err := e.PrepareBuild(api.BuildRequest{ContextPath: dir, MiniBox: df, Dockerfile: true, Secrets: bad}, nil)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "secrets:") {
			t.Errorf("secrets %q: %v, want a 400 naming secrets", func() []string {
				var ks []string
				for k := range bad {
					ks = append(ks, k)
				}
				return ks
			}(), err)
		}
	}
	pb, err := e.PrepareBuild(api.BuildRequest{ContextPath: dir, MiniBox: df, Dockerfile: true, Secrets: map[string][]byte{"token": []byte("v")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(pb.req.Secrets["token"]) != "v" {
		t.Errorf("secrets not passed on: %+v", pb.req.Secrets)
	}
}
