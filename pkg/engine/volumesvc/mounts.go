package volumesvc

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// Mount is a resolved mount of a container, as its record keeps it.
type Mount struct {
	Type      string   `json:"type"` // bind, volume, tmpfs
	Source    string   `json:"source,omitempty"`
	Name      string   `json:"name,omitempty"` // volumes
	Target    string   `json:"target"`
	ReadOnly  bool     `json:"read_only,omitempty"`
	Options   []string `json:"options,omitempty"`
	Anonymous bool     `json:"anonymous,omitempty"`
	IDMap     bool     `json:"idmap,omitempty"` // binds: asked for explicitly (volumes always are)
}

// Resolve turns the configuration's -v, --mount, --tmpfs, the original maps and the
// image's VOLUMEs (imageVolumes) into the container's mounts, creating volumes and missing
// bind sources. anon are the anonymous volumes it made: the container's to take along.
// On an error, those are removed again.
func (s *Service) Resolve(conf *ctrconfig.Config, imageVolumes map[string]struct{}) (_ []Mount, _ []string, err error) {
	var ms []Mount
	var anon []string // kept apart from the results: a failed return clears those first
	add := func(m Mount) error {
		m.Target = path.Clean(m.Target)
		if !path.IsAbs(m.Target) {
			return errdefs.Invalid(fmt.Sprintf("mount target %q must be an absolute path", m.Target))
		}
		if slices.ContainsFunc(ms, func(o Mount) bool { return o.Target == m.Target }) {
			return errdefs.Invalid(fmt.Sprintf("duplicate mount point %s", m.Target))
		}
		ms = append(ms, m)
		return nil
	}
	volume := func(name string, anonymous bool, target string, ro bool) error {
		if anonymous {
			name = NewName()
			anon = append(anon, name)
		}
		if err := s.Ensure(name, nil, anonymous); err != nil {
			return err
		}
		return add(Mount{Type: "volume", Name: name, Source: s.Dir(name), Target: target, ReadOnly: ro, Anonymous: anonymous})
	}
	defer func() {
		if err != nil {
			s.Discard(anon)
		}
	}()
	for i, m := range conf.Mounts {
		if m.IDMap && m.Type != "bind" {
			return nil, nil, errdefs.Invalid(fmt.Sprintf("mounts[%d].idmap: only a bind takes idmap (volumes are always idmapped), not %q", i, m.Type))
		}
		switch m.Type {
		case "bind":
			src, err := s.bindSource(m.Source)
			if err != nil {
				return nil, nil, err
			}
			if err := add(Mount{Type: "bind", Source: src, Target: m.Target, ReadOnly: m.ReadOnly, IDMap: m.IDMap}); err != nil {
				return nil, nil, err
			}
		case "volume", "":
			if err := volume(m.Source, m.Source == "", m.Target, m.ReadOnly); err != nil {
				return nil, nil, err
			}
		case "tmpfs":
			var opts []string
			if m.TmpfsSize > 0 {
				opts = append(opts, fmt.Sprintf("size=%d", m.TmpfsSize))
			}
			if m.TmpfsMode != 0 {
				opts = append(opts, fmt.Sprintf("mode=%o", m.TmpfsMode))
			}
			if err := add(Mount{Type: "tmpfs", Target: m.Target, ReadOnly: m.ReadOnly, Options: opts}); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, errdefs.Invalid(fmt.Sprintf("mount type %q: expected bind, volume or tmpfs", m.Type))
		}
	}
	for _, host := range slices.Sorted(maps.Keys(conf.Volumes)) {
		src, err := s.bindSource(host)
		if err != nil {
			return nil, nil, err
		}
		target, ro := splitMode(conf.Volumes[host])
		if err := add(Mount{Type: "bind", Source: src, Target: target, ReadOnly: ro}); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(conf.NamedVolumes)) {
		target, ro := splitMode(conf.NamedVolumes[name])
		if err := volume(name, false, target, ro); err != nil {
			return nil, nil, err
		}
	}
	for _, t := range conf.Tmpfs {
		target, opts, _ := strings.Cut(t, ":")
		m := Mount{Type: "tmpfs", Target: target}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
		}
		if err := add(m); err != nil {
			return nil, nil, err
		}
	}
	// The image's VOLUMEs without a mount get anonymous volumes, as Docker does.
	for _, v := range slices.Sorted(maps.Keys(imageVolumes)) {
		target := path.Clean(v)
		if slices.ContainsFunc(ms, func(o Mount) bool { return o.Target == target }) {
			continue
		}
		if err := volume("", true, target, false); err != nil {
			return nil, nil, err
		}
	}
	return ms, anon, nil
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

// bindSource checks a host path: absolute, and not the data root (but for volumes/);
// created when missing, as the original did. The kernel resolves it (an O_PATH open,
// then the name it has for the fd), and that name is what the container binds.
func (s *Service) bindSource(p string) (string, error) {
	if !filepath.IsAbs(p) || strings.IndexByte(p, 0) >= 0 {
		return "", errdefs.Invalid(fmt.Sprintf("bind source %q must be an absolute host path", p))
	}
	p = filepath.Clean(p)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("create bind source %s: %w", p, err)
		}
	}
	resolved, err := kernelPath(p)
	if err != nil {
		return "", err
	}
	root, err := kernelPath(s.root)
	if err != nil {
		return "", err
	}
	vols := filepath.Join(root, "volumes")
	if within(resolved, root) && !within(resolved, vols) || resolved == vols {
		return "", errdefs.Forbidden(fmt.Sprintf("bind source %s is inside the minibox data root; use a named volume instead", p))
	}
	if within(root, resolved) && resolved != "/" {
		return "", errdefs.Forbidden(fmt.Sprintf("bind source %s contains the minibox data root", p))
	}
	return resolved, nil
}

// kernelPath is the path the kernel resolves p to, every symlink followed.
func kernelPath(p string) (string, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return "", err
	}
	if !path.IsAbs(real) || strings.HasSuffix(real, " (deleted)") {
		return "", fmt.Errorf("%s: the kernel has no path for it (%s)", p, real)
	}
	return real, nil
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// SpecMounts turns a container's mounts into its spec's for one start. A volume removed
// since (by force) is made again; an empty one is marked to be filled from the image
// first (Docker's copy-up), which init does inside the container's namespace.
func (s *Service) SpecMounts(ms []Mount) ([]spec.Mount, error) {
	var out []spec.Mount
	for _, m := range ms {
		// Volumes live under the data root and belong to minibox's containers alone:
		// idmapped, a volume reads the same from containers with and without --userns.
		// A bind is the user's host directory: idmapped only when asked for.
		sm := spec.Mount{Type: m.Type, Source: m.Source, Destination: m.Target, ReadOnly: m.ReadOnly, Options: m.Options,
			IDMap: m.Type == "volume" || m.Type == "bind" && m.IDMap}
		if m.Type == "volume" {
			sm.Source = s.Dir(m.Name)
			if err := s.Ensure(m.Name, nil, m.Anonymous); err != nil {
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

// Orphans names the anonymous volumes among a spec's mounts that no container uses: what
// a container without a record (a run cut short before its answer) leaves.
func (s *Service) Orphans(ms []spec.Mount) []string {
	var out []string
	for _, m := range ms {
		name := filepath.Base(m.Source)
		if m.Type != "volume" || m.Source != s.Dir(name) {
			continue
		}
		if !s.Anonymous(name) || len(s.users(name)) > 0 {
			continue
		}
		out = append(out, name)
	}
	return out
}

// Inherit adds a --volumes-from container's mounts (from, with its mode: "", "ro" or
// "rw") to conf at the same targets: its volumes and binds, read-only when asked (or
// when they were), unless conf mounts something there itself.
func Inherit(conf *ctrconfig.Config, from []Mount, mode string) {
	taken := map[string]bool{}
	for _, m := range conf.Mounts {
		taken[path.Clean(m.Target)] = true
	}
	for _, v := range conf.Volumes {
		t, _ := splitMode(v)
		taken[path.Clean(t)] = true
	}
	for _, v := range conf.NamedVolumes {
		t, _ := splitMode(v)
		taken[path.Clean(t)] = true
	}
	for _, t := range conf.Tmpfs {
		t, _, _ = strings.Cut(t, ":")
		taken[path.Clean(t)] = true
	}
	for _, m := range from {
		if m.Type == "tmpfs" || taken[m.Target] {
			continue
		}
		taken[m.Target] = true
		ro := m.ReadOnly
		if mode != "" {
			ro = mode == "ro"
		}
		mr := ctrconfig.Mount{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: ro, IDMap: m.IDMap}
		if m.Type == "volume" {
			mr.Source = m.Name
		}
		conf.Mounts = append(conf.Mounts, mr)
	}
}
