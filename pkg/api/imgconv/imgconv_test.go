package imgconv

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/buildsvc"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/image"
)

func TestSummary(t *testing.T) {
	id, dg := digest.FromString("config"), digest.FromString("manifest")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		name string
		in   imagesvc.Summary
		want api.ImageSummary
	}{
		{"named", imagesvc.Summary{Ref: "redis:7", Repository: "redis", Tag: "7", ID: id, Digest: dg, Created: at, Size: 10},
			api.ImageSummary{Name: "redis:7", Repository: "redis", Tag: "7", ID: id.String(), Digest: dg.String(), Created: at, SizeBytes: 10}},
		{"unnamed", imagesvc.Summary{ID: id, Digest: dg},
			api.ImageSummary{Name: "<none>:<none>", Repository: "<none>", Tag: "<none>", ID: id.String(), Digest: dg.String()}},
		{"by digest", imagesvc.Summary{Ref: "redis@" + dg.String(), Repository: "redis", ID: id, Digest: dg},
			api.ImageSummary{Name: "redis@" + dg.String(), Repository: "redis", Tag: "<none>", ID: id.String(), Digest: dg.String()}},
	} {
		if got := Summary(c.in); got != c.want {
			t.Errorf("%s: Summary = %+v, want %+v", c.name, got, c.want)
		}
	}
	if got := Summaries(nil); got == nil || len(got) != 0 {
		t.Errorf("Summaries(nil) = %#v, want an empty list (JSON [])", got)
	}
}

func TestPullEventAndLoaded(t *testing.T) {
	for _, c := range []struct {
		in   imagesvc.PullEvent
		want api.PullEvent
	}{
		{imagesvc.PullEvent{Ref: "a:1", Status: "downloading", Layer: "sha256:ab", Current: 1, Total: 2},
			api.PullEvent{Ref: "a:1", Status: "downloading", Layer: "sha256:ab", Current: 1, Total: 2}},
		{imagesvc.PullEvent{Ref: "a:1", Status: imagesvc.PullDone, Digest: "sha256:cd"},
			api.PullEvent{Ref: "a:1", Status: api.PullDone, Digest: "sha256:cd"}},
	} {
		if got := PullEvent(c.in); got != c.want {
			t.Errorf("PullEvent(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   imagesvc.Loaded
		want api.ImagesLoaded
	}{
		{imagesvc.Loaded{}, api.ImagesLoaded{Loaded: []string{}, IDs: []string{}}},
		{imagesvc.Loaded{Names: []string{"x:latest"}, IDs: []string{"sha256:1"}}, api.ImagesLoaded{Loaded: []string{"x:latest"}, IDs: []string{"sha256:1"}}},
	} {
		if got := Loaded(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Loaded(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	img := &image.Image{Name: "docker.io/library/busybox:latest", ID: digest.FromString("c")}
	if got := Imported(img); got.Name != "busybox:latest" || got.ID != img.ID.String() {
		t.Errorf("Imported = %+v", got)
	}
}

func TestBuildRequest(t *testing.T) {
	secrets := map[string][]byte{"s": []byte("v")}
	for _, c := range []struct {
		name string
		in   api.BuildRequest
		want buildsvc.Request
	}{
		{"context_path", api.BuildRequest{ContextPath: "/c", Context: "/other", MiniBox: "BASE x", Tags: []string{"a"}, Secrets: secrets},
			buildsvc.Request{ContextPath: "/c", Content: "BASE x", Tags: []string{"a"}, Secrets: secrets}},
		{"the original's context", api.BuildRequest{Context: "/old", File: "Dockerfile", Dockerfile: true, NoCache: true, Pull: true, Target: "t", Platform: "linux/amd64"},
			buildsvc.Request{ContextPath: "/old", File: "Dockerfile", Dockerfile: true, NoCache: true, Pull: true, Target: "t", Platform: "linux/amd64"}},
		{"image", api.BuildRequest{ContextPath: "/c", Image: "img:1", BuildArgs: map[string]string{"A": "1"}, Labels: map[string]string{"l": "v"}},
			buildsvc.Request{ContextPath: "/c", Image: "img:1", BuildArgs: map[string]string{"A": "1"}, Labels: map[string]string{"l": "v"}}},
	} {
		if got := BuildRequest(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: BuildRequest = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestBuildEventsAndEnd(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	line, d := "hello", int64(42)
	for _, c := range []struct {
		name string
		in   build.Event
		want api.BuildEvent
	}{
		{"log line", build.Event{Time: at, Block: "b", Line: line}, api.BuildEvent{Time: &at, Block: "b", Line: &line}},
		{"start", build.Event{Block: "b", State: api.BlockStart, Title: "Dockerfile:1:1: FROM x"}, api.BuildEvent{Block: "b", State: api.BlockStart, Title: "Dockerfile:1:1: FROM x"}},
		{"done", build.Event{Block: "b", State: api.BlockDone, DurationMS: d}, api.BuildEvent{Block: "b", State: api.BlockDone, DurationMS: &d}},
		{"cached", build.Event{Block: "b", State: api.BlockCached}, api.BuildEvent{Block: "b", State: api.BlockCached, DurationMS: new(int64)}},
	} {
		if got := BuildEvent(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: BuildEvent = %+v, want %+v", c.name, got, c.want)
		}
	}
	res := &build.Result{Image: "img", Digest: "sha256:m", ID: "sha256:c", DurationMS: 7,
		Blocks: []build.BlockResult{{Name: "b", State: api.BlockDone, DurationMS: 3, Key: "k", Layer: "sha256:l"}}}
	for _, c := range []struct {
		name string
		res  *build.Result
		err  error
		want api.BuildEnd
	}{
		{"built", res, nil, api.BuildEnd{Result: &api.BuildResult{Image: "img", Tags: []string{}, Digest: "sha256:m", ID: "sha256:c", DurationMS: 7,
			Blocks: []api.BuildBlock{{Name: "b", State: api.BlockDone, DurationMS: 3, Key: "k", Layer: "sha256:l"}}}}},
		{"a block failed", nil, &build.BlockError{Block: "b", Err: errors.New("exit 1")}, api.BuildEnd{Error: "block b: exit 1", Block: "b", LastLines: []string{}}},
		{"failed before a block", nil, errors.New("no base"), api.BuildEnd{Error: "no base"}},
	} {
		if got := BuildEnd(c.res, c.err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: BuildEnd = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestInspect(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	diff := digest.FromString("diff")
	img := &image.Image{ID: digest.FromString("c"), ManifestDigest: digest.FromString("m"), Size: 9,
		Manifest: ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest},
		Layers:   []ocispec.Descriptor{{Digest: digest.FromString("l"), MediaType: ocispec.MediaTypeImageLayerGzip, Size: 5}},
		Config: ocispec.Image{Created: &at, Author: "me", Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
			Config:  ocispec.ImageConfig{User: "u", Env: []string{"A=1"}, Cmd: []string{"sh"}, WorkingDir: "/w", StopSignal: "SIGINT"},
			RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diff}},
			History: []ocispec.History{{Created: &at, CreatedBy: "RUN x", EmptyLayer: true}}}}
	got := Inspect(&imagesvc.Details{Image: img, Healthcheck: &ctrconfig.Healthcheck{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 3},
		Shell: []string{"/bin/bash", "-c"}})
	want := &api.ImageInspect{ID: img.ID.String(), RepoTags: []string{}, RepoDigests: []string{}, Created: &at, Author: "me",
		Architecture: "amd64", OS: "linux", Size: 9,
		Config: api.ImageConfig{User: "u", Env: []string{"A=1"}, Cmd: []string{"sh"}, WorkingDir: "/w", StopSignal: "SIGINT",
			Healthcheck: &api.ImageHealthcheck{Test: []string{"CMD", "true"}, Interval: int64(time.Second), Retries: 3}, Shell: []string{"/bin/bash", "-c"}},
		RootFS: api.ImageRootFS{Type: "layers", Layers: []string{diff.String()}},
		Manifest: api.ImageManifestInfo{Digest: img.ManifestDigest.String(), MediaType: ocispec.MediaTypeImageManifest,
			Layers: []api.ImageLayer{{Digest: img.Layers[0].Digest.String(), MediaType: ocispec.MediaTypeImageLayerGzip, Size: 5}}},
		History: []api.ImageHistoryEntry{{Created: &at, CreatedBy: "RUN x", EmptyLayer: true}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inspect =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDiskUsageAndHistory(t *testing.T) {
	du := &imagesvc.DiskUsage{Images: imagesvc.Usage{Count: 1, SizeBytes: 10, ReclaimableBytes: 2}, Total: imagesvc.Usage{Count: 3, SizeBytes: 30},
		Items: []imagesvc.UsageItem{{Kind: "image", Name: "a", SizeBytes: 10, Reclaimable: true, Detail: "1 layers"}}}
	want := &api.DiskUsage{Images: api.Usage{Count: 1, SizeBytes: 10, ReclaimableBytes: 2}, Total: api.Usage{Count: 3, SizeBytes: 30},
		Items: []api.UsageItem{{Kind: "image", Name: "a", SizeBytes: 10, Reclaimable: true, Detail: "1 layers"}}}
	if got := DiskUsage(du); !reflect.DeepEqual(got, want) {
		t.Errorf("DiskUsage = %+v, want %+v", got, want)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := History([]imagesvc.HistoryItem{{ID: "sha256:c", Created: at, CreatedBy: "RUN x", Comment: "c", Size: 4, Tags: []string{"a:1"}}})
	if !reflect.DeepEqual(h, []api.HistoryItem{{ID: "sha256:c", Created: at, CreatedBy: "RUN x", Comment: "c", Size: 4, Tags: []string{"a:1"}}}) {
		t.Errorf("History = %+v", h)
	}
}
