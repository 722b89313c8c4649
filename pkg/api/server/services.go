package server

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/prune"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/shimclient"
)

// The handlers reach the daemon only through these interfaces, one per service, so that
// they are tested with fakes and without root; *engine.Engine provides Services, the
// services it opened provide the rest.

// Containers is the life of containers: create, run, stop, remove, and what they hold.
type Containers interface {
	CreateContainer(ctx context.Context, cfg ctrconfig.Config) (string, []string, error)
	StartContainer(ctx context.Context, ref string, before attachsvc.BeforeResume) (string, error)
	Prewarm(n int)
	StopContainer(ctx context.Context, ref string, timeout *time.Duration) error
	RestartContainer(ctx context.Context, ref string, timeout *time.Duration) error
	KillContainer(ref, signal string) error
	PauseContainer(ref string, pause bool) error
	WaitContainer(ctx context.Context, ref, condition string) (*engine.WaitResult, error)
	RemoveContainer(ctx context.Context, ref string, force, volumes bool) error
	RenameContainer(ref, name string) error
	InspectContainer(ref string) (*engine.ContainerDetails, error)
	Summaries(f ctrlist.Filter) ([]ctrlist.Summary, uint64)
	ListGeneration() uint64
	Stats(ctx context.Context, refs []string) ([]ctrio.Stats, error)
	ContainerTop(ref string) (*ctrio.TopResult, error)
	ContainerChanges(ctx context.Context, ref string) ([]ctrio.Change, error)
	UpdateContainer(ref string, u engine.UpdateOptions) ([]string, error)
	PruneContainers(ctx context.Context, f engine.PruneFilter) (*engine.PruneResult, error)
	CommitContainer(ctx context.Context, ref string, o engine.CommitOptions) (string, error)
}

// Attach is containers' stdio: attach and resize, and run and start attached (the attach
// service, pkg/engine/attachsvc, handed to New by the daemon's wiring).
type Attach interface {
	RunContainer(ctx context.Context, cfg ctrconfig.Config, att attachsvc.RunAttach, height, width uint16) (*attachsvc.RunStarted, []string, error)
	StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*attachsvc.RunStarted, error)
	AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error)
	ResizeContainer(ref string, h, w uint16) error
}

var _ Attach = (*attachsvc.Service)(nil)

// Events is the event bus (pkg/engine/events), handed to New by the daemon's wiring.
type Events interface {
	Events(ctx context.Context, since, until time.Time, f events.Filter, emit func(events.Event) error) error
}

var _ Events = (*events.Bus)(nil)

// Files is a container's files: cp and export (pkg/engine/ctrio's Files), handed to New by
// the daemon's wiring.
type Files interface {
	StatPath(ctx context.Context, ref, p string) (*ctrio.PathStat, error)
	ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error
	ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error
	ExportContainer(ctx context.Context, ref string, w io.Writer) error
}

var _ Files = (*ctrio.Files)(nil)

// Logs is containers' logs (pkg/engine/ctrio's Logs), handed to New by the daemon's wiring.
type Logs interface {
	Logs(ref string, opts ctrio.LogsOptions, done <-chan struct{}, emit func(ctrio.LogLine) error) error
	LogDetails(ref string) (string, error)
}

var _ Logs = (*ctrio.Logs)(nil)

// Execs is the processes exec runs in containers: the exec service (pkg/engine/execsvc)
// itself, handed to New by the daemon's wiring.
type Execs interface {
	Exec(ctx context.Context, req execsvc.Options) (*execsvc.Started, error)
	InspectExec(ctx context.Context, id string, wait bool) (*execsvc.State, error)
	WaitExec(ctx context.Context, id string) (int, error)
	ResizeExec(id string, h, w uint16) error
}

var _ Execs = (*execsvc.Service)(nil)

// Images is the image service (pkg/engine/imagesvc): the image store and the registries.
type Images interface {
	ListImages(all bool) ([]imagesvc.Summary, error)
	InspectImage(ref string) (*imagesvc.Details, error)
	ResolveImages(refs []string) error
	TagImage(src, dst string) (*image.Image, error)
	RemoveImage(ref string, force bool) ([]string, error)
	PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (*image.Image, error)
	PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (digest.Digest, error)
	CheckRegistryAuth(ctx context.Context, reg string, auth registry.Auth) error
	ImportImage(ctx context.Context, r io.Reader, name string) (*image.Image, error)
	ImportImageFromPath(ctx context.Context, path, name string) (*image.Image, error)
	LoadImages(ctx context.Context, r io.Reader) (imagesvc.Loaded, error)
	LoadImagesFromPath(ctx context.Context, path string) (imagesvc.Loaded, error)
	SaveImages(ctx context.Context, w io.Writer, refs []string) error
	SaveImagesToPath(ctx context.Context, refs []string, path string) error
	ImageHistory(ref string) ([]imagesvc.HistoryItem, error)
	PruneImages(ctx context.Context, all bool, f engine.PruneFilter) (*engine.PruneResult, error)
	PruneBuildCache(ctx context.Context, f engine.PruneFilter) (*engine.PruneResult, error)
	// DiskUsage and Prune are the whole daemon's: the image service knows what is stored
	// and what uses it.
	DiskUsage(ctx context.Context, verbose bool) (*imagesvc.DiskUsage, error)
	Prune(ctx context.Context, buildCache bool) (*prune.Report, error)
}

var _ Images = (*imagesvc.Service)(nil)

// Builds is the build service (pkg/engine/buildsvc): a build request into an image.
type Builds interface {
	PrepareBuild(r buildsvc.Request, auth map[string]registry.Auth) (*buildsvc.PreparedBuild, error)
	Build(ctx context.Context, pb *buildsvc.PreparedBuild, emit func(build.Event) error) (*build.Result, error)
}

var _ Builds = (*buildsvc.Service)(nil)

// Volumes is named volumes: the volume service (pkg/engine/volumesvc) itself, handed to
// New by the daemon's wiring. Pruning is the engine's (it knows which containers use one).
type Volumes interface {
	Create(name string, labels map[string]string) (volumesvc.Volume, error)
	Inspect(name string) (volumesvc.Volume, error)
	List() ([]volumesvc.Volume, error)
	Remove(name string, force bool) error
}

var _ Volumes = (*volumesvc.Service)(nil)

// Networks is user-defined networks and the containers on them: the network service
// (pkg/engine/netsvc) itself, handed to New by the daemon's wiring.
type Networks interface {
	Create(ctx context.Context, o netsvc.CreateOptions) (*netsvc.Network, error)
	Inspect(ref string) (*netsvc.Network, error)
	List() []netsvc.Network
	Remove(ctx context.Context, ref string) error
	Prune(ctx context.Context) ([]string, error)
	Connect(ctx context.Context, o netsvc.ConnectOptions) error
	Disconnect(ctx context.Context, netRef, ctrRef string, force bool) error
}

var _ Networks = (*netsvc.Service)(nil)

// System is the daemon as a whole: what it is, what it stores, and pruning.
type System interface {
	Info() engine.Info
	PruneVolumes(ctx context.Context, all bool, f engine.PruneFilter) (*engine.PruneResult, error)
}

// Services is what the API serves through the engine: containers and the daemon as a
// whole. The other services come in Backing.
type Services interface {
	Containers
	System
}

// Backing are the services the daemon's wiring hands the server beside the engine.
type Backing struct {
	Volumes  Volumes
	Networks Networks
	Images   Images
	Builds   Builds
	Execs    Execs
	Files    Files
	Logs     Logs
	Attach   Attach
	Events   Events
}

var _ Services = (*engine.Engine)(nil)
