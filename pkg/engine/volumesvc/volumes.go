// Package volumesvc is the daemon's volumes: named and anonymous directories under the
// data root's volumes/, their metadata, the mounts a container's configuration asks for
// resolved onto them (and onto host directories), and the copy-up from the image.
package volumesvc

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/prune"
)

// Volume is a named or anonymous volume.
type Volume struct {
	Name       string
	Mountpoint string // its directory on the host
	CreatedAt  time.Time
	Labels     map[string]string // never nil
	Anonymous  bool
	UsedBy     []string // names of the containers that mount it, sorted; never nil
}

// Users names, sorted, the containers (running or not) whose mounts name the volume: the
// containers core, which holds the records, answers it. A volume in use is not removed
// without force, nor pruned.
type Users func(name string) []string

// Publish tells the daemon's event stream that a volume was created or destroyed
// (action "create", "destroy" or "prune"; attrs as Docker's events carry them).
type Publish func(action, name string, attrs map[string]string)

// Service keeps the volumes of one data root.
type Service struct {
	root    string // the data root
	users   Users
	publish Publish
}

// New is the volume service of the data root root (its volumes/ and volumes/.meta/ exist).
func New(root string, users Users, publish Publish) *Service {
	return &Service{root: root, users: users, publish: publish}
}

type meta struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"created_at"`
	Labels    map[string]string `json:"labels,omitempty"`
	Anonymous bool              `json:"anonymous,omitempty"`
}

// Dir is the volume's directory: what a container mounts.
func (s *Service) Dir(name string) string { return filepath.Join(s.root, "volumes", name) }

func (s *Service) metaPath(name string) string {
	return filepath.Join(s.root, "volumes", ".meta", name+".json")
}

// NewName is a random 64-hex name, as Docker gives an anonymous volume.
func NewName() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Ensure creates the volume unless it exists (an existing one keeps its labels).
func (s *Service) Ensure(name string, labels map[string]string, anonymous bool) error {
	if !ctrconfig.ValidVolumeName(name) {
		return errdefs.Invalid(fmt.Sprintf("invalid volume name %q: %s", name, ctrconfig.VolumeNameRule))
	}
	if _, err := os.Stat(s.Dir(name)); err == nil {
		return nil
	}
	if err := os.Mkdir(s.Dir(name), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	b, _ := json.Marshal(meta{Name: name, CreatedAt: time.Now().UTC(), Labels: labels, Anonymous: anonymous})
	return atomicfile.WriteFile(s.metaPath(name), b, 0o600)
}

// readMeta reads a volume's metadata (ok false: missing or unreadable).
func (s *Service) readMeta(name string) (meta, bool) {
	var m meta
	b, err := os.ReadFile(s.metaPath(name))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return meta{}, false
	}
	return m, true
}

// Anonymous reports whether the volume was made for one container (an image's VOLUME,
// a mount without a name), which goes with it.
func (s *Service) Anonymous(name string) bool {
	m, ok := s.readMeta(name)
	return ok && m.Anonymous
}

func (s *Service) info(name string) (Volume, error) {
	st, err := os.Stat(s.Dir(name))
	if err != nil || !st.IsDir() {
		return Volume{}, errdefs.NotFound(fmt.Sprintf("no such volume: %s", name))
	}
	v := Volume{Name: name, Mountpoint: s.Dir(name), CreatedAt: st.ModTime().UTC(), Labels: map[string]string{}, UsedBy: s.users(name)}
	if m, ok := s.readMeta(name); ok {
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

// names are the volumes' names, in directory order.
func (s *Service) names() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "volumes"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ent := range ents {
		if ent.IsDir() && !strings.HasPrefix(ent.Name(), ".") {
			out = append(out, ent.Name())
		}
	}
	return out, nil
}

// List is every volume.
func (s *Service) List() ([]Volume, error) {
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	out := []Volume{}
	for _, n := range names {
		if v, err := s.info(n); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// Inspect is one volume (404 when there is none of that name).
func (s *Service) Inspect(name string) (Volume, error) {
	if !ctrconfig.ValidVolumeName(name) {
		return Volume{}, errdefs.NotFound(fmt.Sprintf("no such volume: %s", name))
	}
	return s.info(name)
}

// Create makes a named volume (a random 64-hex name when name is ""); an existing one is
// answered as it is.
func (s *Service) Create(name string, labels map[string]string) (Volume, error) {
	if name == "" {
		name = NewName()
	}
	if err := s.Ensure(name, labels, false); err != nil {
		return Volume{}, err
	}
	s.publish("create", name, map[string]string{"name": name})
	return s.info(name)
}

// Remove deletes a volume; one a container uses needs force (409 without).
func (s *Service) Remove(name string, force bool) error {
	if _, err := s.Inspect(name); err != nil {
		return err
	}
	if users := s.users(name); len(users) > 0 && !force {
		return errdefs.Conflict(fmt.Sprintf("volume %s is in use by %s; remove those containers first or use -f", name, strings.Join(users, ", ")))
	}
	if err := os.RemoveAll(s.Dir(name)); err != nil {
		return err
	}
	os.Remove(s.metaPath(name))
	s.publish("destroy", name, map[string]string{"name": name})
	return nil
}

// Discard removes the anonymous volumes a container took along (--rm, rm -v, a create
// that failed) without events, as Docker does; invalid names are skipped.
func (s *Service) Discard(names []string) {
	for _, n := range names {
		if !ctrconfig.ValidVolumeName(n) {
			continue
		}
		os.RemoveAll(s.Dir(n))
		os.Remove(s.metaPath(n))
	}
}

// Match selects what a prune removes by creation time and labels (Docker's --filter).
type Match func(created time.Time, labels map[string]string) bool

// Pruned is what a prune removed.
type Pruned struct {
	Names          []string
	SpaceReclaimed int64 // disk bytes freed
}

// Prune removes the volumes no container (running or stopped) mounts that match selects:
// anonymous ones only, or with all named ones too (Docker's rule since its API 1.42). A
// volume that cannot be removed is passed to warn and kept.
func (s *Service) Prune(all bool, match Match, warn func(name string, err error)) (Pruned, error) {
	names, err := s.names()
	if err != nil {
		return Pruned{}, err
	}
	var res Pruned
	for _, name := range names {
		m, _ := s.readMeta(name)
		if !m.Anonymous && !all {
			continue
		}
		if !match(m.CreatedAt, m.Labels) || len(s.users(name)) > 0 {
			continue
		}
		size := prune.DiskBytes(s.Dir(name))
		if err := s.Remove(name, false); err != nil {
			warn(name, err)
			continue
		}
		res.Names = append(res.Names, name)
		res.SpaceReclaimed += size
	}
	s.publish("prune", "", map[string]string{"reclaimed": fmt.Sprint(res.SpaceReclaimed)})
	return res, nil
}
