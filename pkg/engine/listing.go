package engine

import "github.com/minibox/minibox/pkg/engine/ctrlist"

// Listed is one container as a list shows it, with what a summary leaves out: another
// edge (Docker's API) needs the image ID, the network mode and the mounts.
type Listed struct {
	ctrlist.Summary
	ImageID     string
	NetworkMode string
	Mounts      []MountRecord
	// Networks are its endpoints by network name (the default bridge as "bridge"), with
	// their addresses while it runs; Exposed its exposed ports ("80/tcp"), the image's and
	// its own.
	Networks map[string]Endpoint
	Exposed  []string
}

// ListContainers returns the containers f selects and the generation of the list
// (bumped on every change), so that an edge can cache what it makes of it.
func (e *Engine) ListContainers(f ctrlist.Filter) ([]Listed, uint64) {
	e.store.RLock()
	out := make([]Listed, 0, e.store.LenLocked())
	recs := make([]Record, 0, e.store.LenLocked())
	for _, c := range e.store.AllLocked() {
		if f.Match(c.rec) {
			out = append(out, Listed{Summary: ctrlist.Of(c.rec, c.health), ImageID: c.rec.ImageID,
				NetworkMode: c.rec.Conf.Network, Mounts: c.rec.Mounts, Exposed: ctrlist.Exposed(c.rec)})
			recs = append(recs, *c.rec)
		}
	}
	gen := e.store.GenerationLocked()
	e.store.RUnlock()
	// Network names come from the networks' own lock, which is not taken under the store's.
	for i := range out {
		out[i].Networks = e.inspectEndpoints(&recs[i], out[i].Status == StatusRunning || out[i].Status == StatusPaused)
	}
	return out, gen
}

// Summaries returns the containers f selects as a list shows them, and the generation of
// the list (see ListContainers).
func (e *Engine) Summaries(f ctrlist.Filter) ([]ctrlist.Summary, uint64) {
	e.store.RLock()
	defer e.store.RUnlock()
	out := make([]ctrlist.Summary, 0, e.store.LenLocked())
	for _, c := range e.store.AllLocked() {
		if f.Match(c.rec) {
			out = append(out, ctrlist.Of(c.rec, c.health))
		}
	}
	return out, e.store.GenerationLocked()
}

// ListGeneration is the generation ListContainers would return now.
func (e *Engine) ListGeneration() uint64 {
	return e.store.Generation()
}
