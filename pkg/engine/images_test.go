package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
)

func imagesEngine(t *testing.T) *Engine {
	t.Helper()
	e := &Engine{Root: t.TempDir(), Log: slog.New(slog.DiscardHandler)}
	if err := e.openImages(); err != nil {
		t.Fatal(err)
	}
	return e
}

func rootfsTar(t *testing.T) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	tw.Close()
	return b.Bytes()
}

func TestImagesPushPullEvents(t *testing.T) {
	srv := httptest.NewServer(ggregistry.New(ggregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/e2e/app:1"
	ctx := context.Background()
	a, b := imagesEngine(t), imagesEngine(t)
	imp, err := a.ImportImage(ctx, bytes.NewReader(rootfsTar(t)), ref)
	if err != nil {
		t.Fatal(err)
	}
	var pushed []api.PullEvent
	if _, err := a.PushImage(ctx, ref, nil, func(ev api.PullEvent) error { pushed = append(pushed, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	var pulled []api.PullEvent
	if _, err := b.PullImage(ctx, ref, "", nil, func(ev api.PullEvent) error { pulled = append(pulled, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	for name, evs := range map[string][]api.PullEvent{"push": pushed, "pull": pulled} {
		last := evs[len(evs)-1]
		if last.Status != api.PullDone || !strings.HasPrefix(last.Digest, "sha256:") || last.Ref != ref {
			t.Errorf("%s: last event %+v, want done with a digest", name, last)
		}
	}
	list, err := b.ListImages(false)
	if err != nil || len(list) != 1 || list[0].ID != imp.ID || list[0].Name != ref || list[0].Tag != "1" {
		t.Errorf("ListImages after pull = %+v, %v", list, err)
	}
	ins, err := b.InspectImage(ref)
	if err != nil || len(ins.RepoTags) != 1 || len(ins.RootFS.Layers) != 1 {
		t.Errorf("InspectImage = %+v, %v", ins, err)
	}
}

func TestImagesRemoveInUse(t *testing.T) {
	e := imagesEngine(t)
	ctx := context.Background()
	imp, err := e.ImportImage(ctx, bytes.NewReader(rootfsTar(t)), "busy")
	if err != nil {
		t.Fatal(err)
	}
	e.ImageUsers = func(id digest.Digest) []string {
		if id.String() == imp.ID {
			return []string{"web"}
		}
		return nil
	}
	if _, err := e.RemoveImage("busy", false); !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "web") {
		t.Fatalf("RemoveImage of an image in use = %v, want a conflict naming the container", err)
	}
	names, err := e.RemoveImage("busy", true)
	if err != nil || len(names) != 1 || names[0] != "busy:latest" {
		t.Errorf("RemoveImage -f = %v, %v", names, err)
	}
}

func TestImagesHostPaths(t *testing.T) {
	e := imagesEngine(t)
	allowed, outside := t.TempDir(), t.TempDir()
	e.Cfg.BuildPrefixes = []string{allowed}
	os.WriteFile(filepath.Join(outside, "rootfs.tar"), rootfsTar(t), 0o644)
	os.Symlink(filepath.Join(outside, "rootfs.tar"), filepath.Join(allowed, "link.tar"))
	os.WriteFile(filepath.Join(allowed, "rootfs.tar"), rootfsTar(t), 0o644)
	ctx := context.Background()
	for _, p := range []string{filepath.Join(outside, "rootfs.tar"), filepath.Join(allowed, "link.tar"), allowed + "/../" + filepath.Base(outside) + "/rootfs.tar"} {
		if _, err := e.ImportImageFromPath(ctx, p, "x"); !errors.Is(err, errdefs.ErrForbidden) {
			t.Errorf("import from %s = %v, want forbidden", p, err)
		}
	}
	if _, err := e.ImportImageFromPath(ctx, "relative.tar", "x"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("relative path = %v, want invalid", err)
	}
	if _, err := e.ImportImageFromPath(ctx, filepath.Join(allowed, "rootfs.tar"), "x"); err != nil {
		t.Errorf("import from an allowed path = %v", err)
	}
	if err := e.SaveImagesToPath(ctx, []string{"x"}, filepath.Join(outside, "out.tar")); !errors.Is(err, errdefs.ErrForbidden) {
		t.Errorf("save outside = %v, want forbidden", err)
	}
	out := filepath.Join(allowed, "out.tar")
	if err := e.SaveImagesToPath(ctx, []string{"x"}, out); err != nil {
		t.Fatal(err)
	}
	res, err := e.LoadImagesFromPath(ctx, out)
	if err != nil || len(res.Loaded) != 1 || res.Loaded[0] != "x:latest" {
		t.Errorf("load = %+v, %v", res, err)
	}
}
