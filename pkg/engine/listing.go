package engine

import (
	"slices"
)

// Listed is one container as a list shows it, with what a summary leaves out: another
// edge (Docker's API) needs the image ID, the network mode and the mounts.
type Listed struct {
	Summary
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
func (e *Engine) ListContainers(f ContainerFilter) ([]Listed, uint64) {
	e.store.RLock()
	out := make([]Listed, 0, e.store.LenLocked())
	recs := make([]Record, 0, e.store.LenLocked())
	for _, c := range e.store.AllLocked() {
		if f.match(c.rec) {
			out = append(out, Listed{Summary: summaryOf(c.rec, c.health), ImageID: c.rec.ImageID,
				NetworkMode: c.rec.Conf.Network, Mounts: c.rec.Mounts, Exposed: exposedOf(c.rec)})
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

// exposedOf is the container's exposed ports, sorted: the image's and --expose.
func exposedOf(r *Record) []string {
	if len(r.Config.ExposedPorts)+len(r.Conf.Expose) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.Config.ExposedPorts)+len(r.Conf.Expose))
	for p := range r.Config.ExposedPorts {
		out = append(out, p)
	}
	for _, p := range r.Conf.Expose {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Summaries returns the containers f selects as a list shows them, and the generation of
// the list (see ListContainers).
func (e *Engine) Summaries(f ContainerFilter) ([]Summary, uint64) {
	e.store.RLock()
	defer e.store.RUnlock()
	out := make([]Summary, 0, e.store.LenLocked())
	for _, c := range e.store.AllLocked() {
		if f.match(c.rec) {
			out = append(out, summaryOf(c.rec, c.health))
		}
	}
	return out, e.store.GenerationLocked()
}

// ListGeneration is the generation ListContainers would return now.
func (e *Engine) ListGeneration() uint64 {
	return e.store.Generation()
}
