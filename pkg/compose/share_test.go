package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minibox/minibox/pkg/compose/loader"
)

const shareFile = `services:
  base:
    image: busybox
    devices: ["/dev/null:/dev/mynull:rw", {source: /dev/zero, target: /dev/zero, permissions: r}, /dev/full, "/dev/fuse:rw"]
    group_add: [audio, "4242"]
    mem_reservation: 32M
    init: true
    cgroup: host
    volumes: [data:/data]
  join:
    image: busybox
    ipc: service:base
    pid: service:base
    uts: host
    volumes_from: ["base:ro", "container:other:rw"]
    links: ["base:db", base]
    deploy: {resources: {reservations: {memory: 16M, devices: [{driver: nvidia, count: 2, capabilities: [gpu, utility]}]}}}
  bridged:
    image: busybox
    network_mode: bridge
    links: ["old:o"]
    external_links: ["outside:x"]
  old:
    image: busybox
    network_mode: bridge
volumes: {data: {}}
`

func TestPlanShares(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(shareFile), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := loader.Load(context.Background(), loader.Options{WorkingDir: dir, Name: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{P: p}
	plan := func(svc string) *Plan {
		pl, err := PlanContainer(p, p.Services[svc], 1, "", r.containerOf)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	b := plan("base").Request
	if !slices.Equal(b.Devices, []string{"/dev/null:/dev/mynull:rw", "/dev/zero:r", "/dev/full", "/dev/fuse:rw"}) {
		t.Errorf("devices %q", b.Devices)
	}
	if !slices.Equal(b.GroupAdd, []string{"audio", "4242"}) || b.MemoryReservation != 32<<20 || b.CgroupNS != "host" || b.GPUs != "" {
		t.Errorf("base %+v", b)
	}
	// join takes base's IPC namespace, so base's is made shareable.
	if b.IPC != "shareable" {
		t.Errorf("base ipc %q", b.IPC)
	}
	// base is linked as db on the network both are on.
	if !slices.Contains(b.NetworkAlias, "db") || b.Network != "proj_default" {
		t.Errorf("base network %s aliases %v", b.Network, b.NetworkAlias)
	}
	j := plan("join").Request
	if j.IPC != "container:proj-base-1" || j.PID != "container:proj-base-1" || j.UTS != "host" {
		t.Errorf("join namespaces ipc %q pid %q uts %q", j.IPC, j.PID, j.UTS)
	}
	if !slices.Equal(j.VolumesFrom, []string{"proj-base-1:ro", "other:rw"}) {
		t.Errorf("volumes_from %q", j.VolumesFrom)
	}
	if j.MemoryReservation != 16<<20 || j.GPUs != "2" || len(j.Links) != 0 {
		t.Errorf("join reservation %d gpus %q links %q", j.MemoryReservation, j.GPUs, j.Links)
	}
	if br := plan("bridged").Request; br.Network != "bridge" || !slices.Equal(br.Links, []string{"proj-old-1:o", "outside:x"}) {
		t.Errorf("bridge links: network %s links %q", br.Network, br.Links)
	}
	if o := plan("old").Request; slices.Contains(o.NetworkAlias, "o") {
		t.Errorf("a bridge link became an alias: %v", o.NetworkAlias)
	}
}
