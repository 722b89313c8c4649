package imagesvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// Summary is one row of the image list: one per name (an unnamed image has one row).
type Summary struct {
	Ref        string // the familiar name ("redis:7"); "" when unnamed
	Repository string // familiar; "" when unnamed
	Tag        string // "" when unnamed or named by digest
	ID         digest.Digest
	// Digest is the registry's digest (an index's), else the manifest's.
	Digest  digest.Digest
	Created time.Time
	Size    int64 // manifest, config and compressed layers
}

// ListImages lists one row per name (unnamed images only with all).
func (s *Service) ListImages(all bool) ([]Summary, error) {
	imgs, err := s.store.List()
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, img := range imgs {
		if img.Name == "" && !all {
			continue
		}
		out = append(out, summary(img))
	}
	return out, nil
}

func summary(img *image.Image) Summary {
	s := Summary{ID: img.ID, Size: img.Size, Digest: img.ManifestDigest}
	if img.RepoDigest != "" {
		s.Digest = img.RepoDigest
	}
	if img.Config.Created != nil {
		s.Created = *img.Config.Created
	}
	if img.Built != nil {
		// A build's config keeps a fixed time (reproducible digests); its age is this.
		s.Created = *img.Built
	}
	if r, err := oci.ParseNormalized(img.Name); err == nil {
		s.Repository, s.Tag, s.Ref = r.FamiliarName(), r.Tag, r.Familiar()
	}
	return s
}

// Details is an image as inspect shows it: the image, every name it has, and Docker's
// extensions of its config.
type Details struct {
	*image.Image
	RepoTags    []string // familiar, sorted
	RepoDigests []string // familiar name @ digest
	Healthcheck *ctrconfig.Healthcheck
	OnBuild     []string // ONBUILD triggers
	Shell       []string
}

// InspectImage resolves ref and gathers what inspect shows of it.
func (s *Service) InspectImage(ref string) (*Details, error) {
	img, err := s.store.Resolve(ref)
	if err != nil {
		return nil, err
	}
	all, err := s.store.List()
	if err != nil {
		return nil, err
	}
	out := &Details{Image: img, RepoTags: []string{}, RepoDigests: []string{}, Healthcheck: s.ImageHealthcheck(img)}
	out.OnBuild, out.Shell = s.dockerExtras(img)
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
		if rd := r.FamiliarName() + "@" + d.String(); !slices.Contains(out.RepoDigests, rd) {
			out.RepoDigests = append(out.RepoDigests, rd)
		}
	}
	sort.Strings(out.RepoTags)
	return out, nil
}

// PullEvent is one step of a pull or push: per layer, status waiting,
// downloading/uploading (current of total bytes), retrying, exists, complete; the last
// one is PullDone with the digest.
type PullEvent struct {
	Ref     string // familiar
	Status  string
	Layer   string
	Current int64
	Total   int64
	Digest  string
}

// PullDone is the Status of a pull's or push's last event.
const PullDone = "done"

// PullImage pulls ref for platform ("" = this host's) and reports progress through emit
// (nil: none), ending with the PullDone event.
func (s *Service) PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(PullEvent) error) (*image.Image, error) {
	p, err := oci.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return nil, err
	}
	if emit == nil {
		emit = func(PullEvent) error { return nil }
	}
	var emitErr error
	img, err := s.reg.Pull(ctx, s.store, ref, p, auth, func(pr registry.Progress) {
		if emitErr == nil {
			emitErr = emit(PullEvent{Ref: r.Familiar(), Status: pr.Status, Layer: pr.Layer, Current: pr.Current, Total: pr.Total})
		}
	})
	if err != nil {
		return nil, err
	}
	d := img.ManifestDigest
	if img.RepoDigest != "" {
		d = img.RepoDigest
	}
	s.log.Info("image pulled", "ref", r.String(), "digest", d.String())
	s.event(img.ID.String(), r.Familiar(), "pull")
	return img, emit(PullEvent{Ref: r.Familiar(), Status: PullDone, Digest: d.String()})
}

// PushImage pushes the local image ref names to its registry.
func (s *Service) PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(PullEvent) error) (digest.Digest, error) {
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return "", err
	}
	var emitErr error
	d, err := s.reg.Push(ctx, s.store, ref, auth, func(pr registry.Progress) {
		if emitErr == nil {
			emitErr = emit(PullEvent{Ref: r.Familiar(), Status: pr.Status, Layer: pr.Layer, Current: pr.Current, Total: pr.Total})
		}
	})
	if err != nil {
		return "", err
	}
	s.log.Info("image pushed", "ref", r.String(), "digest", d.String())
	return d, emit(PullEvent{Ref: r.Familiar(), Status: PullDone, Digest: d.String()})
}

// ImageOrPull resolves ref locally and pulls it (host platform) only when it is missing,
// as run, create and the builder's BASE do. emit may be nil.
func (s *Service) ImageOrPull(ctx context.Context, ref string, auth *registry.Auth, emit func(PullEvent) error) (*image.Image, error) {
	img, err := s.store.Resolve(ref)
	if err == nil || !errors.Is(err, errdefs.ErrNotFound) {
		return img, err
	}
	if _, perr := oci.ParseNormalized(ref); perr != nil {
		return nil, err // an ID prefix that matched nothing: nothing to pull
	}
	return s.PullImage(ctx, ref, "", auth, emit)
}

// TagImage names the image src resolves to dst.
func (s *Service) TagImage(src, dst string) (*image.Image, error) {
	img, err := s.store.Tag(src, dst)
	if err == nil {
		s.event(img.ID.String(), oci.Familiar(img.Name), "tag")
	}
	return img, err
}

// RemoveImage removes a name (or an unnamed image by ID) and returns the familiar names
// untagged. An image a container uses, or an ID several names share, needs force. Blobs
// go at prune.
func (s *Service) RemoveImage(ref string, force bool) ([]string, error) {
	img, err := s.store.Resolve(ref)
	if err != nil {
		return nil, err
	}
	if !force {
		if users := s.imageUsers(img.ID); len(users) > 0 {
			return nil, fmt.Errorf("image %s is in use by container %s; remove the container first or force: %w",
				ref, strings.Join(users, ", "), errdefs.ErrConflict)
		}
	}
	names, err := s.store.Remove(ref, force)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = oci.Familiar(n)
		s.event(img.ID.String(), names[i], "untag")
	}
	if _, err := s.store.Resolve(img.ID.String()); err != nil {
		s.event(img.ID.String(), ref, "delete")
	}
	return names, nil
}

// ResolveImages checks every ref before a save starts streaming (so a typo is a 404,
// not a broken tar).
func (s *Service) ResolveImages(refs []string) error {
	if len(refs) == 0 {
		return errdefs.Invalid("no image given to save")
	}
	for _, r := range refs {
		if _, err := s.store.Resolve(r); err != nil {
			return err
		}
	}
	return nil
}

// SaveImages writes refs as one archive (OCI layout + docker-archive) to w.
func (s *Service) SaveImages(ctx context.Context, w io.Writer, refs []string) error {
	return s.store.Save(ctx, w, refs)
}

// SaveImagesToPath is the original's POST /images/save?path: the archive is written on
// the daemon's host, outside the data root and at a path MINIBOX_BUILD_PREFIXES allows.
// It lands by rename only when complete; a failed or cancelled save leaves nothing.
func (s *Service) SaveImagesToPath(ctx context.Context, refs []string, path string) error {
	if err := hostpath.Check("path", path); err != nil {
		return err
	}
	if err := s.ResolveImages(refs); err != nil {
		return err
	}
	t, err := s.places.Create("path", path)
	if err != nil {
		return err
	}
	defer t.Abort()
	if err := s.store.Save(ctx, t, refs); err != nil {
		return err
	}
	return t.Commit("path", path)
}

// Loaded is what a load brought: the familiar names (an unnamed image's ID instead) and
// every image's ID, once each.
type Loaded struct {
	Names []string
	IDs   []string
}

// LoadImages reads an archive (any format Store.Load takes) of at most
// MINIBOX_MAX_IMPORT_SIZE bytes (413 past it).
func (s *Service) LoadImages(ctx context.Context, r io.Reader) (Loaded, error) {
	lr := hostpath.NewSizeLimit(ctx, r, s.cfg.MaxImportSize)
	imgs, err := s.store.Load(ctx, lr)
	if err = lr.Result(err); err != nil {
		return Loaded{}, err
	}
	out := Loaded{Names: []string{}, IDs: []string{}}
	for _, img := range imgs {
		if img.Name != "" {
			out.Names = append(out.Names, oci.Familiar(img.Name))
		} else {
			out.Names = append(out.Names, img.ID.String())
		}
		if !slices.Contains(out.IDs, img.ID.String()) {
			out.IDs = append(out.IDs, img.ID.String())
		}
		s.log.Info("image loaded", "name", img.Name, "id", img.ID.Encoded()[:12])
	}
	return out, nil
}

// LoadImagesFromPath loads an archive from the daemon's host: a regular file outside
// the data root (allowed prefixes only).
func (s *Service) LoadImagesFromPath(ctx context.Context, path string) (Loaded, error) {
	f, size, err := s.places.Open("path", path)
	if err != nil {
		return Loaded{}, err
	}
	defer f.Close()
	if s.cfg.MaxImportSize > 0 && size > s.cfg.MaxImportSize {
		return Loaded{}, hostpath.TooLarge(s.cfg.MaxImportSize)
	}
	return s.LoadImages(ctx, f)
}

// ImportImage turns a rootfs tarball of at most MINIBOX_MAX_IMPORT_SIZE bytes into a
// one-layer image named name.
func (s *Service) ImportImage(ctx context.Context, r io.Reader, name string) (*image.Image, error) {
	lr := hostpath.NewSizeLimit(ctx, r, s.cfg.MaxImportSize)
	img, err := s.store.Import(ctx, lr, name)
	if err = lr.Result(err); err != nil {
		return nil, err
	}
	s.log.Info("image imported", "name", img.Name, "id", img.ID.Encoded()[:12])
	s.event(img.ID.String(), oci.Familiar(img.Name), "import")
	return img, nil
}

// ImportImageFromPath imports a rootfs tarball on the daemon's host (a regular file,
// as for load).
func (s *Service) ImportImageFromPath(ctx context.Context, path, name string) (*image.Image, error) {
	f, size, err := s.places.Open("path", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if s.cfg.MaxImportSize > 0 && size > s.cfg.MaxImportSize {
		return nil, hostpath.TooLarge(s.cfg.MaxImportSize)
	}
	return s.ImportImage(ctx, f, name)
}

// CheckRegistryAuth is a login: the registry (a host, or a URL as docker login takes
// it) accepts the credentials, or ErrUnauthorized. Without a registry it is a 400: it
// never reaches the network.
func (s *Service) CheckRegistryAuth(ctx context.Context, reg string, auth registry.Auth) error {
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(reg), "https://"), "http://"), "/v1/")
	host = strings.TrimSuffix(host, "/")
	if host == "" {
		return errdefs.Invalid("registry is required: the registry host to log in to, e.g. docker.io")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.reg.CheckAuth(ctx, host, &auth)
}
