package engine

import "github.com/minibox/minibox/pkg/api"

// Listed is one container as a list shows it, with what a summary leaves out: another
// edge (Docker's API) needs the image ID, the network mode and the mounts.
type Listed struct {
	api.ContainerSummary
	ImageID     string
	NetworkMode string
	Mounts      []MountRecord
}

// ListContainers returns the containers f selects and the generation of the list
// (bumped on every change), so that an edge can cache what it makes of it.
func (e *Engine) ListContainers(f ContainerFilter) ([]Listed, uint64) {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	out := make([]Listed, 0, len(e.ctrs))
	for _, c := range e.ctrs {
		if f.match(c.rec) {
			out = append(out, Listed{ContainerSummary: summaryOf(c.rec, c.health), ImageID: c.rec.ImageID,
				NetworkMode: c.rec.Request.Network, Mounts: c.rec.Mounts})
		}
	}
	return out, e.gen
}

// ListGeneration is the generation ListContainers would return now.
func (e *Engine) ListGeneration() uint64 {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	return e.gen
}
