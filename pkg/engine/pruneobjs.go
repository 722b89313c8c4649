package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/prune"
)

// Docker's prune commands for the engine's own objects: stopped containers here, unused
// volumes in volumes.go (images and the build cache are the image service's). Each removes
// through the engine's own remove paths (events, records) and says what went and how many
// bytes it freed.

// The filter and the result are pkg/prune's, shared with the image and build services.
type (
	PruneFilter  = prune.Filter
	PruneResult  = prune.Removed
	ImageDeleted = prune.ImageDeleted
)

// ParsePruneFilter reads Docker's --filter values; unknown keys are refused (400).
func ParsePruneFilter(filters []string, now time.Time) (PruneFilter, error) {
	return prune.ParseFilter(filters, now)
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
		if !f.Match(r.Created, ctrlist.Labels(r)) {
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
	e.publish(events.Event{Type: events.Container, Action: "prune", Attributes: map[string]string{"reclaimed": fmt.Sprint(res.SpaceReclaimed)}})
	return res, nil
}
