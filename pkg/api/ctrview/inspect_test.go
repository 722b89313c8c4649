package ctrview

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/netport"
)

func TestInspect(t *testing.T) {
	d := &engine.ContainerDetails{
		Record: engine.Record{ID: "abc", Name: "web", Status: engine.StatusRunning, IP: "10.0.0.2", Args: []string{"sh", "-c", "x"},
			Ports: []netport.Port{{HostPort: 32768, ContainerPort: 80, Proto: "tcp"}},
			Conf: ctrconfig.Config{Network: "bridge", Publish: []netport.Port{{HostIP: netip.MustParseAddr("127.0.0.1"), ContainerPort: 80, Proto: "tcp"}},
				Resources: ctrconfig.Resources{Memory: 64 << 20, CPUs: 0.5},
				Restart:   ctrconfig.RestartPolicy{Name: "on-failure", MaxRetries: 3},
				Devices:   []ctrconfig.Device{{Host: "/dev/fuse", Container: "/dev/fuse", Perms: "rwm"}}}},
		Dir: "/r/containers/abc", Running: true, Env: []string{"A=1"}, CPUQuota: 50000, Gateway: "10.0.0.1",
		Healthcheck: &ctrconfig.Healthcheck{Test: []string{"CMD", "true"}, Interval: 2 * time.Second},
		Health:      &health.Report{Status: "healthy"},
	}
	in, err := Inspect(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc, _ := json.Marshal(in.HostConfig)
	ns, _ := json.Marshal(in.NetworkSettings.Ports)
	for _, c := range []struct{ got, want string }{
		{in.Path + " " + in.Args[1], "sh x"},
		{in.Name + " " + in.LogPath, "/web /r/containers/abc/container.log"},
		{string(ns), `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"32768"}]}`},
		{in.NetworkSettings.Gateway + " " + in.NetworkSettings.IPAddress, "10.0.0.1 10.0.0.2"},
		{in.State.Health.Status, "healthy"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if in.State.Health.Log == nil || in.Config.Healthcheck.Interval != int64(2*time.Second) {
		t.Errorf("health %+v %+v", in.State.Health, in.Config.Healthcheck)
	}
	want := `"Memory":67108864,"MemorySwap":0,"NanoCpus":500000000,"CpuQuota":50000`
	if !json.Valid(hc) || !contains(string(hc), want) || !contains(string(hc), `"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"PortBindings":[{"host_ip":"127.0.0.1","host_port":0,"container_port":80,"protocol":"tcp"}]`) ||
		!contains(string(hc), `"ShmSize":67108864`) || !contains(string(hc), `"Devices":[{"PathOnHost":"/dev/fuse"`) {
		t.Errorf("HostConfig %s", hc)
	}
	if _, err := Inspect(nil, errdefs.NotFound("no such container: x")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("error not passed on: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
