package loader

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const shareFile = `services:
  base:
    image: busybox
    devices: ["/dev/null:/dev/mynull:rw", {source: /dev/zero, target: /dev/z, permissions: r}]
    group_add: [audio, "4242"]
    mem_reservation: 32M
    init: true
    cgroup: host
  ipcjoin:
    image: busybox
    ipc: service:base
    pid: service:base
    uts: host
    volumes_from: ["base:ro", "container:other"]
    links: ["base:db"]
    deploy: {resources: {reservations: {memory: 16M, devices: [{driver: nvidia, device_ids: ["0", "1"], capabilities: [gpu]}]}}}
  gpu:
    image: busybox
    gpus: all
`

func loadString(t *testing.T, body string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "share.yaml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), Options{Files: []string{f}, Name: "p"})
	return f, err
}

// TestLoadShares: the keys load into compose-go's types, and references to other services
// order startup.
func TestLoadShares(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(f, []byte(shareFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), Options{Files: []string{f}, Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	b, j := p.Services["base"], p.Services["ipcjoin"]
	if len(b.Devices) != 2 || b.Devices[0].Target != "/dev/mynull" || b.Devices[1].Permissions != "r" {
		t.Errorf("devices %+v", b.Devices)
	}
	if !slices.Equal(b.GroupAdd, []string{"audio", "4242"}) || b.MemReservation != 32<<20 || b.Init == nil || !*b.Init || b.Cgroup != "host" {
		t.Errorf("base %+v", b)
	}
	for _, dep := range []string{"base"} {
		if _, ok := j.DependsOn[dep]; !ok {
			t.Errorf("ipcjoin does not depend on %s: %v", dep, j.DependsOn)
		}
	}
	order, err := Order(p)
	if err != nil || slices.Index(order, "base") > slices.Index(order, "ipcjoin") {
		t.Errorf("order %v %v", order, err)
	}
	if got := GPUs(j); got != "device=0,1" {
		t.Errorf("deploy GPUs %q", got)
	}
	if got := GPUs(p.Services["gpu"]); got != "all" {
		t.Errorf("gpus: all gave %q", got)
	}
	if got := GPUs(b); got != "" {
		t.Errorf("no GPUs gave %q", got)
	}
}

// TestLoadSharesRefused: a value minibox cannot honour is an error naming the file and
// the key, never dropped.
func TestLoadSharesRefused(t *testing.T) {
	const head = "services:\n  a:\n    image: busybox\n  web:\n    image: busybox\n"
	for _, c := range []struct{ keys, want string }{
		{"    ipc: service:nosuch\n", `services.web.ipc: unknown service "nosuch"`},
		{"    ipc: weird\n", `services.web.ipc: "weird": expected private, shareable, host, none`},
		{"    ipc: service:web\n", `services.web.ipc: "web": a service cannot refer to itself`},
		{"    pid: private\n", `services.web.pid: "private": expected host`},
		{"    uts: container:x\n", `services.web.uts: "container:x": expected host`},
		{"    uts: host\n    hostname: h\n", `services.web.uts: host`},
		{"    cgroup: other\n", `services.web.cgroup: "other"`},
		{"    devices: [vendor.com/gpu=all]\n", `services.web.devices[0]: "vendor.com/gpu=all"`},
		{"    devices: [{source: /dev/null, target: /dev/null, permissions: x}]\n", `services.web.devices[0]: permissions "x"`},
		{"    devices: [\"/dev/null:dev/x\"]\n", `services.web.devices[0]: target "dev/x": expected an absolute path`},
		{"    group_add: [\"a:b\"]\n", `services.web.group_add[0]`},
		{"    volumes_from: [nosuch]\n", `services.web.volumes_from[0]: unknown service "nosuch"`},
		{"    volumes_from: [\"a:rx\"]\n", `services.web.volumes_from[0]: "a:rx"`},
		{"    links: [nosuch]\n", `services.web.links[0]: unknown service "nosuch"`},
		{"    links: [\"a:bad alias\"]\n", `services.web.links[0]: alias "bad alias"`},
		{"    network_mode: host\n    links: [a]\n", `services.web.links[0]: links need a network`},
		{"    external_links: [outside:o]\n", `services.web.external_links[0]: "outside:o": a container outside the project`},
		{"    gpus: [{driver: amd}]\n", `services.web.gpus[0].driver: "amd"`},
		{"    deploy: {resources: {reservations: {devices: [{capabilities: [tpu]}]}}}\n", `services.web.deploy.resources.reservations.devices[0].capabilities`},
		{"    deploy: {resources: {reservations: {devices: [{capabilities: [gpu], count: 1, device_ids: [\"0\"]}]}}}\n", `"count" and "device_ids" attributes are exclusive`},
		{"    deploy: {resources: {reservations: {devices: [{capabilities: [gpu], device_ids: [GPU-abc]}]}}}\n", `device_ids: "GPU-abc"`},
		{"    gpus: all\n    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n", `one GPU request per service`},
	} {
		_, err := loadString(t, head+c.keys)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "share.yaml") {
			t.Errorf("%q: err = %v, want it to name share.yaml and say %q", c.keys, err, c.want)
		}
	}
	// The other service's IPC cannot be private when another joins it.
	if _, err := loadString(t, "services:\n  a:\n    image: busybox\n    ipc: private\n  web:\n    image: busybox\n    ipc: service:a\n"); err == nil || !strings.Contains(err.Error(), `service "a" has ipc: private`) {
		t.Errorf("joining a private IPC namespace: %v", err)
	}
	// Links on the default bridge need both there.
	if _, err := loadString(t, "services:\n  a:\n    image: busybox\n  web:\n    image: busybox\n    network_mode: bridge\n    links: [a]\n"); err == nil || !strings.Contains(err.Error(), `not on the default bridge`) {
		t.Errorf("bridge link to a project network: %v", err)
	}
	if _, err := loadString(t, "services:\n  a:\n    image: busybox\n    network_mode: bridge\n  web:\n    image: busybox\n    network_mode: bridge\n    links: [a]\n    external_links: [\"x:y\"]\n"); err != nil {
		t.Errorf("links on the default bridge: %v", err)
	}
}
