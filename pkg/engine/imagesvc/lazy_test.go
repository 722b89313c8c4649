package imagesvc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

const lazyServerEnv = "MINIBOX_ENGINE_TEST_LAZYFS_ROOT"

// TestLazyfsServerProcess is not a test: it is the lazyfs server when this test binary is
// started as one (the helper-process pattern), as the daemon starts minibox-lazyfs.
func TestLazyfsServerProcess(t *testing.T) {
	root := os.Getenv(lazyServerEnv)
	if root == "" {
		t.Skip("helper process only")
	}
	lazyfs.Serve(context.Background(), root, 0, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	os.Exit(0)
}

// testEngine opens a service on a fresh data root whose lazyfs server is this test binary;
// cleanup kills the server by its PID and detaches every mount under the root.
func testEngine(t *testing.T, mut func(*Config)) *Service {
	t.Helper()
	testutil.RequirePrivileged(t, testutil.FUSE, testutil.Overlay)
	root := t.TempDir()
	cfg := Config{Root: root, IndexOnStartup: true, LazyCommand: func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLazyfsServerProcess$")
		cmd.Env = append(os.Environ(), lazyServerEnv+"="+root)
		return cmd
	}}
	if mut != nil {
		mut(&cfg)
	}
	e := openService(t, cfg, Deps{Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		<-e.startup
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if pid, err := e.lazy.Ping(ctx); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		ents, _ := os.ReadDir(filepath.Join(root, "lazy"))
		for _, ent := range ents {
			unix.Unmount(filepath.Join(root, "lazy", ent.Name()), unix.MNT_DETACH)
		}
	})
	return e
}

// reopen opens another service on e's data root with cfg's indexing, as a daemon
// restarted on it: e's start-up work is done first.
func reopen(t *testing.T, e *Service, indexOnStartup bool) *Service {
	t.Helper()
	<-e.startup
	return openService(t, Config{Root: e.cfg.Root, IndexOnStartup: indexOnStartup, LazyCommand: e.cfg.LazyCommand}, Deps{})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func busyboxTar(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/busybox.tar")
	if err != nil {
		testutil.Unavailable(t, "testdata/busybox.tar: %v (make testdata)", err)
	}
	return b
}

func TestLazyLayerDirsAndPrune(t *testing.T) {
	e := testEngine(t, nil)
	ctx := context.Background()
	img, err := e.store.Import(ctx, bytes.NewReader(busyboxTar(t)), "busybox:lazy")
	if err != nil {
		t.Fatal(err)
	}
	layer := img.Layers[0].Digest
	if _, err := os.Stat(toc.Path(e.blobPath(layer))); err != nil {
		t.Errorf("import did not index its layer (OnLayer hook): %v", err)
	}
	// Import unpacks the layer too (for runs that are not lazy): what is checked below is
	// that a lazy start does not.
	if err := os.RemoveAll(filepath.Join(e.cfg.Root, "extracted", layer.Encoded())); err != nil {
		t.Fatal(err)
	}
	dirs, err := e.LazyLayerDirs(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 1 || dirs[0] != filepath.Join(e.cfg.Root, "lazy", layer.Encoded()) {
		t.Fatalf("lazy dirs %v", dirs)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.Root, "extracted", layer.Encoded())); err == nil {
		t.Error("lazy start unpacked the layer")
	}
	want, _ := os.ReadFile("/bin/busybox")
	got, err := os.ReadFile(filepath.Join(dirs[0], "bin/busybox"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("busybox through the lazy mount: %d bytes, %v", len(got), err)
	}
	if l, _ := os.Readlink(filepath.Join(dirs[0], "bin/sh")); l != "busybox" {
		t.Errorf("bin/sh -> %q", l)
	}

	du, err := e.DiskUsage(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if du.Images.Count != 1 || du.Images.SizeBytes < 1<<20 || du.LazyCache.Count != 1 || du.LazyCache.SizeBytes < 1<<20 ||
		du.LazyCache.ReclaimableBytes != 0 || du.Total.SizeBytes < du.Images.SizeBytes+du.LazyCache.SizeBytes {
		t.Errorf("df: %+v", du)
	}

	// Referenced: prune keeps the mount, the blob and its index.
	r, err := e.Prune(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.BlobsRemoved != 0 || r.FuseMountsKilled != 0 {
		t.Errorf("prune of a referenced image: %+v", r)
	}
	if _, err := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); err != nil {
		t.Errorf("mount broken by prune: %v", err)
	}

	pruneLazyAfterRemove(t, e, layer, dirs)
	if _, err := os.Stat(filepath.Join(e.cfg.Root, "index.json")); err != nil {
		t.Errorf("index.json: %v", err)
	}
}

// pruneLazyAfterRemove removes the image of a lazy layer: a stopped container still using
// the layer keeps it; once the container is gone, prune removes the blob, its index, mount
// and cache.
func pruneLazyAfterRemove(t *testing.T, e *Service, layer digest.Digest, dirs []string) {
	t.Helper()
	ctx := context.Background()
	// A (stopped) container using the layer keeps it after rmi.
	cdir := filepath.Join(e.cfg.Root, "containers", "c1")
	os.MkdirAll(cdir, 0o700)
	s := &spec.Spec{ID: "c1", Dir: cdir, Rootfs: spec.Rootfs{Lower: dirs}}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Remove("busybox:lazy", false); err != nil {
		t.Fatal(err)
	}
	r, err := e.Prune(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.BlobsRemoved != 2 {
		t.Errorf("prune after rmi with a container: %+v, want its manifest and config removed", r)
	}
	if _, err := os.Stat(e.blobPath(layer)); err != nil {
		t.Errorf("layer of a stopped container removed: %v (%+v)", err, r)
	}
	if _, err := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); err != nil {
		t.Errorf("container's lazy mount broken by prune: %v", err)
	}

	// Container gone: the layer, its index, mount and cache go.
	os.RemoveAll(cdir)
	r, err = e.Prune(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.BlobsRemoved != 1 || r.FuseMountsKilled != 1 || r.BytesFreed < 1<<20 {
		t.Errorf("prune after the container went: %+v (want the layer blob and its mount)", r)
	}
	for _, p := range []string{e.blobPath(layer), toc.Path(e.blobPath(layer)), dirs[0], filepath.Join(e.cfg.Root, "cache", layer.Encoded())} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left after prune", p)
		}
	}
}

// A corrupt index.json: prune fails (500) and removes nothing.
func TestPruneCorruptIndex(t *testing.T) {
	e := testEngine(t, nil)
	orphan := filepath.Join(e.cfg.Root, "blobs", "sha256", "ab"+string(bytes.Repeat([]byte("0"), 62)))
	os.WriteFile(orphan, []byte("x"), 0o644)
	os.WriteFile(filepath.Join(e.cfg.Root, "tmp", "junk"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(e.cfg.Root, "index.json"), []byte("{not json"), 0o644)
	_, err := e.Prune(context.Background(), true)
	if err == nil {
		t.Fatal("prune with a corrupt index.json succeeded")
	}
	for _, k := range []error{errdefs.ErrInvalid, errdefs.ErrNotFound} {
		if errors.Is(err, k) {
			t.Errorf("corrupt index.json maps to %v, want a 500", k)
		}
	}
	for _, p := range []string{orphan, filepath.Join(e.cfg.Root, "tmp", "junk")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed despite the error", p)
		}
	}
}

// MINIBOX_INDEX_ON_STARTUP=0 defers indexing to the first lazy start; =1 indexes in the
// background at start.
func TestIndexOnStartup(t *testing.T) {
	for _, on := range []bool{true, false} {
		e := testEngine(t, nil)
		ctx := context.Background()
		img, err := e.store.Import(ctx, bytes.NewReader(busyboxTar(t)), "busybox:idx")
		if err != nil {
			t.Fatal(err)
		}
		<-e.startup
		idx := toc.Path(e.blobPath(img.Layers[0].Digest))
		os.Remove(idx)
		e2 := reopen(t, e, on)
		<-e2.startup
		_, err = os.Stat(idx)
		if on && err != nil {
			t.Errorf("INDEX_ON_STARTUP=1: no index after start-up: %v", err)
		}
		if !on && err == nil {
			t.Errorf("INDEX_ON_STARTUP=0: indexed at start-up")
		}
		img2, _ := e2.store.Resolve("busybox:idx")
		if _, err := e2.LazyLayerDirs(ctx, img2); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(idx); err != nil {
			t.Errorf("no index after the first lazy start: %v", err)
		}
	}
}

// Lazy mounts survive a daemon restart (the server is another process); after the server
// dies they turn stale, are detached at start and by prune, and the next lazy start mounts
// the layer again.
func TestLazyMountsAcrossRestartsAndStale(t *testing.T) {
	e := testEngine(t, nil)
	ctx := context.Background()
	img, err := e.store.Import(ctx, bytes.NewReader(busyboxTar(t)), "busybox:stale")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := e.LazyLayerDirs(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	// "Restart": a new service on the same root; the mount still answers.
	e2 := reopen(t, e, false)
	<-e2.startup
	if _, err := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); err != nil {
		t.Fatalf("lazy mount after restart: %v", err)
	}

	// The server dies: stale.
	pid, err := e2.lazy.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for !lazyfs.Stale(dirs[0]) {
		if time.Now().After(deadline) {
			t.Fatal("mount not stale after its server was killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Prune detaches it even though the image is still referenced.
	r, err := e2.Prune(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.FuseMountsKilled != 1 || r.BlobsRemoved != 0 {
		t.Errorf("prune with a stale mount: %+v", r)
	}
	if lazyfs.Mounted(dirs[0]) {
		t.Error("stale mount still mounted after prune")
	}
	// The next lazy start brings it back with a new server.
	if _, err := e2.LazyLayerDirs(ctx, img); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(filepath.Join(dirs[0], "bin/busybox")); err != nil {
		t.Errorf("remounted layer: %v", err)
	}

	// A stale mount found at start-up is detached before anything uses it.
	pid, _ = e2.lazy.Ping(ctx)
	syscall.Kill(pid, syscall.SIGKILL)
	for !lazyfs.Stale(dirs[0]) {
		time.Sleep(10 * time.Millisecond)
	}
	e3 := reopen(t, e2, false)
	<-e3.startup
	if lazyfs.Stale(dirs[0]) || lazyfs.Mounted(dirs[0]) {
		t.Error("stale mount not detached at start-up")
	}
}

// A prune while an import is half-way keeps the import's staged blob; the import then
// completes with every blob in place.
func TestPruneDuringImport(t *testing.T) {
	e := testEngine(t, nil)
	ctx := context.Background()
	tarball := busyboxTar(t)
	pr, pw := io.Pipe()
	type result struct {
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, err := e.store.Import(ctx, pr, "busybox:racing")
		done <- result{err}
	}()
	// Feed half, prune, feed the rest.
	if _, err := pw.Write(tarball[:len(tarball)/2]); err != nil {
		t.Fatal(err)
	}
	r, err := e.Prune(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.TmpRemoved != 0 {
		t.Errorf("prune removed %d tmp entries of a running import", r.TmpRemoved)
	}
	pw.Write(tarball[len(tarball)/2:])
	pw.Close()
	if res := <-done; res.err != nil {
		t.Fatalf("import after a concurrent prune: %v", res.err)
	}
	img, err := e.store.Resolve("busybox:racing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.LayerDirs(ctx, img); err != nil {
		t.Errorf("unpack after a concurrent prune: %v", err)
	}
	if r, _ := e.Prune(ctx, false); r.BlobsRemoved != 0 {
		t.Errorf("prune after the import removed %d blobs", r.BlobsRemoved)
	}
}

// --lazy says which layers it cannot serve in place: a single gzip stream of a large file
// after another has no place to start reading near it; an imported plain tar has.
func TestLazyWarnings(t *testing.T) {
	e := testEngine(t, nil)
	ctx := context.Background()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16)
	for _, name := range []string{"a", "b"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(big))})
		tw.Write(big)
	}
	tw.Close()
	zw.Close()
	img, err := e.store.Import(ctx, bytes.NewReader(buf.Bytes()), "onestream")
	if err != nil {
		t.Fatal(err)
	}
	ws := e.LazyWarnings(img)
	if len(ws) != 1 || !strings.Contains(ws[0], "cannot be served lazily") || !strings.Contains(ws[0], short(img.Layers[0].Digest)) {
		t.Errorf("warnings for a single-stream layer: %q", ws)
	}
	img, err = e.store.Import(ctx, bytes.NewReader(busyboxTar(t)), "plain")
	if err != nil {
		t.Fatal(err)
	}
	if ws := e.LazyWarnings(img); len(ws) != 0 {
		t.Errorf("warnings for an imported plain tar: %q", ws)
	}
}

// PruneBuildCache (builder prune) removes the block cache and the cache mounts and
// nothing else: an orphaned blob and tmp/ stay for system prune.
func TestPruneBuildCache(t *testing.T) {
	e := testEngine(t, nil)
	orphan := filepath.Join(e.cfg.Root, "blobs", "sha256", "ab"+string(bytes.Repeat([]byte("0"), 62)))
	mount := filepath.Join(e.cfg.Root, build.CacheMountsDir, "c0ffee", "pkg")
	block := filepath.Join(e.cfg.Root, "layers", "k1", "meta.json")
	for _, p := range []string{orphan, mount, block, filepath.Join(e.cfg.Root, "tmp", "junk")} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.PruneBuildCache(context.Background(), prune.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.BuildCache) != 2 {
		t.Errorf("report %+v", r)
	}
	for p, want := range map[string]bool{orphan: true, filepath.Join(e.cfg.Root, "tmp", "junk"): true, mount: false, block: false} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: kept %v, want %v", p, err == nil, want)
		}
	}
}
