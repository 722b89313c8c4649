package engine

import (
	"context"
	"sort"

	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/spec"
)

// MountRecord is a resolved mount of a container (pkg/engine/volumesvc resolves them).
type MountRecord = volumesvc.Mount

// openVolumes wires the volume service to the containers' records and the event stream.
func (e *Engine) openVolumes() {
	e.vols = volumesvc.New(e.Root, e.volumeUsers, func(action, name string, attrs map[string]string) {
		e.publish(Event{Type: EventVolume, Action: action, ID: name, Attributes: attrs})
	})
}

// volumeUsers lists, sorted, the containers that mount the volume.
func (e *Engine) volumeUsers(name string) []string {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	var out []string
	for _, c := range e.ctrs {
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

// Volumes lists every volume.
func (e *Engine) Volumes() ([]volumesvc.Volume, error) { return e.vols.List() }

// Volume inspects one volume.
func (e *Engine) Volume(name string) (volumesvc.Volume, error) { return e.vols.Inspect(name) }

// CreateVolume makes a named volume (a random 64-hex name when name is "").
func (e *Engine) CreateVolume(name string, labels map[string]string) (volumesvc.Volume, error) {
	return e.vols.Create(name, labels)
}

// RemoveVolume deletes a volume; one a container uses needs force.
func (e *Engine) RemoveVolume(name string, force bool) error { return e.vols.Remove(name, force) }

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
