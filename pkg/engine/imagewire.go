package engine

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// ImageService is the image service the engine opened, for the daemon to hand to the HTTP
// layers.
func (e *Engine) ImageService() *imagesvc.Service { return e.imageService }

// BuildService is the build service the engine opened, for the daemon to hand to the HTTP
// layers.
func (e *Engine) BuildService() *buildsvc.Service { return e.buildService }

// openImages opens the image service (the store, the registry client, lazy layers); the
// containers core answers its questions about what containers use.
func (e *Engine) openImages() error {
	s, err := imagesvc.New(imagesvc.Config{Root: e.Root, MaxImportSize: e.Cfg.MaxImportSize,
		BuildPrefixes: e.Cfg.BuildPrefixes, Lazy: e.Cfg.Lazy, IndexOnStartup: e.Cfg.IndexOnStartup},
		imagesvc.Deps{Log: e.Log, Containers: containerUsage{e}, AfterPrune: e.nets.ReleaseBridge,
			Publish: func(ev imagesvc.Event) {
				e.publish(events.Event{Type: events.Image, Action: ev.Action, ID: ev.ID, Attributes: ev.Attributes})
			}})
	if err != nil {
		return err
	}
	e.imageService, e.Images = s, s.Store()
	return nil
}

// openBuild opens the build service over the image service's store and pulls.
func (e *Engine) openBuild() error {
	d := buildsvc.Deps{Log: e.Log, Store: e.Images, Pull: e.pullForBuild}
	if e.Cfg.IndexLayers {
		d.IndexLayer = e.imageService.IndexLayer
	}
	b, err := buildsvc.New(buildsvc.Config{Root: e.Root, Workers: e.Cfg.BuildWorkers, BuildPrefixes: e.Cfg.BuildPrefixes,
		MaxImportSize: e.Cfg.MaxImportSize}, d)
	if err != nil {
		return err
	}
	e.buildService = b
	return nil
}

// pullForBuild pulls a build's base image for this host's platform.
func (e *Engine) pullForBuild(ctx context.Context, ref string, auth *registry.Auth, progress func(buildsvc.PullProgress)) (*image.Image, error) {
	return e.imageService.PullImage(ctx, ref, "", auth, func(ev imagesvc.PullEvent) error {
		progress(buildsvc.PullProgress{Layer: ev.Layer, Status: ev.Status, Done: ev.Status == imagesvc.PullDone, Digest: ev.Digest})
		return nil
	})
}

// containerUsage is the containers core's answer to the image service: which images and
// layers containers use.
type containerUsage struct{ e *Engine }

func (u containerUsage) ImageUsers(id digest.Digest) []string { return u.e.imageUsers(id) }

func (u containerUsage) ContainerLayers() (map[digest.Digest]bool, error) {
	return u.e.ContainerLayerDigests()
}

// CommitOptions are `commit`'s: the image service's, and whether a running container is
// frozen while its filesystem is read (--pause, Docker's default).
type CommitOptions struct {
	Reference string
	Comment   string
	Author    string
	Changes   []string
	Pause     bool
}

// CommitContainer makes a new image of the container's image plus what the container
// changed (the image service writes it), and returns the new image's ID.
func (e *Engine) CommitContainer(ctx context.Context, ref string, o CommitOptions) (string, error) {
	if err := imagesvc.CheckReference(o.Reference); err != nil {
		return "", err
	}
	c, err := e.lookup(ref)
	if err != nil {
		return "", err
	}
	r := e.snapshot(c)
	if o.Pause {
		e.store.RLock()
		running := c.shim != nil
		e.store.RUnlock()
		if running && r.Status != StatusPaused {
			if err := e.cg.Freeze(cgroupPath(r.ID)); err == nil {
				defer e.cg.Thaw(cgroupPath(r.ID))
			}
		}
	}
	img, err := e.imageService.Commit(ctx, imagesvc.Container{ID: r.ID, Name: r.Name, ImageID: r.ImageID,
		UpperDir: filepath.Join(e.ctrDir(r.ID), "upper"), CreatedBy: strings.Join(r.Args, " "), Config: &r.Conf,
		// The mount points of the files the engine writes for each run, as diff hides them.
		Skip: func(p string) bool { return ctrio.HiddenFromDiff("/" + p) }},
		imagesvc.CommitOptions{Reference: o.Reference, Comment: o.Comment, Author: o.Author, Changes: o.Changes})
	if err != nil {
		return "", err
	}
	id := img.ID.String()
	e.containerEvent(&r, "commit", map[string]string{"comment": o.Comment, "imageID": id, "imageRef": oci.Familiar(img.Name)})
	return id, nil
}
