package imagesvc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/opencontainers/go-digest"
)

func TestImagesPushPullEvents(t *testing.T) {
	srv := httptest.NewServer(ggregistry.New(ggregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/e2e/app:1"
	ctx := context.Background()
	a, b := imagesService(t), imagesService(t)
	imp, err := a.ImportImage(ctx, bytes.NewReader(rootfsTar(t)), ref)
	if err != nil {
		t.Fatal(err)
	}
	var pushed []PullEvent
	if _, err := a.PushImage(ctx, ref, nil, func(ev PullEvent) error { pushed = append(pushed, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	var pulled []PullEvent
	if _, err := b.PullImage(ctx, ref, "", nil, func(ev PullEvent) error { pulled = append(pulled, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	for name, evs := range map[string][]PullEvent{"push": pushed, "pull": pulled} {
		last := evs[len(evs)-1]
		if last.Status != PullDone || !strings.HasPrefix(last.Digest, "sha256:") || last.Ref != ref {
			t.Errorf("%s: last event %+v, want done with a digest", name, last)
		}
	}
	list, err := b.ListImages(false)
	if err != nil || len(list) != 1 || list[0].ID != imp.ID || list[0].Ref != ref || list[0].Tag != "1" {
		t.Errorf("ListImages after pull = %+v, %v", list, err)
	}
	ins, err := b.InspectImage(ref)
	if err != nil || len(ins.RepoTags) != 1 || len(ins.Config.RootFS.DiffIDs) != 1 {
		t.Errorf("InspectImage = %+v, %v", ins, err)
	}
}

func TestImagesRemoveInUse(t *testing.T) {
	e := imagesService(t)
	ctx := context.Background()
	imp, err := e.ImportImage(ctx, bytes.NewReader(rootfsTar(t)), "busy")
	if err != nil {
		t.Fatal(err)
	}
	e.ctrs = users{images: map[string][]string{imp.ID.String(): {"web"}}}
	if _, err := e.RemoveImage("busy", false); !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "web") {
		t.Fatalf("RemoveImage of an image in use = %v, want a conflict naming the container", err)
	}
	names, err := e.RemoveImage("busy", true)
	if err != nil || len(names) != 1 || names[0] != "busy:latest" {
		t.Errorf("RemoveImage -f = %v, %v", names, err)
	}
}

func TestImagesHostPaths(t *testing.T) {
	e := imagesService(t)
	allowed, outside := t.TempDir(), t.TempDir()
	e.cfg.BuildPrefixes = []string{allowed}
	e.places = hostpath.New(e.cfg.Root, e.cfg.BuildPrefixes)
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
	if err != nil || len(res.Names) != 1 || res.Names[0] != "x:latest" {
		t.Errorf("load = %+v, %v", res, err)
	}
}

// Prune keeps the layers the containers core says a container uses, though no image
// names them any more, and removes them once none does; image prune keeps an image in use.
func TestPruneKeepsLayersContainersUse(t *testing.T) {
	ctx := context.Background()
	var pruned []string
	e := openService(t, Config{}, Deps{Publish: func(ev Event) {
		if ev.Action == "prune" {
			pruned = append(pruned, ev.Attributes["reclaimed"])
		}
	}})
	img, err := e.ImportImage(ctx, bytes.NewReader(rootfsTar(t)), "busy")
	if err != nil {
		t.Fatal(err)
	}
	layer := img.Layers[0].Digest
	e.ctrs = users{images: map[string][]string{img.ID.String(): {"web"}}, layers: map[digest.Digest]bool{layer: true}}
	res, err := e.PruneImages(ctx, true, prune.Filter{})
	if err != nil || len(res.Images) != 0 {
		t.Fatalf("image prune of an image in use = %+v, %v", res, err)
	}
	if _, err := e.RemoveImage("busy", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Prune(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.blobPath(layer)); err != nil {
		t.Errorf("a layer a container uses was pruned: %v", err)
	}
	e.ctrs = users{}
	r, err := e.Prune(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.blobPath(layer)); err == nil || r.BlobsRemoved == 0 {
		t.Errorf("an unused layer was kept: %+v", r)
	}
	if len(pruned) != 1 {
		t.Errorf("image prune events: %q", pruned)
	}
}
