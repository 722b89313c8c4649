package dockerconv

import (
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/minibox/minibox/pkg/api"
)

// MatchReference is the reference filter: a repository, or repository:tag.
func MatchReference(tags, refs []string) bool {
	for _, t := range tags {
		repo, _, _ := strings.Cut(t, ":")
		for _, r := range refs {
			if r == t || r == repo {
				return true
			}
		}
	}
	return false
}

func ImageInspect(in *api.ImageInspect) image.InspectResponse {
	out := image.InspectResponse{ID: in.ID, RepoTags: in.RepoTags, RepoDigests: in.RepoDigests, Author: in.Author,
		Architecture: in.Architecture, Variant: in.Variant, Os: in.OS, Size: in.Size,
		RootFS: image.RootFS{Type: in.RootFS.Type, Layers: in.RootFS.Layers}}
	if out.RepoTags == nil {
		out.RepoTags = []string{}
	}
	if out.RepoDigests == nil {
		out.RepoDigests = []string{}
	}
	if in.Created != nil {
		out.Created = in.Created.UTC().Format(time.RFC3339Nano)
	}
	c := in.Config
	cfg := &dockerspec.DockerOCIImageConfig{}
	cfg.User, cfg.Env, cfg.Entrypoint, cfg.Cmd, cfg.WorkingDir, cfg.Labels, cfg.StopSignal =
		c.User, c.Env, c.Entrypoint, c.Cmd, c.WorkingDir, c.Labels, c.StopSignal
	cfg.ExposedPorts, cfg.Volumes = c.ExposedPorts, c.Volumes
	if h := c.Healthcheck; h != nil {
		cfg.Healthcheck = &dockerspec.HealthcheckConfig{Test: h.Test, Interval: time.Duration(h.Interval),
			Timeout: time.Duration(h.Timeout), StartPeriod: time.Duration(h.StartPeriod), Retries: h.Retries}
	}
	out.Config = cfg
	if in.Manifest.Digest != "" {
		out.Descriptor = &ocispec.Descriptor{MediaType: in.Manifest.MediaType}
		out.Descriptor.Digest = digestOf(in.Manifest.Digest)
	}
	return out
}

func Tag(ref string) string {
	if i := strings.LastIndexAny(ref, ":@"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return "latest"
}

// Progress turns one engine pull or push event into Docker's progress message.
func Progress(ev api.PullEvent) jsonstream.Message {
	m := jsonstream.Message{ID: short(ev.Layer)}
	switch ev.Status {
	case "waiting":
		m.Status = "Waiting"
	case "downloading":
		m.Status, m.Progress = "Downloading", &jsonstream.Progress{Current: ev.Current, Total: ev.Total}
	case "uploading":
		m.Status, m.Progress = "Pushing", &jsonstream.Progress{Current: ev.Current, Total: ev.Total}
	case "exists":
		m.Status = "Already exists"
	case "complete":
		m.Status = "Pull complete"
	case "retrying":
		m.Status = "Retrying"
	case api.PullDone:
		m.ID, m.Status = "", "Digest: "+ev.Digest
	default:
		m.Status = ev.Status
	}
	return m
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
func digestOf(s string) digest.Digest { return digest.Digest(s) }
