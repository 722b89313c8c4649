package cgroup

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/spec"
)

// The probe reads what a fake tree offers, and a full one yields no warnings.
func TestProbeFull(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) fake{"v1": fakeV1, "v2": fakeV2} {
		t.Run(name, func(t *testing.T) {
			f := mk(t).m.Features()
			if !f.Memory || !f.MemorySwap || !f.CPUCFS || !f.CPUShares || !f.Cpuset || !f.Pids || !f.Weight() {
				t.Errorf("Features of a full fake tree = %+v", f)
			}
			r := spec.Resources{Memory: 1 << 20, CPUQuota: 1000, CPUShares: 2, CpusetCpus: "0", PidsLimit: 3, BlkioWeight: 10}
			if w := f.Warnings(r); len(w) != 0 {
				t.Errorf("Warnings on a full host = %q", w)
			}
		})
	}
}

// A v2 host whose I/O scheduler has no weight and that accounts no swap: the probe says so
// (it looks in "minibox", which it makes with the controllers enabled, as Create would),
// Create skips those limits instead of failing, and the warnings name them.
func TestProbeV2Lacking(t *testing.T) {
	root := t.TempDir()
	put(t, filepath.Join(root, "cgroup.controllers"), "cpu io memory pids\n")
	put(t, filepath.Join(root, "minibox", "cpu.max"), "max 100000\n")
	m := NewV2(root)
	f := m.Features()
	want := Features{Version: 2, Controllers: []string{"cpu", "io", "memory", "pids"}, Freezer: true,
		Memory: true, CPUShares: true, CPUCFS: true, Pids: true, Devices: true}
	if !slices.Equal(f.Controllers, want.Controllers) {
		t.Errorf("Controllers = %v, want %v", f.Controllers, want.Controllers)
	}
	f.Controllers, want.Controllers = nil, nil
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Features = %+v\nwant        %+v", f, want)
	}
	if got, _ := read(root, "cgroup.subtree_control"); got != "+cpu +io +memory +pids" {
		t.Errorf("root subtree_control = %q: the probe must look where controllers are enabled", got)
	}
	r := spec.Resources{Memory: 32 << 20, PidsLimit: 5, IOWeight: 800, CpusetCpus: "0", MemoryReservation: 16 << 20}
	w := f.Warnings(r)
	for _, s := range []string{"Block I/O weight", "swap limit", "cpuset", "memory soft limit"} {
		if !slices.ContainsFunc(w, func(x string) bool { return strings.Contains(x, s) }) {
			t.Errorf("Warnings = %q, want one about %s", w, s)
		}
	}
	if len(w) != 4 {
		t.Errorf("Warnings = %q, want 4", w)
	}
	const path = "minibox/c"
	if err := m.Create(path, r); err != nil {
		t.Fatalf("Create with limits the host lacks: %v; want them skipped", err)
	}
	for file, want := range map[string]string{"memory.max": "33554432", "pids.max": "5"} {
		if got, _ := read(filepath.Join(root, path), file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	for _, file := range []string{"io.weight", "io.bfq.weight", "memory.swap.max", "cpuset.cpus"} {
		if exists(filepath.Join(root, path), file) {
			t.Errorf("%s written on a host without it", file)
		}
	}
}

// A v1 host like the build machine: blkio has only throttle files, no memsw, no hugetlb.
func TestProbeV1Lacking(t *testing.T) {
	root := t.TempDir()
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids", "blkio", "freezer", "devices"} {
		os.MkdirAll(filepath.Join(root, c), 0o755)
	}
	put(t, filepath.Join(root, "blkio", "blkio.throttle.read_bps_device"), "")
	put(t, filepath.Join(root, "cpu", "cpu.shares"), "1024\n")
	m := NewV1(root)
	f := m.Features()
	if f.Weight() || f.MemorySwap || f.CPUCFS || f.Cpuset || f.Hugetlb || !f.Memory || !f.Pids || !f.CPUShares {
		t.Errorf("Features = %+v", f)
	}
	r := spec.Resources{Memory: 32 << 20, BlkioWeight: 300, CPUShares: 512, CPUQuota: 50000}
	if w := f.Warnings(r); len(w) != 3 {
		t.Errorf("Warnings = %q, want weight, swap and CFS", w)
	}
	const path = "minibox/c"
	if err := m.Create(path, r); err != nil {
		t.Fatalf("Create with limits the host lacks: %v; want them skipped", err)
	}
	if got, _ := read(filepath.Join(root, "cpu", path), "cpu.shares"); got != "512" {
		t.Errorf("cpu.shares = %q, want 512", got)
	}
	for _, file := range []string{"blkio/" + path + "/blkio.weight", "blkio/" + path + "/blkio.bfq.weight",
		"memory/" + path + "/memory.memsw.limit_in_bytes", "cpu/" + path + "/cpu.cfs_quota_us"} {
		if exists(root, file) {
			t.Errorf("%s written on a host without it", file)
		}
	}
}

// The soft limit and extra device rules are planned where the host has them.
func TestWritesReservationAndDevices(t *testing.T) {
	r := spec.Resources{MemoryReservation: 64 << 20, Devices: []string{"c 10:229 rw"}}
	v1 := v1Writes(r, Features{MemoryReservation: true, Devices: true})
	want1 := []v1Write{{controller: "memory", file: "memory.soft_limit_in_bytes", value: "67108864"},
		{controller: "devices", file: "devices.allow", value: "c 10:229 rw"}}
	if !reflect.DeepEqual(v1, want1) {
		t.Errorf("v1Writes = %+v, want %+v", v1, want1)
	}
	if w := v1Writes(r, Features{}); len(w) != 0 {
		t.Errorf("v1Writes without the files = %+v, want none", w)
	}
	v2 := v2Writes(r, Features{MemoryReservation: true})
	if want := []fileWrite{{"memory.low", "67108864"}}; !reflect.DeepEqual(v2, want) {
		t.Errorf("v2Writes = %+v, want %+v", v2, want)
	}
	if _, err := deviceProgram(append(DefaultDevices, r.Devices...)); err != nil {
		t.Errorf("deviceProgram with a --device rule: %v", err)
	}
}
