package prune

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/testutil"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// staleMount leaves a FUSE mount at dir whose server is gone: the /dev/fuse fd is closed
// right after mounting, as when lazyfs is killed.
func staleMount(t *testing.T, dir string) {
	t.Helper()
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0", fd)
	if err := unix.Mount("minibox-test", dir, "fuse", unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
		unix.Close(fd)
		t.Fatalf("mount fuse: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	unix.Close(fd)
}

// liveMount serves a one-file layer at lazy/<hex> of root with lazyfs, as the server does.
func liveMount(t *testing.T, root string) digest.Digest {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi\n"))
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	d := digest.FromBytes(gz.Bytes())
	p := lazyfs.Paths{Root: root}
	os.MkdirAll(filepath.Dir(p.Blob(d)), 0o755)
	os.WriteFile(p.Blob(d), gz.Bytes(), 0o644)
	x, err := toc.BuildFile(p.Blob(d), d)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lazyfs.Open(x, p.Blob(d), p.Cache(d), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(p.Mount(d), 0o755)
	srv, err := lazyfs.Mount(p.Mount(d), l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Unmount(p.Mount(d), unix.MNT_DETACH)
		srv.Unmount()
		l.Close()
	})
	if b, err := os.ReadFile(filepath.Join(p.Mount(d), "hello")); err != nil || string(b) != "hi\n" {
		t.Fatalf("live mount read: %q %v", b, err)
	}
	return d
}

func TestMounts(t *testing.T) {
	testutil.RequirePrivileged(t, testutil.FUSE)
	tr := fixture(t)
	stale := filepath.Join(tr.root, "lazy", hex("kept")) // even a kept layer's dead mount goes
	os.MkdirAll(stale, 0o755)
	staleMount(t, stale)
	unused := liveMount(t, tr.root)
	inUse := liveMount(t, tr.root+"/x") // another root: not ours
	_ = inUse
	used := filepath.Join(tr.root, "lazy", hex("used"))
	os.MkdirAll(used, 0o755)

	o := opts(tr)
	p, err := Make(o)
	if err != nil {
		t.Fatal(err)
	}
	var mounts []string
	for _, a := range p.Actions {
		if a.Kind == Mount {
			mounts = append(mounts, fmt.Sprintf("%s stale=%v live=%v", filepath.Base(a.Paths[0])[:6], a.Stale, a.Live))
		}
	}
	want := map[string]bool{
		hex("kept")[:6] + " stale=true live=true":       true,
		unused.Encoded()[:6] + " stale=false live=true": true,
		hex("orphan")[:6] + " stale=false live=false":   true,
	}
	if len(mounts) != len(want) {
		t.Errorf("mount actions %v", mounts)
	}
	for _, m := range mounts {
		if !want[m] {
			t.Errorf("unexpected mount action %s (want %v)", m, want)
		}
	}
	r := p.Apply(slog.New(slog.DiscardHandler))
	if r.FuseMountsKilled != 2 {
		t.Errorf("fuse mounts killed %d, want 2 (stale and unused)", r.FuseMountsKilled)
	}
	for _, dir := range []string{stale, filepath.Join(tr.root, "lazy", unused.Encoded()), filepath.Join(tr.root, "cache", unused.Encoded())} {
		if _, err := os.Lstat(dir); err == nil {
			t.Errorf("%s left", dir)
		}
	}
	if _, err := os.Stat(used); err != nil {
		t.Errorf("used layer's mount dir removed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(tr.root, "x/lazy", inUse.Encoded(), "hello")); err != nil || string(b) != "hi\n" {
		t.Errorf("mount of another root broken: %q %v", b, err)
	}
}
