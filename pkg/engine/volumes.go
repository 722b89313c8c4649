package engine

import (
	"context"
	"sort"

	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/spec"
)

// MountRecord is a resolved mount of a container (pkg/engine/volumesvc resolves them).
type MountRecord = volumesvc.Mount

// openVolumes wires the volume service to the containers' records and the event stream.
func (e *Engine) openVolumes() {
	e.vols = volumesvc.New(e.Root, e.volumeUsers, func(action, name string, attrs map[string]string) {
		e.publish(events.Event{Type: events.Volume, Action: action, ID: name, Attributes: attrs})
	})
}

// volumeUsers lists, sorted, the containers that mount the volume.
func (e *Engine) volumeUsers(name string) []string {
	e.store.RLock()
	defer e.store.RUnlock()
	var out []string
	for _, c := range e.store.AllLocked() {
		for _, m := range c.rec.Mounts {
			if m.Type == "volume" && m.Name == name {
				out = append(out, c.rec.Name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// orphanAnonVolumes names the anonymous volumes that the spec in dir mounts and no
// recorded container uses.
func (e *Engine) orphanAnonVolumes(dir string) []string {
	s, err := spec.Load(dir)
	if err != nil {
		return nil
	}
	return e.vols.Orphans(s.Mounts)
}

// VolumeService is the volume service the engine opened: the daemon hands it to the HTTP
// layers, which list, inspect, create and remove volumes through it.
func (e *Engine) VolumeService() *volumesvc.Service { return e.vols }

// PruneVolumes removes the volumes no container mounts: anonymous ones, or with all named
// ones too.
func (e *Engine) PruneVolumes(ctx context.Context, all bool, f PruneFilter) (*PruneResult, error) {
	r, err := e.vols.Prune(all, f.Match, func(name string, err error) {
		e.Log.Warn("volume prune", "volume", name, "err", err)
	})
	if err != nil {
		return nil, err
	}
	return &PruneResult{Volumes: r.Names, SpaceReclaimed: r.SpaceReclaimed}, nil
}
