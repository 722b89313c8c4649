package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/prune"
)

// Docker's prune commands: stopped containers, dangling or unused images, unused
// volumes, the build cache. Each removes through the engine's own remove paths (events,
// records) and says what went and how many bytes it freed.

// PruneFilter narrows a prune as Docker's --filter does: until=<time> (created before),
// label=<k>[=<v>] and label!=<k>[=<v>].
type PruneFilter struct {
	Until     time.Time
	Labels    []string
	NotLabels []string
}

// ParsePruneFilter reads Docker's --filter values; unknown keys are refused (400).
func ParsePruneFilter(filters []string, now time.Time) (PruneFilter, error) {
	var f PruneFilter
	for _, s := range filters {
		k, v, ok := strings.Cut(s, "=")
		if k == "label!" {
			f.NotLabels = append(f.NotLabels, v)
			continue
		}
		if !ok {
			return f, errdefs.Invalid(fmt.Sprintf("filter %q: expected key=value (until, label, label!)", s))
		}
		switch k {
		case "until":
			t, err := parseUntil(v, now)
			if err != nil {
				return f, errdefs.Invalid(fmt.Sprintf("filter until=%s: %v", v, err))
			}
			f.Until = t
		case "label":
			f.Labels = append(f.Labels, v)
		default:
			return f, errdefs.Invalid(fmt.Sprintf("filter %q: unknown key %q; expected until, label or label!", s, k))
		}
	}
	return f, nil
}

// parseUntil reads a duration before now (10m, 24h), a Unix time, or an RFC 3339 time.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	var sec int64
	if _, err := fmt.Sscanf(v, "%d", &sec); err == nil && fmt.Sprint(sec) == v {
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("expected a duration (24h), a Unix time or an RFC 3339 time")
}

func (f PruneFilter) match(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	has := func(sel string) bool {
		k, v, withValue := strings.Cut(sel, "=")
		got, ok := labels[k]
		return ok && (!withValue || got == v)
	}
	for _, l := range f.Labels {
		if !has(l) {
			return false
		}
	}
	for _, l := range f.NotLabels {
		if has(l) {
			return false
		}
	}
	return true
}

// PruneResult is what a prune removed.
type PruneResult struct {
	Containers []string // IDs
	Images     []ImageDeleted
	Volumes    []string // names
	Networks   []string // names
	BuildCache []string // keys
	// SpaceReclaimed is the disk bytes freed.
	SpaceReclaimed int64
}

// ImageDeleted is one line of an image removal: a name untagged or an image deleted.
type ImageDeleted struct {
	Untagged string
	Deleted  string
}

// PruneContainers removes every stopped (created or exited) container the filter
// matches; running, paused and restarting ones stay.
func (e *Engine) PruneContainers(ctx context.Context, f PruneFilter) (*PruneResult, error) {
	type cand struct {
		id  string
		dir string
	}
	var cands []cand
	e.store.RLock()
	for id, c := range e.store.AllLocked() {
		r := c.rec
		if c.shim != nil || (r.Status != StatusCreated && r.Status != StatusExited) || c.removed != nil {
			continue
		}
		if !f.match(r.Created, labels(r)) {
			continue
		}
		cands = append(cands, cand{id, e.ctrDir(id)})
	}
	e.store.RUnlock()
	res := &PruneResult{}
	for _, c := range cands {
		size := prune.DiskBytes(filepath.Join(c.dir, "upper"))
		if err := e.RemoveContainer(ctx, c.id, false, false); err != nil {
			e.Log.Warn("container prune", "id", c.id[:12], "err", err)
			continue
		}
		res.Containers = append(res.Containers, c.id)
		res.SpaceReclaimed += size
	}
	sort.Strings(res.Containers)
	e.publish(Event{Type: EventContainer, Action: "prune", Attributes: map[string]string{"reclaimed": fmt.Sprint(res.SpaceReclaimed)}})
	return res, nil
}

// PruneImages removes dangling (unnamed) images, or with all every image no container
// uses, then frees their blobs. An image a container uses stays either way.
func (e *Engine) PruneImages(ctx context.Context, all bool, f PruneFilter) (*PruneResult, error) {
	imgs, err := e.Images.List()
	if err != nil {
		return nil, err
	}
	res := &PruneResult{Images: []ImageDeleted{}}
	deleted := map[string]bool{}
	for _, img := range imgs {
		if img.Name != "" && !all {
			continue
		}
		if e.ImageUsers != nil && len(e.ImageUsers(img.ID)) > 0 {
			continue
		}
		var created time.Time
		if img.Config.Created != nil {
			created = *img.Config.Created
		}
		if !f.match(created, img.Config.Config.Labels) {
			continue
		}
		ref := img.ID.String()
		if img.Name != "" {
			ref = img.Name
		}
		names, err := e.RemoveImage(ref, false)
		if err != nil {
			e.Log.Warn("image prune", "image", ref, "err", err)
			continue
		}
		for _, n := range names {
			if img.Name != "" { // an unnamed image had no name to untag
				res.Images = append(res.Images, ImageDeleted{Untagged: oci.Familiar(n)})
			}
		}
		if _, err := e.Images.Resolve(img.ID.String()); err != nil && !deleted[img.ID.String()] {
			deleted[img.ID.String()] = true
			res.Images = append(res.Images, ImageDeleted{Deleted: img.ID.String()})
		}
	}
	if len(res.Images) > 0 {
		// The blobs only the removed images held go now.
		r, err := e.Prune(ctx, false)
		if err != nil {
			return nil, err
		}
		res.SpaceReclaimed = r.BytesFreed
	}
	e.publish(Event{Type: EventImage, Action: "prune", Attributes: map[string]string{"reclaimed": fmt.Sprint(res.SpaceReclaimed)}})
	return res, nil
}

// PruneBuildCache is `builder prune`: the build cache alone, the block cache (layers/)
// and RUN --mount=type=cache directories (cache-mounts/), except what running builds hold;
// with until, only those last changed before it.
func (e *Engine) PruneBuildCache(ctx context.Context, f PruneFilter) (*PruneResult, error) {
	e.pruneMu.Lock()
	defer e.pruneMu.Unlock()
	o, err := e.pruneOptions(true)
	if err != nil {
		return nil, err
	}
	o.OnlyBuildCache = true // block cache and RUN cache mounts, nothing else
	plan, err := prune.Make(o)
	if err != nil {
		return nil, err
	}
	keep := plan.Actions[:0]
	for _, a := range plan.Actions {
		if a.Kind != prune.BuildCache && a.Kind != prune.CacheMount {
			continue
		}
		if !f.Until.IsZero() {
			if fi, err := os.Lstat(a.Paths[0]); err != nil || !fi.ModTime().Before(f.Until) {
				continue
			}
		}
		keep = append(keep, a)
	}
	plan.Actions = keep
	r := plan.Apply(e.Log)
	res := &PruneResult{SpaceReclaimed: r.BuildCacheBytesFreed}
	for _, a := range keep {
		res.BuildCache = append(res.BuildCache, a.Key)
	}
	return res, nil
}
