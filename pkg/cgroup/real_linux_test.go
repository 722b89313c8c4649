package cgroup

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
	"golang.org/x/sys/unix"
)

const childEnv = "MINIBOX_CGROUP_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child waits for a line on stdin (the parent has put it in its cgroup by then), then
// does what mode says and prints the outcome.
func child(mode string) int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	verb, arg, _ := strings.Cut(mode, " ")
	switch verb {
	case "alloc": // MiB, touched page by page so they are charged
		n, _ := strconv.Atoi(arg)
		var keep [][]byte
		for i := 0; i < n; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep))
	case "fork": // start n sleepers, count refusals
		n, _ := strconv.Atoi(arg)
		var started []*exec.Cmd
		failed := 0
		for i := 0; i < n; i++ {
			c := exec.Command("/bin/sleep", "30")
			if err := c.Start(); err != nil {
				failed++
				continue
			}
			started = append(started, c)
		}
		for _, c := range started {
			c.Process.Kill()
			c.Wait()
		}
		fmt.Println("started", len(started), "failed", failed)
	case "spin": // burn one CPU for a while
		d, _ := time.ParseDuration(arg)
		end := time.Now().Add(d)
		x := 0
		for time.Now().Before(end) {
			x++
		}
		fmt.Println("spun", x > 0)
	case "open": // mknod a device and try to read it: "open <major>:<minor>"
		dir, _ := os.MkdirTemp("", "devtest")
		defer os.RemoveAll(dir)
		maj, min, _ := strings.Cut(arg, ":")
		ma, _ := strconv.Atoi(maj)
		mi, _ := strconv.Atoi(min)
		node := filepath.Join(dir, "blk")
		if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(ma), uint32(mi)))); err != nil {
			fmt.Println("mknod", err)
			return 0
		}
		f, err := os.Open(node)
		if err != nil {
			fmt.Println("open", errors.Unwrap(err))
			return 0
		}
		f.Close()
		null, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		if err != nil {
			fmt.Println("null", err)
			return 0
		}
		null.Close()
		fmt.Println("open ok")
	}
	return 0
}

// started is a child waiting on its stdin.
type started struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out strings.Builder
}

func startChild(t *testing.T, mode string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	s.cmd.Env = append(os.Environ(), childEnv+"="+mode, "GOMAXPROCS=1")
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	var err error
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill() // by our own PID; a no-op once it has exited
		s.cmd.Wait()
	})
	return s
}

func (s *started) run() error {
	s.in.Write([]byte("go\n"))
	s.in.Close()
	return s.cmd.Wait()
}

// testCgroup returns a unique "minibox-test-<rand>/c" path and removes both levels after
// the test, whatever happened.
func testCgroup(t *testing.T, m Manager) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	top := "minibox-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := m.Remove(top); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return top + "/c"
}

func realV1(t *testing.T) Manager {
	t.Helper()
	testutil.RequirePrivileged(t)
	m, err := Open(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 1 {
		t.Skip("this host has cgroup v2; the v1 tests need v1 controllers")
	}
	return m
}

func TestV1Real(t *testing.T) {
	m := realV1(t)
	path := testCgroup(t, m)
	r := spec.Resources{Memory: 64 << 20, CPUQuota: 50000, CPUShares: 256, PidsLimit: 50, CpusetCpus: "0", BlkioWeight: 300}
	if err := m.Create(path, r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory/" + path + "/memory.limit_in_bytes": "67108864",
		"cpu/" + path + "/cpu.cfs_quota_us":         "50000",
		"cpu/" + path + "/cpu.shares":               "256",
		"pids/" + path + "/pids.max":                "50",
		"cpuset/" + path + "/cpuset.cpus":           "0",
		"freezer/" + path + "/freezer.state":        "THAWED",
	}
	// What the host lacks is asserted as skipped with a warning, what it has as applied.
	f := m.Features()
	warnings := f.Warnings(r)
	t.Logf("features %+v; warnings %q", f, warnings)
	warned := func(about string) bool {
		return slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, about) })
	}
	weight := map[bool]string{true: "blkio.weight", false: "blkio.bfq.weight"}[f.BlkioWeight]
	if f.Weight() {
		want["blkio/"+path+"/"+weight] = "300"
	} else {
		if !warned("Block I/O weight") {
			t.Errorf("no blkio weight file on this host, but no warning: %q", warnings)
		}
		for _, file := range []string{"blkio.weight", "blkio.bfq.weight"} {
			if exists(filepath.Join(Root, "blkio", path), file) {
				t.Errorf("probe says no %s, yet the cgroup has one", file)
			}
		}
	}
	if f.MemorySwap {
		want["memory/"+path+"/memory.memsw.limit_in_bytes"] = "67108864"
	} else if !warned("swap limit") {
		t.Errorf("no memsw on this host, but no warning: %q", warnings)
	}
	for file, want := range want {
		if got, _ := read(Root, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if mems, _ := read(Root, "cpuset/"+filepath.Dir(path)+"/cpuset.mems"); mems == "" {
		t.Error("intermediate cpuset cgroup has no mems: tasks could not join")
	}
	if err := m.Update(path, spec.Resources{Memory: 128 << 20}); err != nil { // raising: memsw first
		t.Fatal(err)
	}
	if got, _ := read(Root, "memory/"+path+"/memory.memsw.limit_in_bytes"); f.MemorySwap && got != "134217728" {
		t.Errorf("memsw after raising = %s, want 134217728", got)
	}

	v1Tasks(t, m, path)
	if err := m.Remove(path); err != nil {
		t.Fatal(err)
	}
	for _, c := range v1Controllers {
		if _, err := os.Stat(filepath.Join(Root, c, path)); err == nil {
			t.Errorf("%s/%s left after Remove", c, path)
		}
	}
}

// v1Tasks runs a child in the cgroup at path and checks membership, rename, freeze and
// the stats it leaves.
func v1Tasks(t *testing.T, m Manager, path string) {
	t.Helper()
	c := startChild(t, "spin 300ms")
	if err := m.Add(path, c.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Pids(path); err != nil || !slices.Contains(got, c.cmd.Process.Pid) {
		t.Errorf("Pids = %v, %v; want it to hold %d", got, err, c.cmd.Process.Pid)
	}
	// A renamed cgroup keeps its processes (how a warm init becomes a container's).
	renamed := path + "-renamed"
	if err := m.Rename(path, renamed); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Pids(renamed); err != nil || !slices.Contains(got, c.cmd.Process.Pid) {
		t.Errorf("Pids after Rename = %v, %v; want it to hold %d", got, err, c.cmd.Process.Pid)
	}
	if kids, err := m.Children(filepath.Dir(path)); err != nil || !slices.Contains(kids, filepath.Base(renamed)) {
		t.Errorf("Children = %v, %v; want %s", kids, err, filepath.Base(renamed))
	}
	if err := m.Rename(renamed, path); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(path); err != nil {
		t.Fatal(err)
	}
	if st := procState(c.cmd.Process.Pid); !strings.HasPrefix(st, "D") && !strings.HasPrefix(st, "S") {
		t.Errorf("frozen task state %q, want it stopped in the freezer", st)
	}
	if frozen, err := m.Frozen(path); err != nil || !frozen {
		t.Errorf("Frozen of a frozen cgroup = %v, %v", frozen, err)
	}
	if err := m.Thaw(path); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.Frozen(path); err != nil || frozen {
		t.Errorf("Frozen of a thawed cgroup = %v, %v", frozen, err)
	}
	if err := c.run(); err != nil {
		t.Fatalf("child: %v\n%s", err, c.out.String())
	}
	s, err := m.Stats(path)
	if err != nil {
		t.Fatal(err)
	}
	usage, _ := readUint(Root, "cpuacct/"+path+"/cpuacct.usage")
	if s.CPUUsageUsec == 0 || s.CPUUsageUsec != usage/1000 {
		t.Errorf("CPUUsageUsec = %d, cpuacct.usage says %d ns", s.CPUUsageUsec, usage)
	}
	if s.MemoryLimit != 128<<20 || s.PidsLimit != 50 {
		t.Errorf("limits in Stats: memory %d pids %d", s.MemoryLimit, s.PidsLimit)
	}
	if oom, err := m.OOMKilled(path); err != nil || oom {
		t.Errorf("OOMKilled = %v, %v; want false", oom, err)
	}
}

func procState(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "State:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// A process allocating past a 32 MiB limit (no swap) is killed by the OOM killer, and the
// cgroup says so.
func TestV1OOMKill(t *testing.T) {
	m := realV1(t)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{Memory: 32 << 20}); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "alloc 128")
	if err := m.Add(path, c.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	err := c.run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child allocating 128 MiB under 32 MiB: %v, want SIGKILL\n%s", err, c.out.String())
	}
	if oom, err := m.OOMKilled(path); err != nil || !oom {
		t.Errorf("OOMKilled = %v, %v; want true", oom, err)
	}
}

// pids.max stops a fork loop: Go's own threads count too, so fewer than 20 children start.
func TestV1PidsLimit(t *testing.T) {
	m := realV1(t)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{PidsLimit: 20}); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "fork 40")
	if err := m.Add(path, c.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := c.run(); err != nil {
		t.Fatalf("child: %v\n%s", err, c.out.String())
	}
	var n, failed int
	if _, err := fmt.Sscanf(c.out.String(), "started %d failed %d", &n, &failed); err != nil {
		t.Fatalf("child said %q", c.out.String())
	}
	if n >= 20 || failed == 0 {
		t.Errorf("started %d, failed %d under pids.max 20; want the limit to refuse forks", n, failed)
	}
	ev, _ := keyValues(filepath.Join(Root, "pids", path), "pids.events")
	if ev["max"] == 0 {
		t.Errorf("pids.events max = 0, want refusals counted")
	}
}

// A quota of 50% holds a busy loop to at most about half a CPU, measured from
// cpuacct.usage. Only the ceiling is the quota's doing: on a busy host the loop may get
// less, and then the kernel never had to throttle it.
func TestV1CPUQuota(t *testing.T) {
	m := realV1(t)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{CPUQuota: 50000, CPUPeriod: 100000}); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "spin 2s")
	if err := m.Add(path, c.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Stats(path)
	if err := c.run(); err != nil {
		t.Fatalf("child: %v\n%s", err, c.out.String())
	}
	after, _ := m.Stats(path)
	// Over the loop's own 2 s, not the child's whole life: a slow start-up (the race
	// detector's, a loaded host) would dilute the share.
	const spun = 2 * time.Second
	share := float64(after.CPUUsageUsec-before.CPUUsageUsec) / float64(spun.Microseconds())
	t.Logf("busy loop used %.2f of a CPU over its %s", share, spun)
	if share > 0.6 {
		t.Errorf("busy loop under a 50%% quota used %.2f of a CPU, want at most about 0.5", share)
	}
	if q, _ := read(Root, "cpu/"+path+"/cpu.cfs_quota_us"); q != "50000" {
		t.Errorf("cpu.cfs_quota_us = %q, want 50000", q)
	}
}

// The v2 device filter is a BPF program; this hybrid host's empty unified hierarchy takes
// one, so it is tested for real there: an unlisted block device cannot be opened until
// AllowAllDevices replaces the program.
func TestV2DeviceFilter(t *testing.T) {
	testutil.RequirePrivileged(t)
	unified := Root
	if _, err := os.Stat(filepath.Join(Root, "unified", "cgroup.procs")); err == nil {
		unified = filepath.Join(Root, "unified")
	} else if _, err := os.Stat(filepath.Join(Root, "cgroup.controllers")); err != nil {
		t.Fatal("no cgroup2 hierarchy on this host")
	}
	m := NewV2(unified)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{}); err != nil {
		t.Fatal(err)
	}
	// An unbound loop device opens without side effects (and this VM refuses opening
	// its disk to anyone).
	var st unix.Stat_t
	if err := unix.Stat("/dev/loop0", &st); err != nil {
		t.Fatalf("need a loop device: %v", err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	try := func() string {
		c := startChild(t, "open "+dev)
		if err := m.Add(path, c.cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if err := c.run(); err != nil {
			t.Fatalf("child: %v\n%s", err, c.out.String())
		}
		return strings.TrimSpace(c.out.String())
	}
	if got := try(); got != "open operation not permitted" {
		t.Errorf("opening block device %s under the default filter: %q, want EPERM", dev, got)
	}
	if err := m.AllowAllDevices(path); err != nil {
		t.Fatal(err)
	}
	if got := try(); got != "open ok" {
		t.Errorf("opening block device %s after AllowAllDevices: %q, want ok", dev, got)
	}
}

// The v1 devices controller keeps Docker's allowlist: mknod works, opening does not.
func TestV1Devices(t *testing.T) {
	m := realV1(t)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{}); err != nil {
		t.Fatal(err)
	}
	try := func() string {
		c := startChild(t, "open 7:0")
		if err := m.Add(path, c.cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if err := c.run(); err != nil {
			t.Fatalf("child: %v\n%s", err, c.out.String())
		}
		return strings.TrimSpace(c.out.String())
	}
	if got := try(); got != "open operation not permitted" {
		t.Errorf("opening loop0 under the default allowlist: %q, want EPERM", got)
	}
	if err := m.AllowAllDevices(path); err != nil {
		t.Fatal(err)
	}
	if got := try(); got != "open ok" {
		t.Errorf("opening loop0 after AllowAllDevices: %q, want ok", got)
	}
}

// The hybrid host's unified hierarchy has no controllers, but the core of v2 (cgroup.procs,
// cgroup.freeze and cgroup.events, cpu.stat) works there, so V2 is exercised for real too.
func TestV2RealCore(t *testing.T) {
	testutil.RequirePrivileged(t)
	unified := filepath.Join(Root, "unified")
	if _, err := os.Stat(filepath.Join(unified, "cgroup.procs")); err != nil {
		if _, err := os.Stat(filepath.Join(Root, "cgroup.controllers")); err != nil {
			t.Fatal("no cgroup2 hierarchy on this host")
		}
		unified = Root
	}
	m := NewV2(unified)
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{}); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "spin 200ms")
	if err := m.Add(path, c.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Pids(path); err != nil || !slices.Contains(got, c.cmd.Process.Pid) {
		t.Errorf("Pids = %v, %v; want it to hold %d", got, err, c.cmd.Process.Pid)
	}
	// The kernel renames only v1 cgroups: the engine's warm shims join theirs instead.
	if err := m.Rename(path, path+"-renamed"); err == nil {
		t.Error("Rename of a v2 cgroup succeeded; the engine assumes the kernel refuses it")
	}
	if kids, err := m.Children(filepath.Dir(path)); err != nil || !slices.Contains(kids, filepath.Base(path)) {
		t.Errorf("Children = %v, %v; want %s", kids, err, filepath.Base(path))
	}
	if err := m.Freeze(path); err != nil {
		t.Fatal(err)
	}
	if ev, _ := keyValues(filepath.Join(unified, path), "cgroup.events"); ev["frozen"] != 1 {
		t.Errorf("cgroup.events frozen = %d after Freeze", ev["frozen"])
	}
	if err := m.Thaw(path); err != nil {
		t.Fatal(err)
	}
	if err := c.run(); err != nil {
		t.Fatalf("child: %v\n%s", err, c.out.String())
	}
	s, err := m.Stats(path)
	if err != nil {
		t.Fatal(err)
	}
	cpu, _ := keyValues(filepath.Join(unified, path), "cpu.stat")
	if s.CPUUsageUsec == 0 || s.CPUUsageUsec != cpu["usage_usec"] {
		t.Errorf("CPUUsageUsec = %d, cpu.stat usage_usec = %d", s.CPUUsageUsec, cpu["usage_usec"])
	}
	if err := m.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(unified, path)); err == nil {
		t.Error("cgroup left after Remove")
	}
}

// A thread that joins a cgroup forks into it, and leaves for where it was: the process
// it forked is in the cgroup in every hierarchy, the thread and the rest of its process
// in none.
func TestV1JoinThread(t *testing.T) {
	m := realV1(t)
	v1 := m.(*V1)
	if !v1.ThreadsCanJoin() {
		t.Skip("this process's cgroups are not under " + Root + " (a cgroup namespace)")
	}
	path := testCgroup(t, m)
	if err := m.Create(path, spec.Resources{}); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		child, thread []byte
		err           error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		leave, err := v1.JoinThread(path)
		if err != nil {
			done <- result{err: err}
			return
		}
		cmd := exec.Command("cat", "/proc/self/cgroup")
		child, cerr := cmd.Output()
		lerr := leave()
		thread, _ := os.ReadFile("/proc/thread-self/cgroup")
		done <- result{child, thread, errors.Join(cerr, lerr)}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, c := range v1Controllers {
		if !v1.has(c) {
			continue
		}
		if !regexpLine(c, "/"+path).MatchString(string(r.child)) {
			t.Errorf("the child's %s cgroup is not %s:\n%s", c, path, r.child)
		}
	}
	if string(r.thread) != string(self) {
		t.Errorf("the thread after leaving:\n%s\nwant where the process is:\n%s", r.thread, self)
	}
	if now, _ := os.ReadFile("/proc/self/cgroup"); string(now) != string(self) {
		t.Errorf("the process moved:\n%s\nwas:\n%s", now, self)
	}
}

// regexpLine matches the /proc/<pid>/cgroup line of controller c at path.
func regexpLine(c, path string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\d+:([^:]*,)?` + regexp.QuoteMeta(c) + `(,[^:]*)?:` + regexp.QuoteMeta(path) + `$`)
}
