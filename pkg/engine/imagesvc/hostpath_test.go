package imagesvc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/testutil"
)

// hostPathEngine is an image engine with one image, "busy", and a directory beside the
// data root for archives.
func hostPathEngine(t *testing.T) (*Service, string) {
	t.Helper()
	base := t.TempDir()
	e := openService(t, Config{Root: filepath.Join(base, "root")}, Deps{})
	if _, err := e.ImportImage(context.Background(), bytes.NewReader(rootfsTar(t)), "busy"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, "out")
	os.Mkdir(out, 0o755)
	return e, out
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want %v", what, err, kind)
	}
}

func tmpEmpty(t *testing.T, e *Service) {
	t.Helper()
	if ents, _ := os.ReadDir(filepath.Join(e.cfg.Root, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ has leftovers: %v", ents)
	}
}

func TestHostPathsRefuseTheDataRoot(t *testing.T) {
	e, out := hostPathEngine(t)
	ctx := context.Background()
	index := filepath.Join(e.cfg.Root, "index.json")
	before, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(out, "link")
	os.Symlink(e.cfg.Root, link)
	for _, p := range []string{index, filepath.Join(link, "index.json"), filepath.Join(out, "..", "root", "index.json"),
		filepath.Join(e.cfg.Root, "blobs", "new.tar"), filepath.Join(e.cfg.Root, "tmp", "x.tar")} {
		wantKind(t, "save "+p, e.SaveImagesToPath(ctx, []string{"busy"}, p), errdefs.ErrForbidden)
	}
	for _, p := range []string{index, filepath.Join(link, "index.json"), filepath.Join(e.cfg.Root, "state.json")} {
		os.WriteFile(filepath.Join(e.cfg.Root, "state.json"), []byte("{}"), 0o600)
		_, err := e.LoadImagesFromPath(ctx, p)
		wantKind(t, "load "+p, err, errdefs.ErrForbidden)
		_, err = e.ImportImageFromPath(ctx, p, "x")
		wantKind(t, "import "+p, err, errdefs.ErrForbidden)
	}
	// A symlink outside pointing at a file inside is resolved by the kernel too.
	os.Symlink(index, filepath.Join(out, "index-link"))
	_, err = e.LoadImagesFromPath(ctx, filepath.Join(out, "index-link"))
	wantKind(t, "load via a symlink to index.json", err, errdefs.ErrForbidden)
	if after, _ := os.ReadFile(index); !bytes.Equal(before, after) {
		t.Fatalf("index.json changed")
	}
	if imgs, err := e.ListImages(false); err != nil || len(imgs) != 1 {
		t.Fatalf("images after: %v %v", imgs, err)
	}
	// A bind mount of the data root is the same directory: refused as well.
	if testutil.Missing(testutil.Root) == "" {
		mnt := filepath.Join(out, "mnt")
		os.Mkdir(mnt, 0o755)
		if err := unix.Mount(e.cfg.Root, mnt, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		defer unix.Unmount(mnt, unix.MNT_DETACH)
		wantKind(t, "save into a bind mount of the data root", e.SaveImagesToPath(ctx, []string{"busy"}, filepath.Join(mnt, "index.json")), errdefs.ErrForbidden)
	} else if testutil.Privileged() {
		t.Fatal("the bind-mount case needs root (MINIBOX_TEST_PRIVILEGED=1)")
	}
	tmpEmpty(t, e)
}

func TestSaveTargets(t *testing.T) {
	e, out := hostPathEngine(t)
	ctx := context.Background()
	// A new file and a regular file to replace are written; nothing else is left.
	p := filepath.Join(out, "a.tar")
	if err := e.SaveImagesToPath(ctx, []string{"busy"}, p); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "b.tar"), []byte("old"), 0o644)
	if err := e.SaveImagesToPath(ctx, []string{"busy"}, filepath.Join(out, "b.tar")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "b.tar")); len(b) < 1024 {
		t.Fatalf("b.tar not replaced: %d bytes", len(b))
	}
	// A symlink, a directory and a FIFO are refused and stay as they were.
	victim := filepath.Join(out, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Symlink(victim, filepath.Join(out, "sym.tar"))
	os.Mkdir(filepath.Join(out, "dir.tar"), 0o755)
	unix.Mkfifo(filepath.Join(out, "fifo.tar"), 0o644)
	for _, name := range []string{"sym.tar", "dir.tar", "fifo.tar", "dir.tar/"} {
		err := e.SaveImagesToPath(ctx, []string{"busy"}, filepath.Join(out, name)+strings.Repeat("/", strings.Count(name, "/")))
		wantKind(t, "save onto "+name, err, errdefs.ErrInvalid)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target was written")
	}
	if fi, err := os.Lstat(filepath.Join(out, "sym.tar")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("sym.tar is no longer a symlink")
	}
	for _, p := range []string{"", "rel.tar", filepath.Join(out, "x\x00y")} {
		err := e.SaveImagesToPath(ctx, []string{"busy"}, p)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "path") {
			t.Errorf("save to %q: %v", p, err)
		}
	}
	// A cancelled save leaves no temporary file beside the target.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.SaveImagesToPath(cctx, []string{"busy"}, filepath.Join(out, "c.tar")); err == nil {
		t.Errorf("cancelled save succeeded")
	}
	ents, _ := os.ReadDir(out)
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	if got := strings.Join(names, " "); got != "a.tar b.tar dir.tar fifo.tar sym.tar victim" {
		t.Errorf("out/ holds %s", got)
	}
}

func TestHostSourcesMustBeRegularFiles(t *testing.T) {
	e, out := hostPathEngine(t)
	fifo := filepath.Join(out, "fifo")
	unix.Mkfifo(fifo, 0o644)
	// Each call must come back at once: reading /dev/zero never ends and opening a FIFO
	// waits for a writer. A call still running after a minute has failed; it is then
	// cancelled and the FIFO opened, so the test ends either way.
	call := func(what string, fn func(ctx context.Context) error) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- fn(ctx) }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			cancel()
			if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			<-done
			t.Errorf("%s: still reading after a minute", what)
			return nil
		}
	}
	for _, p := range []string{"/dev/zero", "/dev/null", fifo, out} {
		err := call("import "+p, func(ctx context.Context) error {
			_, err := e.ImportImageFromPath(ctx, p, "x")
			return err
		})
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "path") {
			t.Errorf("import %s: %v, want a 400 naming path", p, err)
		}
		err = call("load "+p, func(ctx context.Context) error {
			_, err := e.LoadImagesFromPath(ctx, p)
			return err
		})
		if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("load %s: %v", p, err)
		}
	}
	_, err := e.ImportImageFromPath(context.Background(), "/tmp/a\x00b", "x")
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "path contains a NUL byte") {
		t.Errorf("NUL: %v", err)
	}
	_, err = e.LoadImagesFromPath(context.Background(), filepath.Join(out, "missing.tar"))
	wantKind(t, "missing", err, errdefs.ErrNotFound)
	tmpEmpty(t, e)
}

func TestImportSizeLimit(t *testing.T) {
	e, out := hostPathEngine(t)
	ctx := context.Background()
	big := append(rootfsTar(t), make([]byte, 64<<10)...)
	e.cfg.MaxImportSize = 32 << 10
	_, err := e.ImportImage(ctx, bytes.NewReader(big), "big")
	wantKind(t, "import over the limit", err, errdefs.ErrTooLarge)
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/big", Mode: 0o644, Size: 64 << 10, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 64<<10))
	tw.Close()
	_, err = e.LoadImages(ctx, bytes.NewReader(archive.Bytes()))
	wantKind(t, "load over the limit", err, errdefs.ErrTooLarge)
	// A small compressed archive is held to the limit once decompressed.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(archive.Bytes())
	zw.Close()
	e.store.MaxLoadSize = e.cfg.MaxImportSize
	_, err = e.LoadImages(ctx, bytes.NewReader(gz.Bytes()))
	wantKind(t, "load of a gzip over the limit once decompressed", err, errdefs.ErrTooLarge)
	p := filepath.Join(out, "big.tar")
	os.WriteFile(p, big, 0o644)
	_, err = e.ImportImageFromPath(ctx, p, "big")
	wantKind(t, "import of a file over the limit", err, errdefs.ErrTooLarge)
	if _, err := e.store.Resolve("big"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("an image over the limit was named: %v", err)
	}
	tmpEmpty(t, e)
	// Exactly at the limit is fine.
	e.cfg.MaxImportSize = int64(len(big))
	if _, err := e.ImportImage(ctx, bytes.NewReader(big), "big"); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryAuthNeedsARegistry(t *testing.T) {
	e := imagesService(t)
	for _, req := range []struct{ Registry, Username, Password string }{{}, {Registry: " "}, {Registry: "https://"}, {Username: "u", Password: "p"}} {
		err := e.CheckRegistryAuth(context.Background(), req.Registry, registry.Auth{Username: req.Username, Password: req.Password})
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "registry") {
			t.Errorf("%+v: %v, want a 400 naming registry", req, err)
		}
	}
}
