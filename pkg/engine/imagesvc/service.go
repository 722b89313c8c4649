// Package imagesvc is the daemon's image service: the image store in the data root and
// the registry client (pull, push, login), tag, remove, inspect and history, import, load
// and save, lazily served layers and their indexes, commit of a container's changes, and
// the prunes and disk usage of the data root's blobs, layers and build cache.
//
// Its state is its own; what it must ask the containers core (which images and layers
// containers use, a container's upper directory) comes through the narrow interfaces and
// values its callers hand it. It speaks its own types: the API edges convert.
package imagesvc

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/registry"
)

// Config is what the service reads of the daemon's configuration.
type Config struct {
	Root          string   // the data root
	MaxImportSize int64    // bytes an import or load may read (0: no limit)
	BuildPrefixes []string // allowed roots of daemon-host paths (save, load, import ?path); nil: any
	// Lazy: containers start lazily by default, so a pulled or loaded layer is indexed but
	// not unpacked ahead of its first run.
	Lazy bool
	// IndexOnStartup indexes, in the background, every layer that has no index yet.
	IndexOnStartup bool
	// LazyCommand starts the lazy-layer server; nil: minibox-lazyfs for Root.
	LazyCommand func() *exec.Cmd
}

// Containers is what the service asks of the containers core.
type Containers interface {
	// ImageUsers names the containers (running or stopped) that use the image with
	// config digest id; rmi refuses those without force, image prune keeps them.
	ImageUsers(id digest.Digest) []string
	// ContainerLayers returns the blobs (layers at least) that container records use,
	// running or stopped. Prune unions it with the lower directories named in
	// containers/*/config.json.
	ContainerLayers() (map[digest.Digest]bool, error)
}

// Event is an image event (pull, tag, untag, delete, import, prune) for the daemon's
// event stream.
type Event struct {
	Action     string
	ID         string
	Attributes map[string]string
}

// Deps are the service's collaborators; any may be nil.
type Deps struct {
	Log        *slog.Logger
	Containers Containers
	Publish    func(Event)
	// AfterPrune runs after a prune of the data root (the engine releases the default
	// bridge then, when no container is on it).
	AfterPrune func(ctx context.Context)
}

// Service is the image service of one data root.
type Service struct {
	cfg        Config
	log        *slog.Logger
	store      *image.Store
	reg        *registry.Client
	places     hostpath.Policy
	ctrs       Containers
	publish    func(Event)
	afterPrune func(ctx context.Context)

	lazy     *lazyfs.Client
	indexing singleflight.Group
	// startup is closed when start-up work (stale mounts, background indexing) is done.
	startup chan struct{}

	pruneMu sync.Mutex // one prune at a time
}

// New opens the image store in cfg.Root (whose skeleton exists), hooks layer indexing
// into it, and starts the start-up work in the background, so the daemon answers at once
// whatever the store's size.
func New(cfg Config, d Deps) (*Service, error) {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := image.Open(cfg.Root, log.With("area", "images"))
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	st.MaxLoadSize = cfg.MaxImportSize
	s := &Service{cfg: cfg, log: log, store: st, reg: registry.New(log.With("area", "registry")),
		places: hostpath.New(cfg.Root, cfg.BuildPrefixes),
		ctrs:   d.Containers, publish: d.Publish, afterPrune: d.AfterPrune}
	s.openLazy()
	return s, nil
}

// Store is the image store, for the containers core (resolve, unpack) and the builder.
func (s *Service) Store() *image.Store { return s.store }

func (s *Service) event(id, name, action string) {
	s.emit(Event{Action: action, ID: id, Attributes: map[string]string{"name": name}})
}

func (s *Service) emit(ev Event) {
	if s.publish != nil {
		s.publish(ev)
	}
}

func (s *Service) imageUsers(id digest.Digest) []string {
	if s.ctrs == nil {
		return nil
	}
	return s.ctrs.ImageUsers(id)
}

// lazyCommand starts the lazy-layer server of the data root.
func (s *Service) lazyCommand() *exec.Cmd {
	if s.cfg.LazyCommand != nil {
		return s.cfg.LazyCommand()
	}
	return reexec.Command("minibox-lazyfs", []string{"--root", s.cfg.Root})
}

// short12 is an ID or digest as shown: 12 hex characters, without "sha256:".
func short12(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func short(d digest.Digest) string { return short12(d.String()) }
