package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/state"
)

// Engine is the daemon's state and services. Each area (images, build, lazy layers,
// containers) keeps its fields in its own embedded struct, defined in its own file.
type Engine struct {
	Root  string
	Cfg   Config
	Log   *slog.Logger
	State *state.Store

	closeOnce sync.Once

	imagesArea
	buildArea
	lazyArea
	containersArea
	networksArea
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
	st, err := state.Open(filepath.Join(e.Root, "state.json"), cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	e.State = st
	if err := e.loadContainers(); err != nil {
		return nil, err
	}
	if err := e.loadNetworks(); err != nil {
		return nil, err
	}
	if err := e.clearTmp(); err != nil {
		return nil, err
	}
	for _, area := range []struct {
		name string
		open func() error
	}{{"images", e.openImages}, {"build", e.openBuild}, {"lazy", e.openLazy}, {"containers", func() error { return e.openContainers(ctx) }}} {
		t := time.Now()
		if err := area.open(); err != nil {
			return nil, err
		}
		log.Debug("area opened", "area", area.name, "took", time.Since(t))
	}
	return e, nil
}

// clearTmp empties tmp/: nothing in it survives a daemon (SPEC §2.2 step 3).
func (e *Engine) clearTmp() error {
	dir := filepath.Join(e.Root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range ents {
		if err := os.RemoveAll(filepath.Join(dir, ent.Name())); err != nil {
			e.Log.Warn("clear tmp", "entry", ent.Name(), "err", err)
		}
	}
	return nil
}

// Close flushes state; containers, the bridge, NAT rules and lazy mounts stay. Calling
// it again does nothing.
func (e *Engine) Close() {
	e.closeOnce.Do(e.closeContainers)
}
