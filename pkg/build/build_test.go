package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"github.com/minibox/minibox/pkg/build/layerview"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

// tarDir writes dir as a plain tar at out (the shape of `make testdata`'s busybox.tar).
func tarDir(t testing.TB, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			if _, err := io.Copy(tw, src); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// newTestBuilder opens a fresh data root; run may be nil.
func newTestBuilder(t testing.TB, run RunFunc) *Builder {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"tmp", "layers"} {
		os.MkdirAll(filepath.Join(root, d), 0o700)
	}
	imgs, err := image.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(root, imgs, run, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// context makes a build context with the busybox rootfs as base.tar and the given files.
func newContext(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	tarDir(t, testutil.BusyboxRootfs(t), filepath.Join(dir, "base.tar"))
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

func (e *events) states() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[string]string{}
	for _, ev := range e.evs {
		if ev.State != "" && ev.State != "START" {
			m[ev.Block] = ev.State
		}
	}
	return m
}

func (e *events) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.evs {
		if ev.Line != "" {
			fmt.Fprintf(&b, "[%s] %s\n", ev.Block, ev.Line)
		}
	}
	return b.String()
}

const copyFile = `BASE base.tar
ENV APP=demo
BLOCK config
  WORKDIR /app
  COPY conf/ ./conf/
  COPY --chown=1000:1000 --chmod=0600 secret.txt /app/secret
BLOCK web
  COPY site/index.html /var/www/index.html
BLOCK final
  NEED config web
  ENV MODE=prod
  COPY *.md /docs/
PORT 8080
LABEL org.example=yes
START ["/bin/httpd", "-f"]
`

var copyFiles = map[string]string{
	"conf/a.conf":     "a=1\n",
	"conf/b.conf":     "b=2\n",
	"conf/skip.log":   "noise\n",
	"secret.txt":      "s3cret\n",
	"site/index.html": "<h1>hi</h1>\n",
	"README.md":       "# readme\n",
	"NOTES.md":        "notes\n",
	".miniboxignore":  "*.log\n",
}

func TestBuildCopyReproducibleAndCached(t *testing.T) {
	testutil.RequirePrivileged(t) // chown of copied files
	ctxDir := newContext(t, copyFiles)
	var digests []string
	for i := range 2 {
		b := newTestBuilder(t, nil)
		var ev events
		res, err := b.Build(context.Background(), Request{File: []byte(copyFile), Context: ctxDir, Tags: []string{"demo:1"}}, ev.add)
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, ev.text())
		}
		digests = append(digests, res.Digest)
		img, err := b.Images.Resolve("demo:1")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(img.Config.Config.Env, " "); !strings.Contains(got, "APP=demo") || !strings.Contains(got, "MODE=prod") {
			t.Errorf("env %q", got)
		}
		if _, ok := img.Config.Config.ExposedPorts["8080/tcp"]; !ok || img.Config.Config.Labels["org.example"] != "yes" || img.Config.Config.Cmd[0] != "/bin/httpd" {
			t.Errorf("config %+v", img.Config.Config)
		}
		if img.Config.Config.WorkingDir != "/app" {
			t.Errorf("workdir %q", img.Config.Config.WorkingDir)
		}
		// base + config + web + final
		if len(img.Layers) != 4 {
			t.Errorf("%d layers", len(img.Layers))
		}
		dirs, err := b.Images.LayerDirs(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		v := layerview.New(dirs)
		for _, want := range []string{"app/conf/a.conf", "app/conf/b.conf", "app/secret", "var/www/index.html", "docs/README.md", "docs/NOTES.md", "bin/busybox"} {
			if _, err := v.Lstat(want); err != nil {
				t.Errorf("image lacks /%s", want)
			}
		}
		if _, err := v.Lstat("app/conf/skip.log"); err == nil {
			t.Errorf("ignored file copied")
		}
		fi, _ := v.Lstat("app/secret")
		if uid, gid := layerview.Owner(fi); fi == nil || uid != 1000 || gid != 1000 || fi.Mode().Perm() != 0o600 {
			t.Errorf("secret %v %d:%d", fi.Mode(), uid, gid)
		}

		// Nothing changed: every block CACHED, same digest.
		var ev2 events
		t0 := time.Now()
		res2, err := b.Build(context.Background(), Request{File: []byte(copyFile), Context: ctxDir, Tags: []string{"demo:1"}}, ev2.add)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("cached rebuild took %v", time.Since(t0))
		for blk, st := range ev2.states() {
			if st != "CACHED" {
				t.Errorf("rebuild: %s %s", blk, st)
			}
		}
		if res2.Digest != res.Digest {
			t.Errorf("rebuild digest %s != %s", res2.Digest, res.Digest)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two data roots gave %v", digests)
	}
}

func TestBuildTouchReRunsDependents(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctxDir := newContext(t, copyFiles)
	b := newTestBuilder(t, nil)
	req := Request{File: []byte(copyFile), Context: ctxDir, Tags: []string{"demo"}}
	if _, err := b.Build(context.Background(), req, func(Event) {}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctxDir, "site/index.html"), []byte("<h1>changed</h1>\n"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "conf/other.log"), []byte("ignored, so no rebuild\n"), 0o644)
	var ev events
	if _, err := b.Build(context.Background(), req, ev.add); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"config": "CACHED", "web": "DONE", "final": "DONE"}
	if got := ev.states(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	b := newTestBuilder(t, nil)
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "x"), []byte("x"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(ctxDir, "escape"))
	for _, tc := range []struct{ file, want string }{
		{"", "MiniBox content is required"},
		{"BASE scratch\nBLOCK a\n  NEED b\n", "MiniBox:3:8: unknown block \"b\""},
		{"BASE scratch\nBLOCK a\n  COPY ../x /x\n", "MiniBox:3:3: COPY source ../x is outside the build context"},
		{"BASE scratch\nBLOCK a\n  COPY escape /x\n", "COPY source escape is outside the build context"},
		{"BASE scratch\nBLOCK a\n  COPY nope /x\n", "COPY source nope not found in the build context"},
		{"BASE scratch\nBLOCK a\n  WORKDIR ${NOPE}\n", "MiniBox:3:11: unknown variable ${NOPE}"},
		{"BASE scratch\nBLOCK a\n  PKG curl\n", "PKG needs apk, apt-get or dnf; scratch has none"},
	} {
		_, err := b.Build(context.Background(), Request{File: []byte(tc.file), Context: ctxDir}, func(Event) {})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.file, err, tc.want)
		}
	}
	_, err := b.Build(context.Background(), Request{File: []byte("BASE scratch\n"), Context: ctxDir, Target: "zz"}, func(Event) {})
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("unknown target: %v", err)
	}
	var pl parse.ErrorList
	_, err = b.Build(context.Background(), Request{File: []byte("BASE scratch\nFOO\nBLOCK a\n  BAR\n"), Context: ctxDir}, func(Event) {})
	if !errors.As(err, &pl) || len(pl) != 2 {
		t.Errorf("parse errors: %v", err)
	}
}

// meeting is a barrier for fakeRun's "meet N"; uncancelled counts the "wait-for-cancel"
// runs the build never cancelled.
var (
	meeting     barrier
	uncancelled atomic.Int32
)

type barrier struct {
	mu   sync.Mutex
	n    int
	full chan struct{}
}

// arrive waits until n arrivals are in, or a minute has passed (false).
func (b *barrier) arrive(n int) bool {
	b.mu.Lock()
	if b.full == nil {
		b.full = make(chan struct{})
	}
	full := b.full
	b.n++
	if b.n == n {
		close(full)
		b.n, b.full = 0, nil
	}
	b.mu.Unlock()
	select {
	case <-full:
		return true
	case <-time.After(time.Minute):
		return false
	}
}

// fakeRun stands in for container.RunOnce: "sleep N" sleeps, "fail" exits 3 after output,
// anything else writes the command into /ran in the upper dir.
func fakeRun(ctx context.Context, s *spec.Spec, stdout, stderr io.Writer) (int, error) {
	cmd := s.Process.Args[2]
	switch {
	case strings.HasPrefix(cmd, "sleep "):
		var d float64
		fmt.Sscan(strings.TrimPrefix(cmd, "sleep "), &d)
		select {
		case <-time.After(time.Duration(d * float64(time.Second))):
		case <-ctx.Done():
			return 137, nil
		}
		return 0, nil
	case strings.HasPrefix(cmd, "meet "):
		// Returns once N blocks are in "meet N" at the same time: only blocks that run
		// in parallel can pass it.
		var n int
		fmt.Sscan(strings.TrimPrefix(cmd, "meet "), &n)
		if meeting.arrive(n) {
			return 0, nil
		}
		return 1, nil
	case cmd == "wait-for-cancel":
		// Ends only when the build cancels it; the bound only keeps a broken build from
		// hanging the test.
		select {
		case <-ctx.Done():
			return 137, nil
		case <-time.After(time.Minute):
			uncancelled.Add(1)
			return 1, nil
		}
	case cmd == "fail":
		for i := range 30 {
			fmt.Fprintf(stdout, "line %d\n", i)
		}
		fmt.Fprint(stderr, "no newline at the end")
		return 3, nil
	}
	f, err := os.OpenFile(filepath.Join(s.Rootfs.Upper, "ran"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fmt.Fprintf(f, "%s env=%v cwd=%s\n", cmd, s.Process.Env, s.Process.Cwd)
	return 0, nil
}

func TestBuildParallelAndFailure(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctxDir := newContext(t, nil)
	b := newTestBuilder(t, fakeRun)
	b.Workers = 3
	// Three independent blocks must all be running at once to pass their barrier.
	file := "BASE base.tar\nBLOCK a\n  RUN meet 3\nBLOCK b\n  RUN meet 3\nBLOCK c\n  RUN meet 3\nBLOCK d\n  NEED a\n  BNEED b c\n  RUN echo hi\n"
	if _, err := b.Build(context.Background(), Request{File: []byte("BASE base.tar\n"), Context: ctxDir}, func(Event) {}); err != nil {
		t.Fatal(err) // unpacks the base, which is not what this test times
	}
	var ev events
	res, err := b.Build(context.Background(), Request{File: []byte(file), Context: ctxDir}, ev.add)
	if err != nil {
		t.Fatal("three independent blocks did not run at once: ", err, ev.text())
	}
	if len(res.CriticalPath) != 2 || res.CriticalPath[1] != "d" {
		t.Errorf("critical path %v", res.CriticalPath)
	}

	var ev2 events
	_, err = b.Build(context.Background(), Request{File: []byte("BASE base.tar\nBLOCK slow\n  RUN wait-for-cancel\nBLOCK bad\n  RUN fail\nBLOCK after\n  NEED bad\n  RUN echo never\n"), Context: ctxDir}, ev2.add)
	var be *BlockError
	if !errors.As(err, &be) || be.Block != "bad" || len(be.LastLines) != 20 || be.LastLines[19] != "no newline at the end" {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(err.Error(), "MiniBox:5:3: RUN exited with code 3") {
		t.Errorf("error %v", err)
	}
	if st := ev2.states(); st["after"] != "" || st["slow"] != "FAILED" {
		t.Errorf("states after failure %v", st)
	}
	if uncancelled.Load() != 0 {
		t.Errorf("the failure did not cancel the slow block: the build waited for it")
	}
}

func TestBuildKeyIgnoresNames(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctxDir := newContext(t, map[string]string{"f.txt": "x\n"})
	os.Chmod(ctxDir, 0o700)
	b := newTestBuilder(t, fakeRun)
	file := "BASE base.tar\nBLOCK one\n  COPY . /app\n  RUN echo one\nBLOCK two\n  NEED one\n  RUN echo two\n"
	if _, err := b.Build(context.Background(), Request{File: []byte(file), Context: ctxDir}, func(Event) {}); err != nil {
		t.Fatal(err)
	}
	renamed := strings.NewReplacer("one", "first", "two", "second").Replace(file)
	renamed = strings.ReplaceAll(renamed, "echo first", "echo one")
	renamed = strings.ReplaceAll(renamed, "echo second", "echo two")
	var ev events
	res, err := b.Build(context.Background(), Request{File: []byte(renamed), Context: ctxDir}, ev.add)
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.states(); got["first"] != "CACHED" || got["second"] != "CACHED" {
		t.Errorf("renamed blocks rebuilt: %v", got)
	}
	img, _ := b.Images.Resolve(res.Digest)
	dirs, _ := b.Images.LayerDirs(context.Background(), img)
	fi, err := layerview.New(dirs).Lstat("app")
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("COPY . /app made /app %v (%v), want 0755 whatever the context's mode", fi.Mode(), err)
	}
	// SOURCE_DATE_EPOCH changes the layers' mtimes, so the digest.
	res2, err := b.Build(context.Background(), Request{File: []byte(file), Context: ctxDir, BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}}, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Digest == res.Digest {
		t.Errorf("SOURCE_DATE_EPOCH did not change the digest")
	}
}

func TestBuildPerBlockBase(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctxDir := newContext(t, map[string]string{"f.txt": "data\n"})
	b := newTestBuilder(t, nil)
	file := "BASE base.tar\nBLOCK data\n  BASE scratch\n  COPY f.txt /f.txt\nBLOCK app\n  COPY FROM=data /f.txt /srv/g.txt\n"
	var ev events
	res, err := b.Build(context.Background(), Request{File: []byte(file), Context: ctxDir, Tags: []string{"pb"}}, ev.add)
	if err != nil {
		t.Fatalf("%v\n%s", err, ev.text())
	}
	img, err := b.Images.Resolve("pb")
	if err != nil {
		t.Fatal(err)
	}
	// base.tar and app's layer; data is build-only.
	if len(img.Layers) != 2 || len(res.Blocks) != 2 {
		t.Errorf("%d layers, %d blocks", len(img.Layers), len(res.Blocks))
	}
	dirs, _ := b.Images.LayerDirs(context.Background(), img)
	v := layerview.New(dirs)
	if _, err := v.Lstat("srv/g.txt"); err != nil {
		t.Errorf("COPY FROM= a scratch block: %v", err)
	}
	if _, err := v.Lstat("f.txt"); err == nil {
		t.Errorf("the build-only block's file reached the image")
	}
	_, err = b.Build(context.Background(), Request{File: []byte("BASE base.tar\nBLOCK data\n  BASE scratch\nBLOCK app\n  NEED data\n"), Context: ctxDir}, func(Event) {})
	if err == nil || !strings.Contains(err.Error(), "MiniBox:5:8: NEED across bases") {
		t.Errorf("NEED across bases: %v", err)
	}
}
