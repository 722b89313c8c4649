// Package imgconv converts between the image and build services' own types and the
// native API's wire types. Both API edges call it: the native API answers with these
// shapes, and Docker's API converts them further into moby's.
package imgconv

import (
	"errors"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/prune"
)

// none is what the list shows for a missing name part, as Docker's does.
const none = "<none>"

// Summaries is GET /images: one row per name.
func Summaries(list []imagesvc.Summary) []api.ImageSummary {
	out := make([]api.ImageSummary, len(list))
	for i, s := range list {
		out[i] = Summary(s)
	}
	return out
}

// Summary is one row of GET /images.
func Summary(s imagesvc.Summary) api.ImageSummary {
	out := api.ImageSummary{Name: s.Ref, Repository: s.Repository, Tag: s.Tag, ID: s.ID.String(),
		Digest: s.Digest.String(), Created: s.Created, SizeBytes: s.Size}
	if out.Name == "" {
		out.Name = none + ":" + none
	}
	if out.Repository == "" {
		out.Repository = none
	}
	if out.Tag == "" {
		out.Tag = none
	}
	return out
}

// Inspect is GET /images/inspect in Docker's shape.
func Inspect(d *imagesvc.Details) *api.ImageInspect {
	img, c := d.Image, d.Config
	out := &api.ImageInspect{
		ID: img.ID.String(), RepoTags: d.RepoTags, RepoDigests: d.RepoDigests, Created: c.Created, Author: c.Author,
		Architecture: c.Architecture, Variant: c.Variant, OS: c.OS, Size: img.Size,
		Config: api.ImageConfig{User: c.Config.User, ExposedPorts: c.Config.ExposedPorts, Env: c.Config.Env,
			Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Volumes: c.Config.Volumes,
			WorkingDir: c.Config.WorkingDir, Labels: c.Config.Labels, StopSignal: c.Config.StopSignal,
			OnBuild: d.OnBuild, Shell: d.Shell},
		RootFS:   api.ImageRootFS{Type: c.RootFS.Type, Layers: []string{}},
		Manifest: api.ImageManifestInfo{Digest: img.ManifestDigest.String(), MediaType: img.Manifest.MediaType},
	}
	if out.RepoTags == nil {
		out.RepoTags = []string{}
	}
	if out.RepoDigests == nil {
		out.RepoDigests = []string{}
	}
	if h := d.Healthcheck; h != nil {
		out.Config.Healthcheck = &api.ImageHealthcheck{Test: h.Test, Interval: int64(h.Interval), Timeout: int64(h.Timeout),
			StartPeriod: int64(h.StartPeriod), Retries: h.Retries}
	}
	for _, dd := range c.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, dd.String())
	}
	for _, l := range img.Layers {
		out.Manifest.Layers = append(out.Manifest.Layers, api.ImageLayer{Digest: l.Digest.String(), MediaType: l.MediaType, Size: l.Size})
	}
	for _, h := range c.History {
		out.History = append(out.History, api.ImageHistoryEntry{Created: h.Created, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	return out
}

// PullEvent is one line of the pull and push streams.
func PullEvent(ev imagesvc.PullEvent) api.PullEvent {
	out := api.PullEvent{Ref: ev.Ref, Status: ev.Status, Layer: ev.Layer, Current: ev.Current, Total: ev.Total, Digest: ev.Digest}
	if ev.Status == imagesvc.PullDone {
		out.Status = api.PullDone
	}
	return out
}

// Loaded answers POST /images/load.
func Loaded(l imagesvc.Loaded) api.ImagesLoaded {
	out := api.ImagesLoaded{Loaded: l.Names, IDs: l.IDs}
	if out.Loaded == nil {
		out.Loaded = []string{}
	}
	if out.IDs == nil {
		out.IDs = []string{}
	}
	return out
}

// Imported answers POST /images/import.
func Imported(img *image.Image) api.ImageImported {
	return api.ImageImported{Name: oci.Familiar(img.Name), ID: img.ID.String()}
}

// Tagged answers POST /images/tag.
func Tagged(img *image.Image) api.ImageTagged {
	return api.ImageTagged{Name: oci.Familiar(img.Name), ID: img.ID.String()}
}

// History is GET /images/history: the steps newest first.
func History(h []imagesvc.HistoryItem) []api.HistoryItem {
	out := make([]api.HistoryItem, len(h))
	for i, it := range h {
		out[i] = api.HistoryItem{ID: it.ID, Created: it.Created, CreatedBy: it.CreatedBy, Comment: it.Comment, Size: it.Size, Tags: it.Tags}
	}
	return out
}

// PruneReport answers POST /system/prune.
func PruneReport(r *prune.Report) *api.PruneReport {
	out := api.PruneReport(*r)
	return &out
}

// DiskUsage answers GET /system/df.
func DiskUsage(du *imagesvc.DiskUsage) *api.DiskUsage {
	u := func(x imagesvc.Usage) api.Usage {
		return api.Usage{Count: x.Count, SizeBytes: x.SizeBytes, ReclaimableBytes: x.ReclaimableBytes}
	}
	out := &api.DiskUsage{Images: u(du.Images), Containers: u(du.Containers), Volumes: u(du.Volumes),
		BuildCache: u(du.BuildCache), Extracted: u(du.Extracted), LazyCache: u(du.LazyCache), Orphans: u(du.Orphans),
		Tmp: u(du.Tmp), Total: u(du.Total)}
	for _, it := range du.Items {
		out.Items = append(out.Items, api.UsageItem{Kind: it.Kind, Name: it.Name, SizeBytes: it.SizeBytes, Reclaimable: it.Reclaimable, Detail: it.Detail})
	}
	return out
}

// BuildRequest is POST /containers/build's body as the build service takes it: Context
// is the original's key for ContextPath.
func BuildRequest(r api.BuildRequest) buildsvc.Request {
	ctxPath := r.ContextPath
	if ctxPath == "" {
		ctxPath = r.Context
	}
	return buildsvc.Request{ContextPath: ctxPath, Content: r.MiniBox, File: r.File, Dockerfile: r.Dockerfile,
		Image: r.Image, Tags: r.Tags, NoCache: r.NoCache, Pull: r.Pull, Target: r.Target, BuildArgs: r.BuildArgs,
		Labels: r.Labels, Platform: r.Platform, Secrets: r.Secrets}
}

// BuildEvent is one line of the build stream: a log line {time, block, line} (an event
// without a state) or a state change {block, state, duration_ms} (none at a start).
func BuildEvent(ev build.Event) api.BuildEvent {
	out := api.BuildEvent{Block: ev.Block, State: ev.State, Title: ev.Title}
	if ev.State == "" {
		t, line := ev.Time, ev.Line
		out.Time, out.Line = &t, &line
	} else if ev.State != api.BlockStart {
		d := ev.DurationMS
		out.DurationMS = &d
	}
	return out
}

// BuildResult describes a built image.
func BuildResult(res *build.Result) *api.BuildResult {
	if res == nil {
		return nil
	}
	out := &api.BuildResult{Image: res.Image, Tags: res.Tags, Digest: res.Digest, ID: res.ID,
		CriticalPath: res.CriticalPath, DurationMS: res.DurationMS}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	for _, b := range res.Blocks {
		out.Blocks = append(out.Blocks, api.BuildBlock{Name: b.Name, State: b.State, DurationMS: b.DurationMS, Key: b.Key, Layer: b.Layer})
	}
	return out
}

// BuildEnd turns a build's outcome into the stream's last line; a failed block names
// itself and its last lines.
func BuildEnd(res *build.Result, err error) api.BuildEnd {
	if err == nil {
		return api.BuildEnd{Result: BuildResult(res)}
	}
	end := api.BuildEnd{Error: err.Error()}
	var be *build.BlockError
	if errors.As(err, &be) {
		end.Block, end.LastLines = be.Block, be.LastLines
		if end.LastLines == nil {
			end.LastLines = []string{}
		}
	}
	return end
}
