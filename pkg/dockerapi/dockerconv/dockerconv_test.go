package dockerconv

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/netport"
)

func port(t *testing.T, s string) network.Port {
	t.Helper()
	p, err := network.ParsePort(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A create body converts field by field; what minibox cannot take is a 400 naming the field.
func TestCreateRequest(t *testing.T) {
	pids := int64(50)
	for _, tc := range []struct {
		name  string
		in    container.CreateRequest
		check func(t *testing.T, r api.CreateRequest)
		err   string
	}{
		{name: "no image", in: container.CreateRequest{}, err: "Config.Image"},
		{name: "plain", in: container.CreateRequest{Config: &container.Config{Image: "busybox", Cmd: []string{"true"}}},
			check: func(t *testing.T, r api.CreateRequest) {
				if r.Image != "busybox" || r.Name != "web" || r.Pull != "never" || r.Entrypoint != nil || r.Restart != "" {
					t.Errorf("got %+v", r)
				}
			}},
		{name: "empty entrypoint, domain, limits, restart",
			in: container.CreateRequest{Config: &container.Config{Image: "busybox", Entrypoint: []string{""}, Hostname: "h", Domainname: "example.org"},
				HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3},
					Resources: container.Resources{NanoCPUs: 1500000000, PidsLimit: &pids}}},
			check: func(t *testing.T, r api.CreateRequest) {
				if r.Entrypoint == nil || len(*r.Entrypoint) != 0 {
					t.Errorf("entrypoint %v, want none", r.Entrypoint)
				}
				if r.Hostname != "h.example.org" || r.Restart != "on-failure:3" || r.CPUs != 1.5 || r.PidsLimit != 50 {
					t.Errorf("got hostname %q restart %q cpus %v pids %d", r.Hostname, r.Restart, r.CPUs, r.PidsLimit)
				}
			}},
		{name: "ports sorted, random host port, address kept",
			in: container.CreateRequest{Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{PortBindings: network.PortMap{
				port(t, "80/tcp"):  {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
				port(t, "53/udp"):  nil,
				port(t, "443/tcp"): {{HostIP: netip.IPv4Unspecified(), HostPort: "8443"}},
			}}},
			check: func(t *testing.T, r api.CreateRequest) {
				want := []api.PortBinding{{ContainerPort: 443, Protocol: "tcp", HostPort: 8443},
					{ContainerPort: 53, Protocol: "udp"},
					{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080}}
				if len(r.Publish) != len(want) {
					t.Fatalf("publish %+v, want %+v", r.Publish, want)
				}
				for i := range want {
					if r.Publish[i] != want[i] {
						t.Errorf("publish[%d] = %+v, want %+v", i, r.Publish[i], want[i])
					}
				}
			}},
		{name: "port range", in: container.CreateRequest{Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{
			PortBindings: network.PortMap{port(t, "80/tcp"): {{HostPort: "8000-8010"}}}}}, err: "HostConfig.PortBindings[80/tcp].HostPort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := CreateRequest("/web", &tc.in)
			if tc.err != "" {
				if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want an invalid-argument error naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestNetworkCreate(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name string
		in   NetworkCreateRequest
		want netsvc.CreateOptions
		err  string
	}{
		{name: "no name", in: NetworkCreateRequest{}, err: "Name:"},
		{name: "overlay", in: NetworkCreateRequest{Name: "n", Driver: "overlay"}, err: "Driver:"},
		{name: "no IPv4", in: NetworkCreateRequest{Name: "n", EnableIPv4: &no}, err: "EnableIPv4:"},
		{name: "options", in: NetworkCreateRequest{Name: "n", Options: map[string]string{"b": "1", "a": "2"}}, err: "(got a, b)"},
		{name: "two subnets", in: NetworkCreateRequest{Name: "n", IPAM: &network.IPAM{Config: []network.IPAMConfig{{}, {}}}}, err: "IPAM.Config:"},
		{name: "IPv6 subnet", in: NetworkCreateRequest{Name: "n", IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("fd00::/64")}}}}, err: "IPAM.Config.Subnet:"},
		{name: "gateway alone", in: NetworkCreateRequest{Name: "n", IPAM: &network.IPAM{Config: []network.IPAMConfig{{Gateway: netip.MustParseAddr("10.9.0.1")}}}}, err: "IPAM.Config.Gateway:"},
		{name: "plain", in: NetworkCreateRequest{Name: "n", Internal: true}, want: netsvc.CreateOptions{Name: "n", Driver: "bridge", Internal: true}},
		{name: "subnet", in: NetworkCreateRequest{Name: "n", Driver: "bridge", IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{
			{Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.9.0.254")}}}},
			want: netsvc.CreateOptions{Name: "n", Driver: "bridge", Subnet: "10.9.0.0/24", Gateway: "10.9.0.254"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NetworkCreate(&tc.in)
			if tc.err != "" {
				if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want an invalid-argument error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.want.Name || got.Driver != tc.want.Driver || got.Internal != tc.want.Internal ||
				got.Subnet != tc.want.Subnet || got.Gateway != tc.want.Gateway {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		vs   []string
		want *bool
		err  bool
	}{
		{vs: nil}, {vs: []string{"true"}, want: &yes}, {vs: []string{"0"}, want: &no},
		{vs: []string{"TRUE", "1"}, want: &yes}, {vs: []string{"maybe"}, err: true}, {vs: []string{"true", "false"}, err: true},
	} {
		got, err := BoolFilter(map[string][]string{"dangling": tc.vs}, "dangling")
		if (err != nil) != tc.err || tc.want == nil && got != nil || tc.want != nil && (got == nil || *got != *tc.want) {
			t.Errorf("BoolFilter(%q) = %v, %v; want %v (error %v)", tc.vs, got, err, tc.want, tc.err)
		}
	}
	if err := CheckFilterKeys(map[string][]string{"lable": {"a"}}, "label", "name"); err == nil || !strings.Contains(err.Error(), "invalid filter 'lable'") {
		t.Errorf("CheckFilterKeys: %v", err)
	}
	if err := CheckFilterKeys(map[string][]string{"label": {"a"}}, "label", "name"); err != nil {
		t.Errorf("CheckFilterKeys: %v", err)
	}
	have := map[string]string{"a": "1", "b": ""}
	for _, tc := range []struct {
		want     []string
		all, not bool
	}{
		{want: nil, all: true, not: true}, {want: []string{"a"}, all: true}, {want: []string{"a=1", "b"}, all: true},
		{want: []string{"a=2"}, not: true}, {want: []string{"c"}, not: true}, {want: []string{"a", "c"}},
	} {
		if got := MatchLabels(have, tc.want); got != tc.all {
			t.Errorf("MatchLabels(%q) = %v", tc.want, got)
		}
		if got := NotLabels(have, tc.want); got != tc.not {
			t.Errorf("NotLabels(%q) = %v", tc.want, got)
		}
	}
	if !MatchAny(nil, nil) || MatchAny([]string{"x"}, func(string) bool { return false }) {
		t.Error("MatchAny")
	}
	if u, err := UntilFilter(map[string][]string{"until": {"1700000000"}}); err != nil || u.Unix() != 1700000000 {
		t.Errorf("UntilFilter = %v, %v", u, err)
	}
	if _, err := UntilFilter(map[string][]string{"until": {"1", "2"}}); err == nil {
		t.Error("UntilFilter takes one value")
	}
	if tm, err := ParseTime("0", time.Now()); err != nil || !tm.IsZero() {
		t.Errorf("ParseTime(0) = %v, %v; want unset", tm, err)
	}
}

func TestVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.41", "1.9", 1}, {"1.9", "1.41", -1}, {"1.44", "1.44", 0}, {"2.0", "1.99", 1}} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for v, want := range map[string]bool{"1.41": true, "1": false, "1.x": false, "v1.41": false} {
		if ValidVersion(v) != want {
			t.Errorf("ValidVersion(%q) = %v", v, !want)
		}
	}
}

func TestImageShapes(t *testing.T) {
	for ref, want := range map[string]string{"busybox": "latest", "busybox:1.36": "1.36", "localhost:5000/a": "latest",
		"localhost:5000/a:v1": "v1"} {
		if got := Tag(ref); got != want {
			t.Errorf("Tag(%q) = %q, want %q", ref, got, want)
		}
	}
	if !MatchReference([]string{"busybox:latest"}, []string{"busybox"}) || MatchReference([]string{"busybox:latest"}, []string{"alpine"}) {
		t.Error("MatchReference")
	}
	for _, tc := range []struct {
		ev         api.PullEvent
		id, status string
		progress   bool
	}{
		{ev: api.PullEvent{Status: "downloading", Layer: "sha256:0123456789abcdef", Current: 1, Total: 2}, id: "0123456789ab", status: "Downloading", progress: true},
		{ev: api.PullEvent{Status: "exists", Layer: "abc"}, id: "abc", status: "Already exists"},
		{ev: api.PullEvent{Status: api.PullDone, Layer: "abc", Digest: "sha256:d"}, status: "Digest: sha256:d"},
		{ev: api.PullEvent{Status: "Resolving"}, status: "Resolving"},
	} {
		m := Progress(tc.ev)
		if m.ID != tc.id || m.Status != tc.status || (m.Progress != nil) != tc.progress {
			t.Errorf("Progress(%+v) = %+v", tc.ev, m)
		}
	}
}

func TestSummary(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		l      engine.Listed
		status string
		ports  int
	}{
		{l: engine.Listed{Summary: ctrlist.Summary{Status: "created"}}, status: "Created"},
		{l: engine.Listed{Summary: ctrlist.Summary{Status: "exited", ExitCode: 3}}, status: "Exited (3)"},
		{l: engine.Listed{Summary: ctrlist.Summary{Status: "exited", ExitCode: 1, FinishedAt: now.Add(-2 * time.Hour),
			Ports: []netport.Port{{ContainerPort: 80, HostPort: 8080, Proto: "tcp"}}}}, status: "Exited (1) 2 hours ago"},
		{l: engine.Listed{Summary: ctrlist.Summary{Status: "running", StartedAt: now.Add(-time.Minute), Health: "starting",
			Ports: []netport.Port{{ContainerPort: 80, HostPort: 8080, Proto: "tcp"}}}, Exposed: []string{"80/tcp", "53/udp"}},
			status: "Up About a minute (health: starting)", ports: 2},
		{l: engine.Listed{Summary: ctrlist.Summary{Status: "paused", StartedAt: now.Add(-time.Minute), Health: "healthy"}},
			status: "Up About a minute (healthy) (Paused)"},
	} {
		s := Summary(&tc.l, now)
		if s.Status != tc.status || len(s.Ports) != tc.ports {
			t.Errorf("Summary(%s) = status %q ports %+v; want %q and %d ports", tc.l.Status, s.Status, s.Ports, tc.status, tc.ports)
		}
	}
	l := engine.Listed{Summary: ctrlist.Summary{ID: "abcdef", Name: "web", Status: "running", Labels: map[string]string{"a": "1"}}, NetworkMode: "bridge"}
	for _, tc := range []struct {
		f    map[string][]string
		want bool
	}{
		{f: nil, want: true}, {f: map[string][]string{"id": {"abc"}}, want: true}, {f: map[string][]string{"name": {"/we"}}, want: true},
		{f: map[string][]string{"label": {"a=2"}}}, {f: map[string][]string{"status": {"exited", "running"}}, want: true},
		{f: map[string][]string{"network": {"bridge"}}, want: true}, {f: map[string][]string{"is-task": {"true"}}},
		{f: map[string][]string{"health": {"none"}}, want: true},
	} {
		if got := MatchContainer(&l, tc.f); got != tc.want {
			t.Errorf("MatchContainer(%v) = %v", tc.f, got)
		}
	}
}

func TestEventFilter(t *testing.T) {
	if _, err := EventFilter(map[string][]string{"scope": {"global"}}); err == nil || !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("scope=global: %v", err)
	}
	f, err := EventFilter(map[string][]string{"scope": {"swarm"}})
	if err != nil || len(f["type"]) != 1 || f["type"][0] != "none" {
		t.Errorf("scope=swarm = %v, %v; want nothing to match", f, err)
	}
	f, err = EventFilter(map[string][]string{"scope": {"local"}, "type": {"container"}})
	if err != nil || f["scope"] != nil || f["type"][0] != "container" {
		t.Errorf("scope=local = %v, %v", f, err)
	}
}

func TestVolumeAndNetwork(t *testing.T) {
	v := Volume(&volumesvc.Volume{Name: "v", Anonymous: true, Labels: map[string]string{"x": "y"}})
	if _, ok := v.Labels["com.docker.volume.anonymous"]; !ok || v.Labels["x"] != "y" || v.Driver != "local" || v.CreatedAt != "" {
		t.Errorf("Volume = %+v", v)
	}
	n := Network(&netsvc.Network{Name: "bridge", ID: "n1", Driver: "bridge", Predefined: true, Bridge: "minibox0",
		Subnet: netip.MustParsePrefix("10.88.0.0/16"), Gateway: netip.MustParseAddr("10.88.0.1"),
		Containers: map[string]netsvc.Member{"c1": {Name: "web", Addr: netip.MustParsePrefix("10.88.0.2/16"), MAC: net.HardwareAddr{2, 0x42, 10, 88, 0, 2}}}})
	if n.Options["com.docker.network.bridge.name"] != "minibox0" || n.Attachable || len(n.IPAM.Config) != 1 ||
		n.Containers["c1"].EndpointID != "n1c1" || n.Containers["c1"].IPv4Address.String() != "10.88.0.2/16" ||
		n.Containers["c1"].MacAddress.String() != "02:42:0a:58:00:02" || n.IPAM.Config[0].Gateway.String() != "10.88.0.1" {
		t.Errorf("Network = %+v", n)
	}
	if u := Network(&netsvc.Network{Name: "u", Driver: "bridge", Bridge: "br-1"}); len(u.Options) != 0 || !u.Attachable || u.Labels == nil {
		t.Errorf("user network = %+v", u)
	}
}

func TestDiskReport(t *testing.T) {
	du := &api.DiskUsage{Items: []api.UsageItem{{Kind: "volume", Name: "v1", SizeBytes: 10}, {Kind: "build_cache", Name: "b", SizeBytes: 5}}}
	d := NewDiskReport(map[string]bool{"volume": true, "build-cache": true}, du)
	d.Containers(nil, time.Now())
	d.Volumes([]volumesvc.Volume{{Name: "v1", UsedBy: []string{"c"}}, {Name: "v2"}})
	out := d.Answer(true, false, true, false)
	if out.Images != nil || out.Containers != nil || out.Volumes == nil || len(*out.Volumes) != 2 || out.BuildCache == nil || len(*out.BuildCache) != 1 {
		t.Fatalf("legacy shape = %+v", out)
	}
	if out.VolUsage == nil || out.VolUsage.ActiveCount != 1 || out.VolUsage.TotalSize != 10 || out.VolUsage.Reclaimable != 0 || out.VolUsage.Items != nil {
		t.Errorf("volume usage = %+v", out.VolUsage)
	}
}
