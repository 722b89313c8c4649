package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/hostprobe"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/shimfiles"
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
	files  *ctrio.Files
	logs   *ctrio.Logs
	stats  *ctrio.Sampler
}

// Skeleton is the data root's directory tree with modes; tmp/ and containers/ hold
// secrets and half-written data, so they are private.
var Skeleton = []struct {
	Path string
	Mode os.FileMode
}{
	{".", 0o711}, {"blobs", 0o755}, {"blobs/sha256", 0o755}, {"extracted", 0o755},
	{"lazy", 0o755}, {"cache", 0o700}, {"layers", 0o700}, {"tmp", 0o700},
	{"containers", 0o711}, {"volumes", 0o755}, {"volumes/.meta", 0o700}, {"seccomp", 0o700},
	{"networks", 0o700},
}

// MakeSkeleton creates the data root's directories (idempotent).
func MakeSkeleton(root string) error {
	for _, d := range Skeleton {
		p := filepath.Join(root, d.Path)
		if err := os.MkdirAll(p, d.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, d.Mode); err != nil {
			return err
		}
	}
	return nil
}

// New opens the data root (already locked by the caller) and every store in it, and
// reconciles containers left by a previous daemon. It starts no listener.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Engine, error) {
	e := &Engine{Root: cfg.DataRoot, Cfg: cfg, Log: log}
	if err := MakeSkeleton(e.Root); err != nil {
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
	if err := e.clearTmp(); err != nil {
		return nil, err
	}
	e.removeStaleBuildLocks()
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

// clearTmp empties tmp/: nothing in it survives a daemon. The build containers a killed
// daemon left running in it go first.
//
// Each entry is first renamed (to clearingPrefix+name), and only then searched for shims'
// records. A build shim the killed daemon started just before it died may run only now: it
// records itself in its directory (by its path) before it makes anything there. One that
// recorded in time moved along with its directory and is found and ended; one that comes
// later finds no directory and exits, and cannot create tmp/build-* again behind us.
func (e *Engine) clearTmp() error {
	dir := filepath.Join(e.Root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, ent := range ents {
		name := ent.Name()
		if !strings.HasPrefix(name, clearingPrefix) {
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, clearingPrefix+name)); err != nil {
				e.Log.Warn("clear tmp", "entry", name, "err", err)
			} else {
				name = clearingPrefix + name
			}
		}
		names = append(names, name)
	}
	e.endBuildLeftovers(dir, names)
	for _, name := range names {
		// A mount left there is unmounted, not emptied.
		if err := rundir.DetachMountsUnder(filepath.Join(dir, name)); err != nil {
			e.Log.Warn("clear tmp", "entry", name, "err", err)
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			e.Log.Warn("clear tmp", "entry", name, "err", err)
		}
	}
	return nil
}

// clearingPrefix names a tmp/ entry a starting daemon is removing (one a daemon killed
// while it started did not finish is removed by the next).
const clearingPrefix = ".clearing-"

// endBuildLeftovers ends the build containers of a daemon that died during a build (and the
// warm shim pairs it was making, recorded the same way), one per block directory
// (tmp/<entry>/<block>, where the shim records itself, or, from an older daemon, listens). Their shims end them as soon as their daemon is gone: this is for a shim
// that could not (stopped, stuck), and before the directories they work in go.
func (e *Engine) endBuildLeftovers(tmp string, entries []string) {
	var recs, socks []string
	for _, ent := range entries {
		r, _ := filepath.Glob(filepath.Join(tmp, ent, "*", shimfiles.PIDFile))
		s, _ := filepath.Glob(filepath.Join(tmp, ent, "*", shimfiles.SocketName))
		recs, socks = append(recs, r...), append(socks, s...)
	}
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for _, p := range append(recs, socks...) {
		d := filepath.Dir(p)
		if seen[d] {
			continue
		}
		seen[d] = true
		what := "a build container"
		if filepath.Base(filepath.Dir(d)) == clearingPrefix+"warm" {
			what = "a warm shim pair" // recorded under tmp/warm by the warm pool
		}
		// Together: each may wait for its processes' exit.
		wg.Go(func() {
			n, err := shimclient.EndLeftover(d, 10*time.Second)
			if err != nil {
				e.Log.Warn("end "+what+" left by the previous daemon", "dir", d, "err", err)
			}
			if n > 0 {
				e.Log.Info("ended "+what+" left by the previous daemon", "dir", d, "processes", n)
			}
		})
	}
	wg.Wait()
}

// removeStaleBuildLocks removes the layers/<key>.lock files whose cache entry never landed:
// a build holds its keys' locks from its start, and one cut short leaves them. No build runs
// yet to hold one; a lock beside its entry stays (prune removes the two together).
func (e *Engine) removeStaleBuildLocks() {
	locks, _ := filepath.Glob(filepath.Join(e.Root, "layers", "*.lock"))
	for _, l := range locks {
		if _, err := os.Lstat(strings.TrimSuffix(l, ".lock")); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Remove(l); err != nil {
			e.Log.Warn("remove a stale build cache lock", "path", l, "err", err)
		}
	}
}

// Close flushes state; containers, the bridge, NAT rules and lazy mounts stay. Calling
// it again does nothing.
func (e *Engine) Close() {
	e.closeOnce.Do(e.closeContainers)
}
