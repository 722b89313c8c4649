package buildsvc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/engine/hostpath"
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
	e := bare(t.TempDir(), []string{allowed + "/"})
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
	if fd, _, err := bare(t.TempDir(), nil).openBuildContext(filepath.Join(dir, "outside")); err != nil {
		t.Errorf("no prefixes: %v", err)
	} else {
		unix.Close(fd)
	}
}

func TestPrepareBuild(t *testing.T) {
	dir := t.TempDir()
	e := bare(t.TempDir(), nil)
	if _, err := e.PrepareBuild(Request{ContextPath: dir}, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("no Content: %v", err)
	}
	if _, err := e.PrepareBuild(Request{ContextPath: dir, Content: "BASE x\nNOPE\n"}, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("parse error: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "Other"), []byte("BASE scratch\n"), 0o644)
	pb, err := e.PrepareBuild(Request{ContextPath: dir, File: "Other", Image: "img:1", Tags: []string{"img:2"}}, nil)
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
	e := bare(t.TempDir(), nil)
	df := "FROM scratch\n"
	for _, bad := range []map[string][]byte{{"": []byte("x")}, {"a/b": []byte("x")}, {"..": []byte("x")}, {"big": make([]byte, maxSecret+1)}} {
		_, err := e.PrepareBuild(Request{ContextPath: dir, Content: df, Dockerfile: true, Secrets: bad}, nil)
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
	pb, err := e.PrepareBuild(Request{ContextPath: dir, Content: df, Dockerfile: true, Secrets: map[string][]byte{"token": []byte("v")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(pb.req.Secrets["token"]) != "v" {
		t.Errorf("secrets not passed on: %+v", pb.req.Secrets)
	}
}

func TestBuildFileStaysInTheContext(t *testing.T) {
	e := bare(t.TempDir(), nil)
	dir := t.TempDir()
	ctxDir := filepath.Join(dir, "ctx")
	os.Mkdir(ctxDir, 0o755)
	os.WriteFile(filepath.Join(ctxDir, "MiniBox"), []byte("BASE scratch\n"), 0o644)
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("root:$6$saltsaltsaltsalt$hashhashhashhashhashhashhash:19000:0:99999:7:::\n"), 0o600)
	os.Symlink(secret, filepath.Join(ctxDir, "Linked"))
	for _, f := range []string{"/etc/shadow", "/etc/passwd", secret, "../secret", "Linked", filepath.Join(ctxDir, "..", "secret")} {
		_, err := e.PrepareBuild(Request{ContextPath: ctxDir, File: f}, nil)
		wantKind(t, "file "+f, err, errdefs.ErrForbidden)
		if err != nil && strings.Contains(err.Error(), "hash") {
			t.Errorf("file %s: the error quotes the file: %v", f, err)
		}
	}
	// Inside the context, absolute or relative, is read.
	for _, f := range []string{"MiniBox", filepath.Join(ctxDir, "MiniBox"), "./MiniBox"} {
		if _, err := e.PrepareBuild(Request{ContextPath: ctxDir, File: f}, nil); err != nil {
			t.Errorf("file %s: %v", f, err)
		}
	}
	// A FIFO in the context is refused without being opened for reading.
	unix.Mkfifo(filepath.Join(ctxDir, "Fifo"), 0o644)
	_, err := e.PrepareBuild(Request{ContextPath: ctxDir, File: "Fifo"}, nil)
	wantKind(t, "fifo", err, errdefs.ErrInvalid)
	// A context in the data root is refused.
	_, err = e.PrepareBuild(Request{ContextPath: e.cfg.Root, Content: "BASE scratch\n"}, nil)
	wantKind(t, "context in the data root", err, errdefs.ErrForbidden)
	_, err = e.PrepareBuild(Request{ContextPath: "/tmp/\x00", Content: "BASE scratch\n"}, nil)
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "context_path") {
		t.Errorf("NUL in the context: %v", err)
	}
}

// bare is a service that only checks requests: no builder, no store.
func bare(root string, prefixes []string) *Service {
	return &Service{cfg: Config{Root: root, BuildPrefixes: prefixes}, places: hostpath.New(root, prefixes)}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want %v", what, err, kind)
	}
}
