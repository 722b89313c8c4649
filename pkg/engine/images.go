package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/opencontainers/go-digest"
)

// imagesArea is the engine's image side: the store in the data root and the registry
// client. It keeps no credentials: each pull or push brings its own.
type imagesArea struct {
	Images   *image.Store
	Registry *registry.Client
	// ImageUsers, set by the containers area, names the containers (running or stopped)
	// that use the image with config digest id; rmi refuses those without force.
	ImageUsers func(id digest.Digest) []string
}

func (e *Engine) openImages() error {
	st, err := image.Open(e.Root, e.Log.With("area", "images"))
	if err != nil {
		return fmt.Errorf("open image store: %w", err)
	}
	st.MaxLoadSize = e.Cfg.MaxImportSize
	e.Images = st
	e.Registry = registry.New(e.Log.With("area", "registry"))
	return nil
}

// ListImages answers GET /images: one row per name (unnamed images only with all).
func (e *Engine) ListImages(all bool) ([]api.ImageSummary, error) {
	imgs, err := e.Images.List()
	if err != nil {
		return nil, err
	}
	out := []api.ImageSummary{}
	for _, img := range imgs {
		if img.Name == "" && !all {
			continue
		}
		out = append(out, summary(img))
	}
	return out, nil
}

func summary(img *image.Image) api.ImageSummary {
	s := api.ImageSummary{Repository: "<none>", Tag: "<none>", ID: img.ID.String(), SizeBytes: img.Size,
		Digest: img.ManifestDigest.String()}
	if img.RepoDigest != "" {
		s.Digest = img.RepoDigest.String()
	}
	if img.Config.Created != nil {
		s.Created = *img.Config.Created
	}
	if img.Built != nil {
		// A build's config keeps a fixed time (reproducible digests); its age is this.
		s.Created = *img.Built
	}
	if r, err := oci.ParseNormalized(img.Name); err == nil {
		s.Repository = r.FamiliarName()
		if r.Tag != "" {
			s.Tag = r.Tag
		}
		s.Name = r.Familiar()
	} else {
		s.Name = "<none>:<none>"
	}
	return s
}

// InspectImage answers GET /images/inspect in Docker's shape.
func (e *Engine) InspectImage(ref string) (*api.ImageInspect, error) {
	img, err := e.Images.Resolve(ref)
	if err != nil {
		return nil, err
	}
	all, err := e.Images.List()
	if err != nil {
		return nil, err
	}
	c := img.Config
	out := &api.ImageInspect{
		ID: img.ID.String(), RepoTags: []string{}, RepoDigests: []string{}, Created: c.Created, Author: c.Author,
		Architecture: c.Architecture, Variant: c.Variant, OS: c.OS, Size: img.Size,
		Config: api.ImageConfig{User: c.Config.User, ExposedPorts: c.Config.ExposedPorts, Env: c.Config.Env,
			Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Volumes: c.Config.Volumes,
			WorkingDir: c.Config.WorkingDir, Labels: c.Config.Labels, StopSignal: c.Config.StopSignal},
		RootFS:   api.ImageRootFS{Type: c.RootFS.Type, Layers: []string{}},
		Manifest: api.ImageManifestInfo{Digest: img.ManifestDigest.String(), MediaType: img.Manifest.MediaType},
	}
	if h := e.imageHealthcheck(img); h != nil {
		out.Config.Healthcheck = &api.ImageHealthcheck{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout), StartPeriod: int64(h.StartPeriod), Retries: h.Retries}
	}
	out.Config.OnBuild, out.Config.Shell = e.imageDockerExtras(img)
	for _, d := range c.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, d.String())
	}
	for _, l := range img.Layers {
		out.Manifest.Layers = append(out.Manifest.Layers, api.ImageLayer{Digest: l.Digest.String(), MediaType: l.MediaType, Size: l.Size})
	}
	for _, h := range c.History {
		out.History = append(out.History, api.ImageHistoryEntry{Created: h.Created, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	// Every name of this image, as docker inspect lists them.
	for _, o := range all {
		if o.ID != img.ID || o.Name == "" {
			continue
		}
		r, err := oci.ParseNormalized(o.Name)
		if err != nil {
			continue
		}
		if r.Tag != "" {
			out.RepoTags = append(out.RepoTags, r.Familiar())
		}
		d := o.RepoDigest
		if d == "" {
			d = o.ManifestDigest
		}
		if rd := r.FamiliarName() + "@" + d.String(); !imagesHas(out.RepoDigests, rd) {
			out.RepoDigests = append(out.RepoDigests, rd)
		}
	}
	sort.Strings(out.RepoTags)
	return out, nil
}

func imagesHas(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// PullImage pulls ref for platform ("" = this host's) and reports progress through emit,
// ending with the done event.
func (e *Engine) PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(api.PullEvent) error) (*image.Image, error) {
	p, err := oci.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return nil, err
	}
	var emitErr error
	img, err := e.Registry.Pull(ctx, e.Images, ref, p, auth, func(pr registry.Progress) {
		if emitErr == nil {
			emitErr = emit(api.PullEvent{Ref: r.Familiar(), Status: pr.Status, Layer: pr.Layer, Current: pr.Current, Total: pr.Total})
		}
	})
	if err != nil {
		return nil, err
	}
	d := img.ManifestDigest
	if img.RepoDigest != "" {
		d = img.RepoDigest
	}
	e.Log.Info("image pulled", "ref", r.String(), "digest", d.String())
	e.imageEvent(img.ID.String(), r.Familiar(), "pull")
	return img, emit(api.PullEvent{Ref: r.Familiar(), Status: api.PullDone, Digest: d.String()})
}

// PushImage pushes the local image ref names to its registry.
func (e *Engine) PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(api.PullEvent) error) (digest.Digest, error) {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return "", err
	}
	var emitErr error
	d, err := e.Registry.Push(ctx, e.Images, ref, auth, func(pr registry.Progress) {
		if emitErr == nil {
			emitErr = emit(api.PullEvent{Ref: r.Familiar(), Status: pr.Status, Layer: pr.Layer, Current: pr.Current, Total: pr.Total})
		}
	})
	if err != nil {
		return "", err
	}
	e.Log.Info("image pushed", "ref", r.String(), "digest", d.String())
	return d, emit(api.PullEvent{Ref: r.Familiar(), Status: api.PullDone, Digest: d.String()})
}

// ImageOrPull resolves ref locally and pulls it (host platform) only when it is missing,
// as run, create and the builder's BASE do. emit may be nil.
func (e *Engine) ImageOrPull(ctx context.Context, ref string, auth *registry.Auth, emit func(api.PullEvent) error) (*image.Image, error) {
	img, err := e.Images.Resolve(ref)
	if err == nil || !errors.Is(err, errdefs.ErrNotFound) {
		return img, err
	}
	if _, perr := oci.ParseNormalized(ref); perr != nil {
		return nil, err // an ID prefix that matched nothing: nothing to pull
	}
	if emit == nil {
		emit = func(api.PullEvent) error { return nil }
	}
	return e.PullImage(ctx, ref, "", auth, emit)
}

// TagImage names the image src resolves to dst.
func (e *Engine) TagImage(src, dst string) (*image.Image, error) {
	img, err := e.Images.Tag(src, dst)
	if err == nil {
		e.imageEvent(img.ID.String(), oci.Familiar(img.Name), "tag")
	}
	return img, err
}

func (e *Engine) imageEvent(id, name, action string) {
	e.publish(Event{Type: EventImage, Action: action, ID: id, Attributes: map[string]string{"name": name}})
}

// RemoveImage removes a name (or an unnamed image by ID). An image a container uses, or
// an ID several names share, needs force. Blobs go at prune.
func (e *Engine) RemoveImage(ref string, force bool) ([]string, error) {
	img, err := e.Images.Resolve(ref)
	if err != nil {
		return nil, err
	}
	if !force && e.ImageUsers != nil {
		if users := e.ImageUsers(img.ID); len(users) > 0 {
			return nil, fmt.Errorf("image %s is in use by container %s; remove the container first or force: %w",
				ref, strings.Join(users, ", "), errdefs.ErrConflict)
		}
	}
	names, err := e.Images.Remove(ref, force)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = oci.Familiar(n)
		e.imageEvent(img.ID.String(), names[i], "untag")
	}
	if _, err := e.Images.Resolve(img.ID.String()); err != nil {
		e.imageEvent(img.ID.String(), ref, "delete")
	}
	return names, nil
}

// ResolveImages checks every ref before a save starts streaming (so a typo is a 404,
// not a broken tar).
func (e *Engine) ResolveImages(refs []string) error {
	if len(refs) == 0 {
		return errdefs.Invalid("no image given to save")
	}
	for _, r := range refs {
		if _, err := e.Images.Resolve(r); err != nil {
			return err
		}
	}
	return nil
}

// SaveImages writes refs as one archive (OCI layout + docker-archive) to w.
func (e *Engine) SaveImages(ctx context.Context, w io.Writer, refs []string) error {
	return e.Images.Save(ctx, w, refs)
}

// SaveImagesToPath is the original's POST /images/save?path: the archive is written on
// the daemon's host, outside the data root and at a path MINIBOX_BUILD_PREFIXES allows.
// It lands by rename only when complete; a failed or cancelled save leaves nothing.
func (e *Engine) SaveImagesToPath(ctx context.Context, refs []string, path string) error {
	if err := hostpath.Check("path", path); err != nil {
		return err
	}
	if err := e.ResolveImages(refs); err != nil {
		return err
	}
	t, err := e.hostPaths().Create("path", path)
	if err != nil {
		return err
	}
	defer t.Abort()
	if err := e.Images.Save(ctx, t, refs); err != nil {
		return err
	}
	return t.Commit("path", path)
}

// LoadImages reads an archive (any format Store.Load takes) of at most
// MINIBOX_MAX_IMPORT_SIZE bytes (413 past it).
func (e *Engine) LoadImages(ctx context.Context, r io.Reader) (api.ImagesLoaded, error) {
	lr := hostpath.NewSizeLimit(ctx, r, e.Cfg.MaxImportSize)
	imgs, err := e.Images.Load(ctx, lr)
	if err = lr.Result(err); err != nil {
		return api.ImagesLoaded{}, err
	}
	out := api.ImagesLoaded{Loaded: []string{}, IDs: []string{}}
	for _, img := range imgs {
		if img.Name != "" {
			out.Loaded = append(out.Loaded, oci.Familiar(img.Name))
		} else {
			out.Loaded = append(out.Loaded, img.ID.String())
		}
		if !imagesHas(out.IDs, img.ID.String()) {
			out.IDs = append(out.IDs, img.ID.String())
		}
		e.Log.Info("image loaded", "name", img.Name, "id", img.ID.Encoded()[:12])
	}
	return out, nil
}

// LoadImagesFromPath loads an archive from the daemon's host: a regular file outside
// the data root (allowed prefixes only).
func (e *Engine) LoadImagesFromPath(ctx context.Context, path string) (api.ImagesLoaded, error) {
	f, size, err := e.hostPaths().Open("path", path)
	if err != nil {
		return api.ImagesLoaded{}, err
	}
	defer f.Close()
	if e.Cfg.MaxImportSize > 0 && size > e.Cfg.MaxImportSize {
		return api.ImagesLoaded{}, hostpath.TooLarge(e.Cfg.MaxImportSize)
	}
	return e.LoadImages(ctx, f)
}

// ImportImage turns a rootfs tarball of at most MINIBOX_MAX_IMPORT_SIZE bytes into a
// one-layer image named name.
func (e *Engine) ImportImage(ctx context.Context, r io.Reader, name string) (api.ImageImported, error) {
	lr := hostpath.NewSizeLimit(ctx, r, e.Cfg.MaxImportSize)
	img, err := e.Images.Import(ctx, lr, name)
	if err = lr.Result(err); err != nil {
		return api.ImageImported{}, err
	}
	e.Log.Info("image imported", "name", img.Name, "id", img.ID.Encoded()[:12])
	e.imageEvent(img.ID.String(), oci.Familiar(img.Name), "import")
	return api.ImageImported{Name: oci.Familiar(img.Name), ID: img.ID.String()}, nil
}

// ImportImageFromPath imports a rootfs tarball on the daemon's host (a regular file,
// as for load).
func (e *Engine) ImportImageFromPath(ctx context.Context, path, name string) (api.ImageImported, error) {
	f, size, err := e.hostPaths().Open("path", path)
	if err != nil {
		return api.ImageImported{}, err
	}
	defer f.Close()
	if e.Cfg.MaxImportSize > 0 && size > e.Cfg.MaxImportSize {
		return api.ImageImported{}, hostpath.TooLarge(e.Cfg.MaxImportSize)
	}
	return e.ImportImage(ctx, f, name)
}

// CheckRegistryAuth answers POST /auth: the registry accepts the credentials, or
// ErrUnauthorized. A request without a registry is a 400: it never reaches the network.
func (e *Engine) CheckRegistryAuth(ctx context.Context, req api.AuthRequest) error {
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(req.Registry), "https://"), "http://"), "/v1/")
	host = strings.TrimSuffix(host, "/")
	if host == "" {
		return errdefs.Invalid("registry is required: the registry host to log in to, e.g. docker.io")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return e.Registry.CheckAuth(ctx, host, &registry.Auth{Username: req.Username, Password: req.Password})
}
