package server

import (
	"context"
	"errors"
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

func (f *fakeServices) RunContainer(ctx context.Context, cfg ctrconfig.Config, att engine.RunAttach, height, width uint16) (*engine.RunStarted, []string, error) {
	f.cfg = cfg
	return &engine.RunStarted{}, nil, f.called("RunContainer")
}

func (f *fakeServices) StartContainer(ctx context.Context, ref string, before engine.BeforeResume) (string, error) {
	return "", f.called("StartContainer")
}

func (f *fakeServices) Prewarm(n int) { f.called("Prewarm") }

func (f *fakeServices) StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*engine.RunStarted, error) {
	return &engine.RunStarted{}, f.called("StartAttached")
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

func (f *fakeServices) ListContainersJSON(filter engine.ContainerFilter) ([]byte, error) {
	return nil, f.called("ListContainersJSON")
}

func (f *fakeServices) Logs(ref string, opts engine.LogsOptions, done <-chan struct{}, emit func(api.LogLine) error) error {
	return f.called("Logs")
}

func (f *fakeServices) Stats(ctx context.Context, refs []string) ([]api.Stats, error) {
	return nil, f.called("Stats")
}

func (f *fakeServices) Exec(ctx context.Context, req api.ExecRequest) (*engine.ExecStarted, error) {
	return &engine.ExecStarted{}, f.called("Exec")
}

func (f *fakeServices) InspectExec(ctx context.Context, id string, wait bool) (*api.ExecInspect, error) {
	return &api.ExecInspect{}, f.called("InspectExec")
}

func (f *fakeServices) WaitExec(ctx context.Context, id string) (int, error) {
	return 0, f.called("WaitExec")
}

func (f *fakeServices) ResizeExec(id string, h, w uint16) error {
	return f.called("ResizeExec")
}

func (f *fakeServices) StatPath(ctx context.Context, ref, p string) (*engine.PathStat, error) {
	return &engine.PathStat{}, f.called("StatPath")
}

func (f *fakeServices) ArchivePath(ctx context.Context, ref, p string, follow bool, w io.Writer) error {
	return f.called("ArchivePath")
}

func (f *fakeServices) ExtractArchive(ctx context.Context, ref, p string, r io.Reader) error {
	return f.called("ExtractArchive")
}

func (f *fakeServices) ListImages(all bool) ([]api.ImageSummary, error) {
	return nil, f.called("ListImages")
}

func (f *fakeServices) InspectImage(ref string) (*api.ImageInspect, error) {
	return &api.ImageInspect{}, f.called("InspectImage")
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

func (f *fakeServices) PullImage(ctx context.Context, ref, platform string, auth *registry.Auth, emit func(api.PullEvent) error) (*image.Image, error) {
	return &image.Image{}, f.called("PullImage")
}

func (f *fakeServices) PushImage(ctx context.Context, ref string, auth *registry.Auth, emit func(api.PullEvent) error) (digest.Digest, error) {
	return "", f.called("PushImage")
}

func (f *fakeServices) CheckRegistryAuth(ctx context.Context, req api.AuthRequest) error {
	return f.called("CheckRegistryAuth")
}

func (f *fakeServices) ImportImage(ctx context.Context, r io.Reader, name string) (api.ImageImported, error) {
	return api.ImageImported{}, f.called("ImportImage")
}

func (f *fakeServices) ImportImageFromPath(ctx context.Context, path, name string) (api.ImageImported, error) {
	return api.ImageImported{}, f.called("ImportImageFromPath")
}

func (f *fakeServices) LoadImages(ctx context.Context, r io.Reader) (api.ImagesLoaded, error) {
	return api.ImagesLoaded{}, f.called("LoadImages")
}

func (f *fakeServices) LoadImagesFromPath(ctx context.Context, path string) (api.ImagesLoaded, error) {
	return api.ImagesLoaded{}, f.called("LoadImagesFromPath")
}

func (f *fakeServices) SaveImages(ctx context.Context, w io.Writer, refs []string) error {
	return f.called("SaveImages")
}

func (f *fakeServices) SaveImagesToPath(ctx context.Context, refs []string, path string) error {
	return f.called("SaveImagesToPath")
}

func (f *fakeServices) PrepareBuild(r api.BuildRequest, auth map[string]registry.Auth) (*engine.PreparedBuild, error) {
	return &engine.PreparedBuild{}, f.called("PrepareBuild")
}

func (f *fakeServices) Build(ctx context.Context, pb *engine.PreparedBuild, emit func(any) error) (*api.BuildResult, error) {
	return &api.BuildResult{}, f.called("Build")
}

func (f *fakeServices) CreateVolume(req api.VolumeCreateRequest) (api.Volume, error) {
	return api.Volume{}, f.called("CreateVolume")
}

func (f *fakeServices) Volume(name string) (api.Volume, error) {
	return api.Volume{}, f.called("Volume")
}

func (f *fakeServices) Volumes() ([]api.Volume, error) {
	return nil, f.called("Volumes")
}

func (f *fakeServices) RemoveVolume(name string, force bool) error {
	return f.called("RemoveVolume")
}

func (f *fakeServices) CreateNetwork(ctx context.Context, req api.NetworkCreateRequest) (*api.Network, error) {
	return &api.Network{}, f.called("CreateNetwork")
}

func (f *fakeServices) Network(ref string) (*api.Network, error) {
	return &api.Network{}, f.called("Network")
}

func (f *fakeServices) Networks() ([]api.Network, error) {
	return nil, f.called("Networks")
}

func (f *fakeServices) RemoveNetwork(ctx context.Context, ref string) error {
	return f.called("RemoveNetwork")
}

func (f *fakeServices) PruneNetworks(ctx context.Context) (*api.NetworkPruneResult, error) {
	return &api.NetworkPruneResult{}, f.called("PruneNetworks")
}

func (f *fakeServices) ConnectNetwork(ctx context.Context, req api.NetworkConnectRequest) error {
	return f.called("ConnectNetwork")
}

func (f *fakeServices) DisconnectNetwork(ctx context.Context, netRef, ctrRef string, force bool) error {
	return f.called("DisconnectNetwork")
}

func (f *fakeServices) Info() api.Info {
	return api.Info{}
}

func (f *fakeServices) DiskUsage(ctx context.Context, verbose bool) (*api.DiskUsage, error) {
	return &api.DiskUsage{}, f.called("DiskUsage")
}

func (f *fakeServices) Prune(ctx context.Context, buildCache bool) (*api.PruneReport, error) {
	return &api.PruneReport{}, f.called("Prune")
}

func (f *fakeServices) LogDetails(ref string) (string, error) {
	return "", f.called("LogDetails")
}

func (f *fakeServices) ContainerTop(ref string) (*engine.TopResult, error) {
	return &engine.TopResult{}, f.called("ContainerTop")
}

func (f *fakeServices) ContainerChanges(ctx context.Context, ref string) ([]engine.Change, error) {
	return nil, f.called("ContainerChanges")
}

func (f *fakeServices) ExportContainer(ctx context.Context, ref string, w io.Writer) error {
	return f.called("ExportContainer")
}

func (f *fakeServices) UpdateContainer(ref string, u engine.UpdateOptions) ([]string, error) {
	return nil, f.called("UpdateContainer")
}

func (f *fakeServices) ImageHistory(ref string) ([]engine.HistoryItem, error) {
	return nil, f.called("ImageHistory")
}

func (f *fakeServices) Events(ctx context.Context, since, until time.Time, filter engine.EventFilter, emit func(engine.Event) error) error {
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
