package ctrlist

import (
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/network"
)

func record() *ctrstore.Record {
	return &ctrstore.Record{ID: "abc", Name: "web-1", Status: ctrstore.StatusExited, ImageName: "docker.io/library/nginx:latest",
		Config: ocispec.ImageConfig{Labels: map[string]string{"tier": "image", "from": "image"}, ExposedPorts: map[string]struct{}{"80/tcp": {}}},
		Conf: ctrconfig.Config{Labels: map[string]string{"tier": "web"}, Project: "shop", Expose: []string{"443/tcp", "80/tcp"},
			Publish: []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}}}
}

func TestLabelsAndFilters(t *testing.T) {
	r := record()
	l := Labels(r)
	if l["tier"] != "web" || l["from"] != "image" || l["minibox.compose.project"] != "shop" {
		t.Fatalf("labels = %v: the container's override the image's, the project is one", l)
	}
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Project: "shop"}, true},
		{Filter{Project: "other"}, false},
		{Filter{Status: "exited"}, true},
		{Filter{Status: "running"}, false},
		{Filter{Name: "/web"}, true},
		{Filter{Name: "db"}, false},
		{Filter{Labels: []string{"tier=web", "from"}}, true},
		{Filter{Labels: []string{"tier=image"}}, false},
		{Filter{Labels: []string{"nope"}}, false},
	} {
		if got := tc.f.Match(r); got != tc.want {
			t.Errorf("%+v.Match = %v", tc.f, got)
		}
	}
}

func TestSummaryShowsBoundPortsOnlyWhileLive(t *testing.T) {
	r := record()
	s := Of(r, nil)
	if s.Running() || s.Health != health.None || s.Image != r.ImageName || len(s.Ports) != 1 || s.Ports[0].HostPort != 8080 {
		t.Fatalf("stopped: %+v", s)
	}
	r.Status, r.Ports = ctrstore.StatusPaused, []network.Port{{HostPort: 32768, ContainerPort: 80, Proto: "tcp"}}
	if s := Of(r, nil); !s.Running() || s.Ports[0].HostPort != 32768 {
		t.Fatalf("paused: %+v", s)
	}
	if got := Exposed(r); !slices.Equal(got, []string{"443/tcp", "80/tcp"}) {
		t.Fatalf("exposed = %v", got)
	}
}
