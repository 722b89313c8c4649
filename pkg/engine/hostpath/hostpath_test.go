package hostpath

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/testutil"
)

// tree is a data root with a file in it, and a directory beside it for the caller's paths.
func tree(t *testing.T) (root, out string) {
	t.Helper()
	base := t.TempDir()
	root, out = filepath.Join(base, "root"), filepath.Join(base, "out")
	for _, d := range []string{root, filepath.Join(root, "blobs"), out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "index.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, out
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want %v", what, err, kind)
	}
}

func TestCheck(t *testing.T) {
	for p, want := range map[string]string{
		"":           "path is required",
		"rel.tar":    `path "rel.tar" must be an absolute path`,
		"/tmp/a\x00": "path contains a NUL byte",
	} {
		err := Check("path", p)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want a 400 saying %q", p, err, want)
		}
	}
	if err := Check("path", "/tmp/x.tar"); err != nil {
		t.Errorf("an absolute path: %v", err)
	}
}

// TestDataRootIsRefused: the data root is refused however it is named (as given, through
// a symlink, through ".."), for reading and for writing, and nothing in it changes.
func TestDataRootIsRefused(t *testing.T) {
	root, out := tree(t)
	pol := New(root, nil)
	index := filepath.Join(root, "index.json")
	link := filepath.Join(out, "link")
	os.Symlink(root, link)
	os.Symlink(index, filepath.Join(out, "index-link"))
	for _, p := range []string{index, filepath.Join(link, "index.json"), filepath.Join(out, "..", "root", "index.json"), filepath.Join(out, "index-link")} {
		f, _, err := pol.Open("path", p)
		if f != nil {
			f.Close()
		}
		wantKind(t, "open "+p, err, errdefs.ErrForbidden)
	}
	for _, p := range []string{index, filepath.Join(link, "new.tar"), filepath.Join(root, "blobs", "new.tar")} {
		tg, err := pol.Create("path", p)
		if tg != nil {
			tg.Abort()
		}
		wantKind(t, "create "+p, err, errdefs.ErrForbidden)
	}
	if b, _ := os.ReadFile(index); string(b) != "{}" {
		t.Errorf("index.json changed: %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "blobs")); len(ents) != 0 {
		t.Errorf("blobs/ holds %v", ents)
	}
	// A bind mount of the data root is the same directory: refused as well.
	if testutil.Missing(testutil.Root) != "" {
		if testutil.Privileged() {
			t.Fatal("the bind-mount case needs root (MINIBOX_TEST_PRIVILEGED=1)")
		}
		return
	}
	mnt := filepath.Join(out, "mnt")
	os.Mkdir(mnt, 0o755)
	if err := unix.Mount(root, mnt, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	tg, err := pol.Create("path", filepath.Join(mnt, "index.json"))
	if tg != nil {
		tg.Abort()
	}
	wantKind(t, "create in a bind mount of the data root", err, errdefs.ErrForbidden)
}

func TestPrefixes(t *testing.T) {
	root, out := tree(t)
	allowed := filepath.Join(out, "allowed")
	os.Mkdir(allowed, 0o755)
	os.WriteFile(filepath.Join(allowed, "a.tar"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(out, "b.tar"), []byte("b"), 0o644)
	// A symlink inside the prefix leading out of it is placed where it leads.
	os.Symlink(filepath.Join(out, "b.tar"), filepath.Join(allowed, "b-link.tar"))
	pol := New(root, []string{allowed})
	f, size, err := pol.Open("path", filepath.Join(allowed, "a.tar"))
	if err != nil || size != 1 {
		t.Fatalf("open under the prefix: %v (size %d)", err, size)
	}
	f.Close()
	for _, p := range []string{filepath.Join(out, "b.tar"), filepath.Join(allowed, "b-link.tar")} {
		_, _, err = pol.Open("path", p)
		if !errors.Is(err, errdefs.ErrForbidden) || !strings.Contains(err.Error(), "outside MINIBOX_BUILD_PREFIXES") {
			t.Errorf("open %s outside the prefix: %v", p, err)
		}
	}
}

// TestOpenRegularFilesOnly: a FIFO, a device or a directory is a 400 naming the parameter,
// and a FIFO is never opened for reading (that would wait for a writer).
func TestOpenRegularFilesOnly(t *testing.T) {
	root, out := tree(t)
	pol := New(root, nil)
	fifo := filepath.Join(out, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/null", fifo, out} {
		_, _, err := pol.Open("path", p)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "path") || !strings.Contains(err.Error(), "only a regular file") {
			t.Errorf("open %s: %v, want a 400 naming path", p, err)
		}
	}
	_, _, err := pol.Open("path", filepath.Join(out, "missing.tar"))
	wantKind(t, "missing", err, errdefs.ErrNotFound)
}

// TestCreate: a new file and a regular file are written by rename when committed; a
// symlink, a directory and a FIFO are refused and stay; an aborted write leaves nothing.
func TestCreate(t *testing.T) {
	root, out := tree(t)
	pol := New(root, nil)
	write := func(p, content string) error {
		tg, err := pol.Create("path", p)
		if err != nil {
			return err
		}
		defer tg.Abort()
		if _, err := io.WriteString(tg, content); err != nil {
			return err
		}
		return tg.Commit("path", p)
	}
	if err := write(filepath.Join(out, "a.tar"), "new"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "b.tar"), []byte("old"), 0o644)
	if err := write(filepath.Join(out, "b.tar"), "replaced"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.tar": "new", "b.tar": "replaced"} {
		if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != want {
			t.Errorf("%s holds %q, want %q", name, b, want)
		}
	}
	victim := filepath.Join(out, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Symlink(victim, filepath.Join(out, "sym.tar"))
	os.Mkdir(filepath.Join(out, "dir.tar"), 0o755)
	unix.Mkfifo(filepath.Join(out, "fifo.tar"), 0o644)
	for _, p := range []string{"sym.tar", "dir.tar", "fifo.tar", "dir.tar/"} {
		wantKind(t, "create "+p, write(filepath.Join(out, p)+strings.Repeat("/", strings.Count(p, "/")), "x"), errdefs.ErrInvalid)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target was written")
	}
	tg, err := pol.Create("path", filepath.Join(out, "c.tar"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tg, "half")
	tg.Abort()
	tg.Abort() // again: nothing
	var names []string
	ents, _ := os.ReadDir(out)
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	if got := strings.Join(names, " "); got != "a.tar b.tar dir.tar fifo.tar sym.tar victim" {
		t.Errorf("out/ holds %s", got)
	}
}

func TestSizeLimit(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 100)
	for _, c := range []struct {
		limit   int64
		tripped bool
	}{{0, false}, {100, false}, {200, false}, {99, true}, {1, true}} {
		l := NewSizeLimit(context.Background(), bytes.NewReader(data), c.limit)
		n, err := io.Copy(io.Discard, l)
		err = l.Result(err)
		if c.tripped {
			if !errors.Is(err, errdefs.ErrTooLarge) || !strings.Contains(err.Error(), "MINIBOX_MAX_IMPORT_SIZE") {
				t.Errorf("limit %d: %v, want a 413", c.limit, err)
			}
			continue
		}
		if err != nil || n != 100 {
			t.Errorf("limit %d: read %d, %v", c.limit, n, err)
		}
	}
	// Another failure is kept as it is.
	l := NewSizeLimit(context.Background(), bytes.NewReader(data), 10)
	if err := l.Result(io.ErrUnexpectedEOF); err != io.ErrUnexpectedEOF {
		t.Errorf("untripped limit changed the error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewSizeLimit(ctx, bytes.NewReader(data), 0).Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("read after the context ended: %v", err)
	}
}
