package server

import (
	"context"
	"errors"
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

// fakeServices answers every call with err, after noting which method was called: the
// handlers' status codes and error bodies are tested against it without root.
type fakeServices struct {
	err   error
	calls []string
	cfg   ctrconfig.Config // the last configuration a create or run was given
}

var errFake = errors.New("fake failure")

func (f *fakeServices) called(name string) error {
	f.calls = append(f.calls, name)
	return f.err
}

func (f *fakeServices) CreateContainer(ctx context.Context, cfg ctrconfig.Config) (string, []string, error) {
	f.cfg = cfg
	return "", nil, f.called("CreateContainer")
}

func (f *fakeServices) RunContainer(ctx context.Context, cfg ctrconfig.Config, att attachsvc.RunAttach, height, width uint16) (*attachsvc.RunStarted, []string, error) {
	f.cfg = cfg
	return &attachsvc.RunStarted{}, nil, f.called("RunContainer")
}

func (f *fakeServices) StartContainer(ctx context.Context, ref string, before attachsvc.BeforeResume) (string, error) {
	return "", f.called("StartContainer")
}

func (f *fakeServices) Prewarm(n int) { f.called("Prewarm") }

func (f *fakeServices) StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*attachsvc.RunStarted, error) {
	return &attachsvc.RunStarted{}, f.called("StartAttached")
}

func (f *fakeServices) AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error) {
	return &shimclient.Conn{}, false, f.called("AttachContainer")
}

func (f *fakeServices) StopContainer(ctx context.Context, ref string, timeout *time.Duration) error {
	return f.called("StopContainer")
}

func (f *fakeServices) RestartContainer(ctx context.Context, ref string, timeout *time.Duration) error {
	return f.called("RestartContainer")
}

func (f *fakeServices) KillContainer(ref, signal string) error {
	return f.called("KillContainer")
}

func (f *fakeServices) PauseContainer(ref string, pause bool) error {
	return f.called("PauseContainer")
}

func (f *fakeServices) WaitContainer(ctx context.Context, ref, condition string) (*engine.WaitResult, error) {
	return &engine.WaitResult{}, f.called("WaitContainer")
}

func (f *fakeServices) RemoveContainer(ctx context.Context, ref string, force, volumes bool) error {
	return f.called("RemoveContainer")
}

func (f *fakeServices) RenameContainer(ref, name string) error {
	return f.called("RenameContainer")
}

func (f *fakeServices) ResizeContainer(ref string, h, w uint16) error {
	return f.called("ResizeContainer")
}

func (f *fakeServices) InspectContainer(ref string) (*engine.ContainerDetails, error) {
	return &engine.ContainerDetails{}, f.called("InspectContainer")
}

func (f *fakeServices) Summaries(filter ctrlist.Filter) ([]ctrlist.Summary, uint64) {
	f.called("Summaries")
	return nil, 0
}

func (f *fakeServices) ListGeneration() uint64 { return 0 }

func (f *fakeServices) Logs(ref string, opts ctrio.LogsOptions, done <-chan struct{}, emit func(ctrio.LogLine) error) error {
	return f.called("Logs")
}

func (f *fakeServices) Stats(ctx context.Context, refs []string) ([]ctrio.Stats, error) {
	return nil, f.called("Stats")
}

func (f *fakeServices) Exec(ctx context.Context, req execsvc.Options) (*execsvc.Started, error) {
	return &execsvc.Started{}, f.called("Exec")
}

func (f *fakeServices) InspectExec(ctx context.Context, id string, wait bool) (*execsvc.State, error) {
	return &execsvc.State{}, f.called("InspectExec")
}

func (f *fakeServices) WaitExec(ctx context.Context, id string) (int, error) {
	return 0, f.called("WaitExec")
}

func (f *fakeServices) ResizeExec(id string, h, w uint16) error {
	return f.called("ResizeExec")
}

func (f *fakeServices) StatPath(ctx context.Context, ref, p string) (*ctrio.PathStat, error) {
	return &ctrio.PathStat{}, f.called("StatPath")
}

func (f *fakeServices) ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error {
	return f.called("ArchivePath")
}

func (f *fakeServices) ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error {
	return f.called("ExtractArchive")
}

func (f *fakeServices) ListImages(all bool) ([]imagesvc.Summary, error) {
	return nil, f.called("ListImages")
}

func (f *fakeServices) InspectImage(ref string) (*imagesvc.Details, error) {
	return &imagesvc.Details{Image: &image.Image{}}, f.called("InspectImage")
}

func (f *fakeServices) ResolveImages(refs []string) error {
	return f.called("ResolveImages")
}

func (f *fakeServices) TagImage(src, dst string) (*image.Image, error) {
	return &image.Image{}, f.called("TagImage")
}

func (f *fakeServices) RemoveImage(ref string, force bool) ([]string, error) {
	return nil, f.called("RemoveImage")
}

func (f *fakeServices) PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (*image.Image, error) {
	return &image.Image{}, f.called("PullImage")
}

func (f *fakeServices) PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(imagesvc.PullEvent) error) (digest.Digest, error) {
	return "", f.called("PushImage")
}

func (f *fakeServices) CheckRegistryAuth(ctx context.Context, reg string, auth registry.Auth) error {
	return f.called("CheckRegistryAuth")
}

func (f *fakeServices) ImportImage(ctx context.Context, r io.Reader, name string) (*image.Image, error) {
	return &image.Image{}, f.called("ImportImage")
}

func (f *fakeServices) ImportImageFromPath(ctx context.Context, path, name string) (*image.Image, error) {
	return &image.Image{}, f.called("ImportImageFromPath")
}

func (f *fakeServices) LoadImages(ctx context.Context, r io.Reader) (imagesvc.Loaded, error) {
	return imagesvc.Loaded{}, f.called("LoadImages")
}

func (f *fakeServices) LoadImagesFromPath(ctx context.Context, path string) (imagesvc.Loaded, error) {
	return imagesvc.Loaded{}, f.called("LoadImagesFromPath")
}

func (f *fakeServices) SaveImages(ctx context.Context, w io.Writer, refs []string) error {
	return f.called("SaveImages")
}

func (f *fakeServices) SaveImagesToPath(ctx context.Context, refs []string, path string) error {
	return f.called("SaveImagesToPath")
}

func (f *fakeServices) PrepareBuild(r buildsvc.Request, auth map[string]registry.Auth) (*buildsvc.PreparedBuild, error) {
	return &buildsvc.PreparedBuild{}, f.called("PrepareBuild")
}

func (f *fakeServices) Build(ctx context.Context, pb *buildsvc.PreparedBuild, emit func(build.Event) error) (*build.Result, error) {
	return &build.Result{}, f.called("Build")
}

// fakeVolumes is the volume service of fakeServices: its calls are noted there.
type fakeVolumes struct{ f *fakeServices }

func (v fakeVolumes) Create(name string, labels map[string]string) (volumesvc.Volume, error) {
	return volumesvc.Volume{}, v.f.called("CreateVolume")
}

func (v fakeVolumes) Inspect(name string) (volumesvc.Volume, error) {
	return volumesvc.Volume{}, v.f.called("Volume")
}

func (v fakeVolumes) List() ([]volumesvc.Volume, error) {
	return nil, v.f.called("Volumes")
}

func (v fakeVolumes) Remove(name string, force bool) error {
	return v.f.called("RemoveVolume")
}

// fakeNetworks is the network service of fakeServices: its calls are noted there.
type fakeNetworks struct{ f *fakeServices }

func (n fakeNetworks) Create(ctx context.Context, o netsvc.CreateOptions) (*netsvc.Network, error) {
	return &netsvc.Network{}, n.f.called("CreateNetwork")
}

func (n fakeNetworks) Inspect(ref string) (*netsvc.Network, error) {
	return &netsvc.Network{}, n.f.called("Network")
}

func (n fakeNetworks) List() []netsvc.Network {
	n.f.called("Networks")
	return nil
}

func (n fakeNetworks) Remove(ctx context.Context, ref string) error {
	return n.f.called("RemoveNetwork")
}

func (n fakeNetworks) Prune(ctx context.Context) ([]string, error) {
	return []string{}, n.f.called("PruneNetworks")
}

func (n fakeNetworks) Connect(ctx context.Context, o netsvc.ConnectOptions) error {
	return n.f.called("ConnectNetwork")
}

func (n fakeNetworks) Disconnect(ctx context.Context, netRef, ctrRef string, force bool) error {
	return n.f.called("DisconnectNetwork")
}

func (f *fakeServices) Info() engine.Info {
	return engine.Info{}
}

func (f *fakeServices) DiskUsage(ctx context.Context, verbose bool) (*imagesvc.DiskUsage, error) {
	return &imagesvc.DiskUsage{}, f.called("DiskUsage")
}

func (f *fakeServices) Prune(ctx context.Context, buildCache bool) (*prune.Report, error) {
	return &prune.Report{}, f.called("Prune")
}

func (f *fakeServices) LogDetails(ref string) (string, error) {
	return "", f.called("LogDetails")
}

func (f *fakeServices) ContainerTop(ref string) (*ctrio.TopResult, error) {
	return &ctrio.TopResult{}, f.called("ContainerTop")
}

func (f *fakeServices) ContainerChanges(ctx context.Context, ref string) ([]ctrio.Change, error) {
	return nil, f.called("ContainerChanges")
}

func (f *fakeServices) ExportContainer(ctx context.Context, ref string, w io.Writer) error {
	return f.called("ExportContainer")
}

func (f *fakeServices) UpdateContainer(ref string, u engine.UpdateOptions) ([]string, error) {
	return nil, f.called("UpdateContainer")
}

func (f *fakeServices) ImageHistory(ref string) ([]imagesvc.HistoryItem, error) {
	return nil, f.called("ImageHistory")
}

func (f *fakeServices) Events(ctx context.Context, since, until time.Time, filter events.Filter, emit func(events.Event) error) error {
	return f.called("Events")
}

func (f *fakeServices) PruneContainers(ctx context.Context, fl engine.PruneFilter) (*engine.PruneResult, error) {
	return &engine.PruneResult{}, f.called("PruneContainers")
}

func (f *fakeServices) PruneImages(ctx context.Context, all bool, fl engine.PruneFilter) (*engine.PruneResult, error) {
	return &engine.PruneResult{}, f.called("PruneImages")
}

func (f *fakeServices) PruneVolumes(ctx context.Context, all bool, fl engine.PruneFilter) (*engine.PruneResult, error) {
	return &engine.PruneResult{}, f.called("PruneVolumes")
}

func (f *fakeServices) PruneBuildCache(ctx context.Context, fl engine.PruneFilter) (*engine.PruneResult, error) {
	return &engine.PruneResult{}, f.called("PruneBuildCache")
}

func (f *fakeServices) CommitContainer(ctx context.Context, ref string, o engine.CommitOptions) (string, error) {
	return "sha256:x", f.called("CommitContainer")
}
