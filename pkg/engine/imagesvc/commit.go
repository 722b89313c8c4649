package imagesvc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/layer"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/spec"
)

// CommitOptions are `commit`'s: the new image's name (empty: unnamed), the history
// comment (-m) and author (-a), and Dockerfile instructions to apply (-c).
type CommitOptions struct {
	Reference string
	Comment   string
	Author    string
	Changes   []string
}

// Container is what a commit reads of a container, handed by the containers core (which
// freezes a running container while its filesystem is read, if asked to).
type Container struct {
	ID      string
	Name    string
	ImageID string // the container's image, by config digest
	// UpperDir is the container's overlay upper directory: what it changed.
	UpperDir string
	// Skip names the paths (relative to the root, without a leading "/") that are not the
	// container's changes: the mount points of the files the engine writes for each run.
	Skip func(path string) bool
	// CreatedBy is the container's command, for the new history step.
	CreatedBy string
	// Config is the container's configuration; its settings go into the image's config.
	Config *ctrconfig.Config
}

// commitChanges are the instructions -c takes, as Docker's commit does (but ONBUILD, which
// an OCI image config cannot hold).
var commitChanges = []string{"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// Commit makes a new image of the container's image plus one layer: what the container
// changed (its overlay upper directory, whiteouts as the OCI spells them). The image's
// config is the container's (its command, environment, labels), then the changes. It
// returns the new image.
func (s *Service) Commit(ctx context.Context, c Container, o CommitOptions) (*image.Image, error) {
	if err := CheckReference(o.Reference); err != nil {
		return nil, err
	}
	img, err := s.store.Resolve(c.ImageID)
	if err != nil {
		return nil, fmt.Errorf("commit %s: its image %s: %w", c.Name, short12(c.ImageID), err)
	}
	cfg := img.Config
	cfg.History = slices.Clone(cfg.History)
	cfg.RootFS.DiffIDs = slices.Clone(cfg.RootFS.DiffIDs)
	commitConfig(&cfg.Config, c.Config)
	for _, ch := range o.Changes {
		if err := applyChange(&cfg.Config, ch); err != nil {
			return nil, err
		}
	}
	defer s.store.Begin()() // prune keeps the blob being written
	w, err := s.store.Content().Writer(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	now := time.Now().UTC()
	res, err := layer.Write(w, c.UpperDir, layer.Options{Epoch: now, Skip: c.Skip})
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Name, err)
	}
	if _, err := w.Commit(res.Digest, res.Size); err != nil {
		return nil, err
	}
	desc := ocispec.Descriptor{MediaType: layer.MediaType, Digest: res.Digest, Size: res.Size}
	cfg.Created, cfg.Author = &now, o.Author
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, res.DiffID)
	cfg.History = append(cfg.History, ocispec.History{Created: &now, Author: o.Author, Comment: o.Comment,
		CreatedBy: c.CreatedBy})
	layers := append(slices.Clone(img.Layers), desc)
	out, err := s.store.Commit(ctx, o.Reference, cfg, layers)
	if err != nil {
		return nil, err
	}
	s.store.LayerLanded(desc)
	s.log.Info("container committed", "id", short12(c.ID), "image", short12(out.ID.String()), "name", o.Reference)
	return out, nil
}

// CheckReference checks a commit's new name ("" names nothing): a 400 naming it when it
// is not an image name.
func CheckReference(ref string) error {
	if ref == "" {
		return nil
	}
	if _, err := oci.ParseNormalized(ref); err != nil {
		return errdefs.Invalid(fmt.Sprintf("reference %q: %v", ref, err))
	}
	return nil
}

// commitConfig puts the container's own settings into the image config.
func commitConfig(c *ocispec.ImageConfig, req *ctrconfig.Config) {
	if req == nil {
		return
	}
	if req.Entrypoint != nil {
		c.Entrypoint = slices.Clone(*req.Entrypoint)
		c.Cmd = nil
	}
	if len(req.Command) > 0 {
		c.Cmd = slices.Clone(req.Command)
	}
	c.Env = spec.MergeEnv(slices.Clone(c.Env), req.Env)
	if req.WorkingDir != "" {
		c.WorkingDir = req.WorkingDir
	}
	if req.User != "" {
		c.User = req.User
	}
	if req.StopSignal != "" {
		c.StopSignal = req.StopSignal
	}
	if len(req.Labels) > 0 {
		c.Labels = maps.Clone(c.Labels)
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		maps.Copy(c.Labels, req.Labels)
	}
	for _, p := range req.Expose {
		addPort(c, p)
	}
}

func addPort(c *ocispec.ImageConfig, p string) {
	if !strings.Contains(p, "/") {
		p += "/tcp"
	}
	if c.ExposedPorts == nil {
		c.ExposedPorts = map[string]struct{}{}
	} else {
		c.ExposedPorts = maps.Clone(c.ExposedPorts)
	}
	c.ExposedPorts[p] = struct{}{}
}

// applyChange applies one Dockerfile instruction of -c.
func applyChange(c *ocispec.ImageConfig, change string) error {
	word, rest, _ := strings.Cut(strings.TrimSpace(change), " ")
	word, rest = strings.ToUpper(word), strings.TrimSpace(rest)
	if !slices.Contains(commitChanges, word) {
		return errdefs.Invalid(fmt.Sprintf("change %q: %s is not a valid change command; expected one of %s", change, word, strings.Join(commitChanges, ", ")))
	}
	if rest == "" {
		return errdefs.Invalid(fmt.Sprintf("change %q: %s needs an argument", change, word))
	}
	var list []string
	jsonForm := strings.HasPrefix(rest, "[") && json.Unmarshal([]byte(rest), &list) == nil
	args := func(shell bool) []string {
		if jsonForm {
			return list
		}
		if shell {
			return []string{"/bin/sh", "-c", rest}
		}
		return strings.Fields(rest)
	}
	switch word {
	case "CMD":
		c.Cmd = args(true)
	case "ENTRYPOINT":
		c.Entrypoint = args(true)
	case "ENV", "LABEL":
		kvs, err := keyValueArgs(word, rest)
		if err != nil {
			return errdefs.Invalid(fmt.Sprintf("change %q: %v", change, err))
		}
		if word == "ENV" {
			var env []string
			for _, kv := range kvs {
				env = append(env, kv[0]+"="+kv[1])
			}
			c.Env = spec.MergeEnv(slices.Clone(c.Env), env)
			break
		}
		c.Labels = maps.Clone(c.Labels)
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range kvs {
			c.Labels[kv[0]] = kv[1]
		}
	case "EXPOSE":
		for _, p := range args(false) {
			addPort(c, p)
		}
	case "USER":
		c.User = rest
	case "WORKDIR":
		c.WorkingDir = rest
	case "STOPSIGNAL":
		c.StopSignal = rest
	case "VOLUME":
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		} else {
			c.Volumes = maps.Clone(c.Volumes)
		}
		for _, v := range args(false) {
			c.Volumes[v] = struct{}{}
		}
	}
	return nil
}

// keyValueArgs reads ENV and LABEL arguments: k=v pairs (values may be double-quoted), or
// the legacy "k v" form of one pair.
func keyValueArgs(word, rest string) ([][2]string, error) {
	if !strings.Contains(strings.Fields(rest)[0], "=") {
		k, v, _ := strings.Cut(rest, " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t")
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s: expected key=value pairs", word)
		}
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("%s: unterminated quote", word)
			}
			out = append(out, [2]string{k, v[1 : end+1]})
			rest = v[end+2:]
			continue
		}
		val, tail, _ := strings.Cut(v, " ")
		out = append(out, [2]string{k, val})
		rest = tail
	}
	return out, nil
}
