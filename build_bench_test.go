package main

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkBuild measures builds of testdata/build/bench (4 blocks) cold (--no-cache) and
// cached, and the 3×sleep-2 file of testdata/build/parallel, with real build containers;
// podman builds the equivalent Dockerfile, when installed, on storage of its own.
//
//	MINIBOX_TEST_PRIVILEGED=1 go test -run '^$' -bench Build -benchtime 5x .
func BenchmarkBuild(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	bld := benchBuilder(b)
	ctxDir := benchContext(b, "testdata/build/bench")
	req := build.Request{File: mustRead(b, filepath.Join(ctxDir, "MiniBox")), Context: ctxDir, Tags: []string{"bench"}}
	if _, err := bld.Build(context.Background(), req, func(build.Event) {}); err != nil {
		b.Fatal(err) // unpacks the base once: not what the cases time
	}
	b.Run("minibox/cold", func(b *testing.B) {
		r := req
		r.NoCache = true
		for b.Loop() {
			if _, err := bld.Build(context.Background(), r, func(build.Event) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("minibox/cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := bld.Build(context.Background(), req, func(build.Event) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("minibox/parallel-3x-sleep-2", func(b *testing.B) {
		par := benchContext(b, "testdata/build/parallel")
		p := build.Request{File: mustRead(b, filepath.Join(par, "MiniBox")), Context: par, NoCache: true}
		w := bld.Workers
		bld.Workers = 3
		defer func() { bld.Workers = w }()
		for b.Loop() {
			if _, err := bld.Build(context.Background(), p, func(build.Event) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// podman builds the equivalent Dockerfile on state of its own, removed with the
	// benchmark's directory (its defaults, /var/lib/containers, /run/containers and
	// /run/runc, would outlive the run). bench/BenchmarkBuildDockerfile measures BuildKit.
	if _, err := exec.LookPath("podman"); err != nil {
		return
	}
	base := testutil.PodmanArgs(b, b.TempDir())
	podman := func(args ...string) *exec.Cmd {
		return exec.Command("podman", append(slices.Clone(base), args...)...)
	}
	b.Run("podman/cold", func(b *testing.B) {
		for b.Loop() {
			if out, err := podman("build", "-q", "--no-cache", "-t", "minibox-bench", ctxDir).CombinedOutput(); err != nil {
				b.Fatalf("podman build: %v\n%s", err, out)
			}
		}
	})
	b.Run("podman/cached", func(b *testing.B) {
		for b.Loop() {
			if out, err := podman("build", "-q", "-t", "minibox-bench", ctxDir).CombinedOutput(); err != nil {
				b.Fatalf("podman build: %v\n%s", err, out)
			}
		}
	})
	b.Cleanup(func() {
		// Its storage's overlay mounts and layers go with it before the directory does.
		podman("system", "reset", "-f").Run()
	})
}

func benchBuilder(b *testing.B) *build.Builder {
	root := b.TempDir()
	for _, d := range []string{"tmp", "layers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			b.Fatal(err)
		}
	}
	imgs, err := image.Open(root, nil)
	if err != nil {
		b.Fatal(err)
	}
	bld, err := build.New(root, imgs, shimclient.RunOnce, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return bld
}

// benchContext copies a fixture to a temp dir and adds the busybox rootfs as base.tar.
func benchContext(b *testing.B, fixture string) string {
	dir := b.TempDir()
	if out, err := exec.Command("cp", "-a", fixture+"/.", dir).CombinedOutput(); err != nil {
		b.Fatalf("copy %s: %v\n%s", fixture, err, out)
	}
	if _, err := os.Stat("testdata/busybox.tar"); err == nil {
		if out, err := exec.Command("cp", "testdata/busybox.tar", filepath.Join(dir, "base.tar")).CombinedOutput(); err != nil {
			b.Fatalf("copy busybox.tar: %v\n%s", err, out)
		}
		return dir
	}
	writeTar(b, testutil.BusyboxRootfs(b), filepath.Join(dir, "base.tar"))
	return dir
}

func writeTar(b *testing.B, src, out string) {
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	defer tw.Close()
	err = filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		link, _ := os.Readlink(p)
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name, h.ModTime = filepath.ToSlash(rel), time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			r, err := os.Open(p)
			if err != nil {
				return err
			}
			defer r.Close()
			if _, err := io.Copy(tw, r); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

func mustRead(b *testing.B, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
