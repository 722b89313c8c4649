package server

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/shimclient"
)

// The handlers reach the daemon only through these interfaces, one per service, so that
// they are tested with fakes and without root; *engine.Engine provides them all.

// Containers is the life of containers: create, run, stop, remove, and what they hold.
type Containers interface {
	CreateContainer(ctx context.Context, cfg ctrconfig.Config) (string, []string, error)
	RunContainer(ctx context.Context, cfg ctrconfig.Config, att engine.RunAttach, height, width uint16) (*engine.RunStarted, []string, error)
	StartContainer(ctx context.Context, ref string, before engine.BeforeResume) (string, error)
	Prewarm(n int)
	StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*engine.RunStarted, error)
	AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error)
	StopContainer(ctx context.Context, ref string, timeout *time.Duration) error
	RestartContainer(ctx context.Context, ref string, timeout *time.Duration) error
	KillContainer(ref, signal string) error
	PauseContainer(ref string, pause bool) error
	WaitContainer(ctx context.Context, ref, condition string) (*engine.WaitResult, error)
	RemoveContainer(ctx context.Context, ref string, force, volumes bool) error
	RenameContainer(ref, name string) error
	ResizeContainer(ref string, h, w uint16) error
	InspectContainer(ref string) (*engine.ContainerDetails, error)
	ListContainersJSON(f engine.ContainerFilter) ([]byte, error)
	Logs(ref string, opts engine.LogsOptions, done <-chan struct{}, emit func(api.LogLine) error) error
	LogDetails(ref string) (string, error)
	Stats(ctx context.Context, refs []string) ([]api.Stats, error)
	Exec(ctx context.Context, req api.ExecRequest) (*engine.ExecStarted, error)
	InspectExec(ctx context.Context, id string, wait bool) (*api.ExecInspect, error)
	WaitExec(ctx context.Context, id string) (int, error)
	ResizeExec(id string, h, w uint16) error
	StatPath(ctx context.Context, ref, p string) (*engine.PathStat, error)
	ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error
	ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error
	ContainerTop(ref string) (*engine.TopResult, error)
	ContainerChanges(ctx context.Context, ref string) ([]engine.Change, error)
	ExportContainer(ctx context.Context, ref string, w io.Writer) error
	UpdateContainer(ref string, u engine.UpdateOptions) ([]string, error)
	PruneContainers(ctx context.Context, f engine.PruneFilter) (*engine.PruneResult, error)
	CommitContainer(ctx context.Context, ref string, o engine.CommitOptions) (string, error)
}

// Images is the image store and the registries.
type Images interface {
	ListImages(all bool) ([]api.ImageSummary, error)
	InspectImage(ref string) (*api.ImageInspect, error)
	ResolveImages(refs []string) error
	TagImage(src, dst string) (*image.Image, error)
	RemoveImage(ref string, force bool) ([]string, error)
	PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(api.PullEvent) error) (*image.Image, error)
	PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(api.PullEvent) error) (digest.Digest, error)
	CheckRegistryAuth(ctx context.Context, req api.AuthRequest) error
	ImportImage(ctx context.Context, r io.Reader, name string) (api.ImageImported, error)
	ImportImageFromPath(ctx context.Context, path, name string) (api.ImageImported, error)
	LoadImages(ctx context.Context, r io.Reader) (api.ImagesLoaded, error)
	LoadImagesFromPath(ctx context.Context, path string) (api.ImagesLoaded, error)
	SaveImages(ctx context.Context, w io.Writer, refs []string) error
	SaveImagesToPath(ctx context.Context, refs []string, path string) error
	ImageHistory(ref string) ([]engine.HistoryItem, error)
	PruneImages(ctx context.Context, all bool, f engine.PruneFilter) (*engine.PruneResult, error)
}

// Builds turns a build request into an image.
type Builds interface {
	PrepareBuild(r api.BuildRequest, auth map[string]registry.Auth) (*engine.PreparedBuild, error)
	Build(ctx context.Context, pb *engine.PreparedBuild, emit func(any) error) (*api.BuildResult, error)
	PruneBuildCache(ctx context.Context, f engine.PruneFilter) (*engine.PruneResult, error)
}

// Volumes is named volumes.
type Volumes interface {
	CreateVolume(req api.VolumeCreateRequest) (api.Volume, error)
	Volume(name string) (api.Volume, error)
	Volumes() ([]api.Volume, error)
	RemoveVolume(name string, force bool) error
	PruneVolumes(ctx context.Context, all bool, f engine.PruneFilter) (*engine.PruneResult, error)
}

// Networks is user-defined networks and the containers on them.
type Networks interface {
	CreateNetwork(ctx context.Context, req api.NetworkCreateRequest) (*api.Network, error)
	Network(ref string) (*api.Network, error)
	Networks() ([]api.Network, error)
	RemoveNetwork(ctx context.Context, ref string) error
	PruneNetworks(ctx context.Context) (*api.NetworkPruneResult, error)
	ConnectNetwork(ctx context.Context, req api.NetworkConnectRequest) error
	DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error
}

// System is the daemon as a whole: what it is, what it stores, and pruning.
type System interface {
	Info() api.Info
	DiskUsage(ctx context.Context, verbose bool) (*api.DiskUsage, error)
	Prune(ctx context.Context, buildCache bool) (*api.PruneReport, error)
	Events(ctx context.Context, since, until time.Time, f engine.EventFilter, emit func(engine.Event) error) error
}

// Services is every service the API serves.
type Services interface {
	Containers
	Images
	Builds
	Volumes
	Networks
	System
}

var _ Services = (*engine.Engine)(nil)
