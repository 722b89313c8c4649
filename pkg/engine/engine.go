package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/dataroot"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/hostprobe"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/state"
)

// Engine is the daemon's state and services. The containers core keeps its fields in
// containersArea; the services are their own packages, the image and build services
// embedded by pointer so their methods are the engine's (imagewire.go).
type Engine struct {
	Root  string
	Cfg   Config
	Log   *slog.Logger
	State *state.Store

	closeOnce sync.Once
	// host is what the host offers, probed once when the containers area opens.
	host hostprobe.Host

	// vols is the volume service (pkg/engine/volumesvc).
	vols *volumesvc.Service

	// Images is the image service's store, which the containers core reads.
	Images *image.Store
	// imageService and buildService (pkg/engine/imagesvc, buildsvc) are handed to the
	// HTTP layers by the daemon (ImageService, BuildService).
	imageService *imagesvc.Service
	buildService *buildsvc.Service

	containersArea
	nets *netsvc.Service

	events *events.Bus
	execs  *execsvc.Service
	attach *attachsvc.Service
	files  *ctrio.Files
	logs   *ctrio.Logs
	stats  *ctrio.Sampler
}

// New opens the data root (already locked by the caller) and every store in it, and
// reconciles containers left by a previous daemon. It starts no listener.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Engine, error) {
	e := &Engine{Root: cfg.DataRoot, Cfg: cfg, Log: log}
	if err := dataroot.MakeSkeleton(e.Root); err != nil {
		return nil, fmt.Errorf("data root %s: %w", e.Root, err)
	}
	e.openVolumes()
	st, err := state.Open(filepath.Join(e.Root, "state.json"), cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	e.State = st
	e.openServices()
	if err := e.loadContainers(); err != nil {
		return nil, err
	}
	if err := e.loadNetworks(); err != nil {
		return nil, err
	}
	if err := dataroot.ClearTmp(e.Root, e.Log); err != nil {
		return nil, err
	}
	dataroot.RemoveStaleBuildLocks(e.Root, e.Log)
	e.trash = rundir.NewTrash(filepath.Join(e.Root, "tmp")) // tmp/ is empty now
	for _, area := range []struct {
		name string
		open func() error
	}{{"images", e.openImages}, {"build", e.openBuild}, {"containers", func() error { return e.openContainers(ctx) }}} {
		t := time.Now()
		if err := area.open(); err != nil {
			return nil, err
		}
		log.Debug("area opened", "area", area.name, "took", time.Since(t))
	}
	return e, nil
}

// Close flushes state; containers, the bridge, NAT rules and lazy mounts stay. Calling
// it again does nothing.
func (e *Engine) Close() {
	e.closeOnce.Do(e.closeContainers)
}
