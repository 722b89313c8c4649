package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// MountRecord is a resolved mount of a container.
type MountRecord struct {
	Type      string   `json:"type"` // bind, volume, tmpfs
	Source    string   `json:"source,omitempty"`
	Name      string   `json:"name,omitempty"` // volumes
	Target    string   `json:"target"`
	ReadOnly  bool     `json:"read_only,omitempty"`
	Options   []string `json:"options,omitempty"`
	Anonymous bool     `json:"anonymous,omitempty"`
	IDMap     bool     `json:"idmap,omitempty"` // binds: asked for explicitly (volumes always are)
}

type volumeMeta struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Labels    map[string]string `json:"labels,omitempty"`
	Anonymous bool              `json:"anonymous,omitempty"`
}

func (e *Engine) volumeDir(name string) string { return filepath.Join(e.Root, "volumes", name) }
func (e *Engine) volumeMetaPath(name string) string {
	return filepath.Join(e.Root, "volumes", ".meta", name+".json")
}

// ensureVolume creates a volume if missing.
func (e *Engine) ensureVolume(name string, labels map[string]string, anonymous bool) error {
	if !ctrconfig.ValidVolumeName(name) {
		return errdefs.Invalid(fmt.Sprintf("invalid volume name %q: %s", name, ctrconfig.VolumeNameRule))
	}
	if _, err := os.Stat(e.volumeDir(name)); err == nil {
		return nil
	}
	if err := os.Mkdir(e.volumeDir(name), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	b, _ := json.Marshal(volumeMeta{Name: name, CreatedAt: time.Now().UTC(), Labels: labels, Anonymous: anonymous})
	return atomicfile.WriteFile(e.volumeMetaPath(name), b, 0o600)
}

// prepareMounts resolves the request's -v, --mount, --tmpfs, the original maps and the
// image's VOLUMEs into the record, creating volumes and missing bind sources.
func (e *Engine) prepareMounts(r *Record) (anon []string, err error) {
	req := &r.Conf
	var ms []MountRecord
	add := func(m MountRecord) error {
		m.Target = path.Clean(m.Target)
		if !path.IsAbs(m.Target) {
			return errdefs.Invalid(fmt.Sprintf("mount target %q must be an absolute path", m.Target))
		}
		if slices.ContainsFunc(ms, func(o MountRecord) bool { return o.Target == m.Target }) {
			return errdefs.Invalid(fmt.Sprintf("duplicate mount point %s", m.Target))
		}
		ms = append(ms, m)
		return nil
	}
	defer func() {
		if err != nil {
			e.removeVolumes(anon)
		}
	}()
	for i, m := range req.Mounts {
		if m.IDMap && m.Type != "bind" {
			return anon, errdefs.Invalid(fmt.Sprintf("mounts[%d].idmap: only a bind takes idmap (volumes are always idmapped), not %q", i, m.Type))
		}
		switch m.Type {
		case "bind":
			src, err := e.bindSource(m.Source)
			if err != nil {
				return anon, err
			}
			if err := add(MountRecord{Type: "bind", Source: src, Target: m.Target, ReadOnly: m.ReadOnly, IDMap: m.IDMap}); err != nil {
				return anon, err
			}
		case "volume", "":
			name, anonymous := m.Source, m.Source == ""
			if anonymous {
				name = newID()
				anon = append(anon, name)
			}
			if err := e.ensureVolume(name, nil, anonymous); err != nil {
				return anon, err
			}
			if err := add(MountRecord{Type: "volume", Name: name, Source: e.volumeDir(name), Target: m.Target, ReadOnly: m.ReadOnly, Anonymous: anonymous}); err != nil {
				return anon, err
			}
		case "tmpfs":
			var opts []string
			if m.TmpfsSize > 0 {
				opts = append(opts, fmt.Sprintf("size=%d", m.TmpfsSize))
			}
			if m.TmpfsMode != 0 {
				opts = append(opts, fmt.Sprintf("mode=%o", m.TmpfsMode))
			}
			if err := add(MountRecord{Type: "tmpfs", Target: m.Target, ReadOnly: m.ReadOnly, Options: opts}); err != nil {
				return anon, err
			}
		default:
			return anon, errdefs.Invalid(fmt.Sprintf("mount type %q: expected bind, volume or tmpfs", m.Type))
		}
	}
	for _, host := range sortedKeys(req.Volumes) {
		src, err := e.bindSource(host)
		if err != nil {
			return anon, err
		}
		target, ro := splitMode(req.Volumes[host])
		if err := add(MountRecord{Type: "bind", Source: src, Target: target, ReadOnly: ro}); err != nil {
			return anon, err
		}
	}
	for _, name := range sortedKeys(req.NamedVolumes) {
		if err := e.ensureVolume(name, nil, false); err != nil {
			return anon, err
		}
		target, ro := splitMode(req.NamedVolumes[name])
		if err := add(MountRecord{Type: "volume", Name: name, Source: e.volumeDir(name), Target: target, ReadOnly: ro}); err != nil {
			return anon, err
		}
	}
	for _, t := range req.Tmpfs {
		target, opts, _ := strings.Cut(t, ":")
		m := MountRecord{Type: "tmpfs", Target: target}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
		}
		if err := add(m); err != nil {
			return anon, err
		}
	}
	// The image's VOLUMEs without a mount get anonymous volumes, as Docker does.
	for _, v := range sortedKeys(r.Config.Volumes) {
		target := path.Clean(v)
		if slices.ContainsFunc(ms, func(o MountRecord) bool { return o.Target == target }) {
			continue
		}
		name := newID()
		anon = append(anon, name)
		if err := e.ensureVolume(name, nil, true); err != nil {
			return anon, err
		}
		ms = append(ms, MountRecord{Type: "volume", Name: name, Source: e.volumeDir(name), Target: target, Anonymous: true})
	}
	r.Mounts = ms
	return anon, nil
}

func splitMode(target string) (string, bool) {
	switch {
	case strings.HasSuffix(target, ":ro"):
		return strings.TrimSuffix(target, ":ro"), true
	case strings.HasSuffix(target, ":rw"):
		return strings.TrimSuffix(target, ":rw"), false
	}
	return target, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bindSource checks a host path: absolute, and not the data root (but for volumes/);
// created when missing, as the original did.
func (e *Engine) bindSource(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", errdefs.Invalid(fmt.Sprintf("bind source %q must be an absolute host path", p))
	}
	p = filepath.Clean(p)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("create bind source %s: %w", p, err)
		}
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	root, _ := filepath.EvalSymlinks(e.Root)
	vols := filepath.Join(root, "volumes")
	if within(resolved, root) && !within(resolved, vols) || resolved == vols {
		return "", errdefs.Forbidden(fmt.Sprintf("bind source %s is inside the minibox data root; use a named volume instead", p))
	}
	if within(root, resolved) && resolved != "/" {
		return "", errdefs.Forbidden(fmt.Sprintf("bind source %s contains the minibox data root", p))
	}
	return resolved, nil
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// specMounts turns the record's mounts into the spec's; an empty volume is first filled
// from the image (Docker's copy-up), which init does inside the container's namespace.
func (e *Engine) specMounts(r *Record) ([]spec.Mount, error) {
	var out []spec.Mount
	for _, m := range r.Mounts {
		// Volumes live under the data root and belong to minibox's containers alone:
		// idmapped, a volume reads the same from containers with and without --userns.
		// A bind is the user's host directory: idmapped only when asked for.
		sm := spec.Mount{Type: m.Type, Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly, Options: m.Options,
			IDMap: m.Type == "volume" || m.Type == "bind" && m.IDMap}
		if m.Type == "volume" {
			sm.Source = e.volumeDir(m.Name)
			if err := e.ensureVolume(m.Name, nil, m.Anonymous); err != nil {
				return nil, err
			}
			sm.CopyUp = dirEmpty(sm.Source)
		}
		out = append(out, sm)
	}
	return out, nil
}

func dirEmpty(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

func (e *Engine) removeVolumes(names []string) {
	for _, n := range names {
		if !ctrconfig.ValidVolumeName(n) {
			continue
		}
		os.RemoveAll(e.volumeDir(n))
		os.Remove(e.volumeMetaPath(n))
	}
}

// orphanAnonVolumes names the anonymous volumes that the spec in dir mounts and no
// recorded container uses.
func (e *Engine) orphanAnonVolumes(dir string) []string {
	s, err := spec.Load(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range s.Mounts {
		name := filepath.Base(m.Source)
		if m.Type != "volume" || m.Source != e.volumeDir(name) {
			continue
		}
		if meta, ok := e.readVolumeMeta(name); !ok || !meta.Anonymous || len(e.volumeUsers(name)) > 0 {
			continue
		}
		out = append(out, name)
	}
	return out
}

// volumeUsers lists the containers that mount the volume.
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

// readVolumeMeta reads a volume's metadata (ok false: missing or unreadable).
func (e *Engine) readVolumeMeta(name string) (volumeMeta, bool) {
	var m volumeMeta
	b, err := os.ReadFile(e.volumeMetaPath(name))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return volumeMeta{}, false
	}
	return m, true
}

func (e *Engine) volumeInfo(name string) (api.Volume, error) {
	st, err := os.Stat(e.volumeDir(name))
	if err != nil || !st.IsDir() {
		return api.Volume{}, errdefs.NotFound(fmt.Sprintf("no such volume: %s", name))
	}
	v := api.Volume{Name: name, Driver: "local", Mountpoint: e.volumeDir(name), CreatedAt: st.ModTime().UTC(), Labels: map[string]string{}, UsedBy: e.volumeUsers(name)}
	if m, ok := e.readVolumeMeta(name); ok {
		v.CreatedAt, v.Anonymous = m.CreatedAt, m.Anonymous
		if m.Labels != nil {
			v.Labels = m.Labels
		}
	}
	if v.UsedBy == nil {
		v.UsedBy = []string{}
	}
	return v, nil
}

// Volumes lists every volume.
func (e *Engine) Volumes() ([]api.Volume, error) {
	ents, err := os.ReadDir(filepath.Join(e.Root, "volumes"))
	if err != nil {
		return nil, err
	}
	out := []api.Volume{}
	for _, ent := range ents {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		if v, err := e.volumeInfo(ent.Name()); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// Volume inspects one volume.
func (e *Engine) Volume(name string) (api.Volume, error) {
	if !ctrconfig.ValidVolumeName(name) {
		return api.Volume{}, errdefs.NotFound(fmt.Sprintf("no such volume: %s", name))
	}
	return e.volumeInfo(name)
}

// CreateVolume makes a named volume (a random 64-hex name when none is given).
func (e *Engine) CreateVolume(req api.VolumeCreateRequest) (api.Volume, error) {
	if req.Name == "" {
		req.Name = newID()
	}
	if err := e.ensureVolume(req.Name, req.Labels, false); err != nil {
		return api.Volume{}, err
	}
	e.publish(Event{Type: EventVolume, Action: "create", ID: req.Name, Attributes: map[string]string{"name": req.Name}})
	return e.volumeInfo(req.Name)
}

// RemoveVolume deletes a volume; one a container uses needs force.
func (e *Engine) RemoveVolume(name string, force bool) error {
	if _, err := e.Volume(name); err != nil {
		return err
	}
	if users := e.volumeUsers(name); len(users) > 0 && !force {
		return errdefs.Conflict(fmt.Sprintf("volume %s is in use by %s; remove those containers first or use -f", name, strings.Join(users, ", ")))
	}
	if err := os.RemoveAll(e.volumeDir(name)); err != nil {
		return err
	}
	os.Remove(e.volumeMetaPath(name))
	e.publish(Event{Type: EventVolume, Action: "destroy", ID: name, Attributes: map[string]string{"name": name}})
	return nil
}
