package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// fake is a Manager over a fake tree plus where each logical file lives in that tree.
type fake struct {
	m     Manager
	root  string
	files map[string]string // logical name -> path below root, "%s" = cgroup path
}

func fakeV1(t *testing.T) fake {
	root := t.TempDir()
	for _, c := range v1Controllers {
		os.MkdirAll(filepath.Join(root, c), 0o755)
	}
	put(t, filepath.Join(root, "cpuset", "cpuset.cpus"), "0-1\n")
	put(t, filepath.Join(root, "cpuset", "cpuset.mems"), "0\n")
	put(t, filepath.Join(root, "memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n")
	// The hierarchy roots' files the probe looks for: a CFQ host with CFS bandwidth.
	for _, f := range []string{"cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.rt_runtime_us", "blkio/blkio.weight"} {
		put(t, filepath.Join(root, f), "0\n")
	}
	return fake{NewV1(root), root, map[string]string{
		"memory":     "memory/%s/memory.limit_in_bytes",
		"swap":       "memory/%s/memory.memsw.limit_in_bytes",
		"cpu":        "cpu/%s/cpu.cfs_quota_us",
		"period":     "cpu/%s/cpu.cfs_period_us",
		"shares":     "cpu/%s/cpu.shares",
		"cpuset":     "cpuset/%s/cpuset.cpus",
		"mems":       "cpuset/%s/cpuset.mems",
		"pids":       "pids/%s/workload/pids.max",
		"io":         "blkio/%s/blkio.weight",
		"procs":      "pids/%s/cgroup.procs",
		"memprocs":   "memory/%s/cgroup.procs",
		"devices":    "devices/%s/devices.allow",
		"freeze":     "freezer/%s/freezer.state",
		"parentcpus": "cpuset/minibox/cpuset.cpus",
	}}
}

func fakeV2(t *testing.T) fake {
	root := t.TempDir()
	put(t, filepath.Join(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n")
	put(t, filepath.Join(root, "memory.swap.max"), "max\n")
	// The probe looks in "minibox": on cgroupfs these appear once the root enables the
	// controllers; a fake tree has them from the start.
	for _, f := range []string{"io.weight", "cpu.max", "memory.swap.max"} {
		put(t, filepath.Join(root, "minibox", f), "max\n")
	}
	return fake{NewV2(root), root, map[string]string{
		"memory":  "%s/memory.max",
		"swap":    "%s/memory.swap.max",
		"cpu":     "%s/cpu.max",
		"shares":  "%s/cpu.weight",
		"cpuset":  "%s/cpuset.cpus",
		"pids":    "%s/pids.max",
		"io":      "%s/io.weight",
		"procs":   "%s/cgroup.procs",
		"freeze":  "%s/cgroup.freeze",
		"subtree": "minibox/cgroup.subtree_control",
		"rootsub": "cgroup.subtree_control",
	}}
}

func put(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f fake) get(t *testing.T, key, path string) string {
	t.Helper()
	p, ok := f.files[key]
	if !ok {
		t.Fatalf("no file %q in this layout", key)
	}
	p = strings.Replace(p, "%s", path, 1)
	b, err := os.ReadFile(filepath.Join(f.root, p))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return strings.TrimSpace(string(b))
}

func (f fake) set(t *testing.T, path, file, s string) {
	t.Helper()
	put(t, filepath.Join(f.root, path, file), s)
}

// freezeThaw freezes and thaws the cgroup at path, checking what each leaves.
func freezeThaw(t *testing.T, f fake, path string) {
	t.Helper()
	if f.m.Version() == 2 {
		f.set(t, path, "cgroup.events", "populated 1\nfrozen 1\n")
	}
	if err := f.m.Freeze(path); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, "freeze", path); got != map[int]string{1: "FROZEN", 2: "1"}[f.m.Version()] {
		t.Errorf("after Freeze, %q", got)
	}
	if frozen, err := f.m.Frozen(path); err != nil || !frozen {
		t.Errorf("Frozen after Freeze = %v, %v", frozen, err)
	}
	if f.m.Version() == 2 {
		f.set(t, path, "cgroup.events", "populated 1\nfrozen 0\n")
	}
	if err := f.m.Thaw(path); err != nil {
		t.Fatal(err)
	}
	if frozen, err := f.m.Frozen(path); err != nil || frozen {
		t.Errorf("Frozen after Thaw = %v, %v", frozen, err)
	}
}

// The contract both versions keep, on fake trees; what differs is only file names and units.
func TestContract(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) fake{"v1": fakeV1, "v2": fakeV2} {
		t.Run(name, func(t *testing.T) {
			f := mk(t)
			const path = "minibox/0123abcd"
			r := spec.Resources{Memory: 32 << 20, CPUQuota: 50000, CPUShares: 512, CpusetCpus: "1",
				PidsLimit: 20, BlkioWeight: 500, WorkloadApart: true}
			if err := f.m.Create(path, r); err != nil {
				t.Fatal(err)
			}
			var want map[string]string
			if f.m.Version() == 1 {
				want = map[string]string{"memory": "33554432", "swap": "33554432", "cpu": "50000",
					"period": "100000", "shares": "512", "cpuset": "1", "mems": "0", "pids": "20",
					"io": "500", "parentcpus": "0-1", "devices": DefaultDevices[len(DefaultDevices)-1]}
			} else {
				want = map[string]string{"memory": "33554432", "swap": "0", "cpu": "50000 100000",
					"shares": "20", "cpuset": "1", "pids": "20", "io": "default 4950",
					"subtree": "+cpuset +cpu +io +memory +pids", "rootsub": "+cpuset +cpu +io +memory +pids"}
			}
			for k, v := range want {
				if got := f.get(t, k, path); got != v {
					t.Errorf("after Create, %s = %q, want %q", k, got, v)
				}
			}

			// Update changes only what it is given; swap -1 is unlimited.
			if err := f.m.Update(path, spec.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: -1, WorkloadApart: true}); err != nil {
				t.Fatal(err)
			}
			swap := map[int]string{1: "-1", 2: "max"}[f.m.Version()]
			for k, v := range map[string]string{"memory": "67108864", "swap": swap, "pids": "max", "cpuset": "1"} {
				if got := f.get(t, k, path); got != v {
					t.Errorf("after Update, %s = %q, want %q", k, got, v)
				}
			}

			if err := f.m.Add(path, 4242); err != nil {
				t.Fatal(err)
			}
			if got := f.get(t, "procs", path); got != "4242" {
				t.Errorf("cgroup.procs = %q after Add, want 4242", got)
			}
			if f.m.Version() == 1 {
				if got := f.get(t, "memprocs", path); got != "4242" {
					t.Errorf("v1 memory cgroup.procs = %q, want the pid in every hierarchy", got)
				}
				put(t, filepath.Join(f.root, "pids", path, "cgroup.procs"), "4242\n4243\n")
			} else {
				f.set(t, path, "cgroup.procs", "4242\n4243\n")
			}
			if got, err := f.m.Pids(path); err != nil || !slices.Equal(got, []int{4242, 4243}) {
				t.Errorf("Pids = %v, %v; want [4242 4243]", got, err)
			}

			stats(t, f, path)

			freezeThaw(t, f, path)

			if err := f.m.Remove(path); err != nil {
				t.Fatal(err)
			}
			filepath.WalkDir(f.root, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && filepath.Base(p) == "0123abcd" {
					t.Errorf("%s left after Remove", p)
				}
				return nil
			})
			if err := f.m.Remove(path); err != nil {
				t.Errorf("Remove of a removed cgroup: %v", err)
			}
			for _, bad := range []string{"", "/", "../x", "minibox/../../etc"} {
				if err := f.m.Create(bad, spec.Resources{}); !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("Create(%q) = %v, want an invalid error", bad, err)
				}
			}
		})
	}
}

// stats writes the kernel's files in the version's format and checks what Stats makes of
// them: memory without inactive file cache, "max"/huge limits as 0, µs of CPU.
func stats(t *testing.T, f fake, path string) {
	t.Helper()
	if f.m.Version() == 1 {
		w := func(c, file, s string) { put(t, filepath.Join(f.root, c, path, file), s) }
		w("memory", "memory.usage_in_bytes", "10485760\n")
		w("memory", "memory.stat", "cache 4096\ninactive_file 1\ntotal_inactive_file 2097152\n")
		w("memory", "memory.limit_in_bytes", "9223372036854771712\n")
		w("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
		w("cpuacct", "cpuacct.usage", "1234567890\n")
		w("pids", "pids.current", "3\n")
		w("pids", "pids.max", "max\n")
		w("pids", "workload/pids.current", "2\n")
		w("pids", "workload/pids.max", "20\n")
		w("blkio", "blkio.throttle.io_service_bytes_recursive",
			"8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\n8:16 Read 1\nTotal 12289\n")
	} else {
		f.set(t, path, "memory.current", "10485760\n")
		f.set(t, path, "memory.stat", "anon 1\nfile 4096\ninactive_file 2097152\n")
		f.set(t, path, "memory.max", "max\n")
		f.set(t, path, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
		f.set(t, path, "cpu.stat", "usage_usec 1234567\nuser_usec 1000000\n")
		f.set(t, path, "pids.current", "3\n")
		f.set(t, path, "pids.max", "max\n")
		f.set(t, path, "io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=0 rios=1 wios=0\n")
	}
	got, err := f.m.Stats(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 8 << 20, MemoryLimit: 0, CPUUsageUsec: 1234567, Pids: 3, BlockRead: 4097, BlockWrite: 8192}
	if f.m.Version() == 1 { // the workload's own cgroup in the pids hierarchy
		want.WorkloadPids, want.WorkloadPidsLimit = 2, 20
	}
	if *got != want {
		t.Errorf("Stats = %+v, want %+v", *got, want)
	}
	if oom, err := f.m.OOMKilled(path); err != nil || !oom {
		t.Errorf("OOMKilled = %v, %v; want true", oom, err)
	}
}

func TestConversions(t *testing.T) {
	for shares, want := range map[uint64]uint64{2: 1, 1024: 39, 262144: 10000, 1: 1} {
		if got := cpuWeight(shares); got != want {
			t.Errorf("cpuWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	if got := ioWeight(spec.Resources{BlkioWeight: 10}); got != 1 {
		t.Errorf("ioWeight(blkio 10) = %d, want 1", got)
	}
	if got := ioWeight(spec.Resources{BlkioWeight: 1000}); got != 10000 {
		t.Errorf("ioWeight(blkio 1000) = %d, want 10000", got)
	}
	if got := blkioWeight(spec.Resources{IOWeight: 800}); got != 89 {
		t.Errorf("blkioWeight(io 800) = %d, want 89", got)
	}
	for _, c := range []struct {
		r    spec.Resources
		want string
		ok   bool
	}{
		{spec.Resources{Memory: 100, MemorySwap: 300}, "200", true},
		{spec.Resources{Memory: 100}, "0", true},
		{spec.Resources{MemorySwap: -1}, "max", true},
		{spec.Resources{}, "", false},
	} {
		if got, ok := swapMax(c.r); got != c.want || ok != c.ok {
			t.Errorf("swapMax(%+v) = %q, %v; want %q, %v", c.r, got, ok, c.want, c.ok)
		}
	}
}

func TestDeviceRules(t *testing.T) {
	for _, r := range append([]string{"a"}, DefaultDevices...) {
		if _, err := parseDevice(r); err != nil {
			t.Error(err)
		}
	}
	for _, r := range []string{"x 1:3 rwm", "c 1 rwm", "c 1:3 rwx", "c a:3 r"} {
		if _, err := parseDevice(r); err == nil {
			t.Errorf("parseDevice(%q) accepted", r)
		}
	}
	p, err := deviceProgram([]string{"c 1:3 rw"})
	if err != nil {
		t.Fatal(err)
	}
	// 6 loads, type check, 3 access, major, minor, return 1 + exit, return 0 + exit.
	if len(p) != 8*16 {
		t.Errorf("device program has %d instructions, want 16", len(p)/8)
	}
}
