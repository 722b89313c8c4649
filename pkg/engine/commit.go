package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/layer"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/spec"
)

// CommitOptions are `commit`'s: the new image's name (empty: unnamed), the history
// comment (-m) and author (-a), Dockerfile instructions to apply (-c), and whether a
// running container is frozen while its filesystem is read (--pause, Docker's default).
type CommitOptions struct {
	Reference string
	Comment   string
	Author    string
	Changes   []string
	Pause     bool
}

// commitChanges are the instructions -c takes, as Docker's commit does (but ONBUILD, which
// an OCI image config cannot hold).
var commitChanges = []string{"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// CommitContainer makes a new image of the container's image plus one layer: what the
// container changed (its overlay upper directory, whiteouts as the OCI spells them). The
// image's config is the container's (its command, environment, labels), then the changes.
// It returns the new image's ID.
func (e *Engine) CommitContainer(ctx context.Context, ref string, o CommitOptions) (string, error) {
	if o.Reference != "" {
		if _, err := oci.ParseNormalized(o.Reference); err != nil {
			return "", errdefs.Invalid(fmt.Sprintf("reference %q: %v", o.Reference, err))
		}
	}
	c, err := e.lookup(ref)
	if err != nil {
		return "", err
	}
	r := e.snapshot(c)
	img, err := e.Images.Resolve(r.ImageID)
	if err != nil {
		return "", fmt.Errorf("commit %s: its image %s: %w", r.Name, short12(r.ImageID), err)
	}
	cfg := img.Config
	cfg.History = slices.Clone(cfg.History)
	cfg.RootFS.DiffIDs = slices.Clone(cfg.RootFS.DiffIDs)
	if err := commitConfig(&cfg.Config, &r); err != nil {
		return "", err
	}
	for _, ch := range o.Changes {
		if err := applyChange(&cfg.Config, ch); err != nil {
			return "", err
		}
	}
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
	defer e.Images.Begin()() // prune keeps the blob being written
	w, err := e.Images.Content().Writer(ctx)
	if err != nil {
		return "", err
	}
	defer w.Close()
	now := time.Now().UTC()
	res, err := layer.Write(w, filepath.Join(e.ctrDir(r.ID), "upper"), layer.Options{Epoch: now,
		// The mount points of the files the engine writes for each run, as diff hides them.
		Skip: func(p string) bool { return ctrio.HiddenFromDiff("/" + p) }})
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", r.Name, err)
	}
	if _, err := w.Commit(res.Digest, res.Size); err != nil {
		return "", err
	}
	desc := ocispec.Descriptor{MediaType: layer.MediaType, Digest: res.Digest, Size: res.Size}
	cfg.Created, cfg.Author = &now, o.Author
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, res.DiffID)
	cfg.History = append(cfg.History, ocispec.History{Created: &now, Author: o.Author, Comment: o.Comment,
		CreatedBy: strings.Join(r.Args, " ")})
	layers := append(slices.Clone(img.Layers), desc)
	out, err := e.Images.Commit(ctx, o.Reference, cfg, layers)
	if err != nil {
		return "", err
	}
	e.Images.LayerLanded(desc)
	id := out.ID.String()
	e.Log.Info("container committed", "id", r.ID[:12], "image", short12(id), "name", o.Reference)
	e.containerEvent(&r, "commit", map[string]string{"comment": o.Comment, "imageID": id, "imageRef": oci.Familiar(out.Name)})
	return id, nil
}

// commitConfig puts the container's own settings into the image config.
func commitConfig(c *ocispec.ImageConfig, r *Record) error {
	req := &r.Conf
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
	return nil
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
