package shimclient_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/spec"
)

func TestFilesystem(t *testing.T) {
	vol := t.TempDir()
	bind := t.TempDir()
	os.WriteFile(filepath.Join(bind, "f"), []byte("from host\n"), 0o644)
	etc := t.TempDir()
	os.WriteFile(filepath.Join(etc, "hosts"), []byte("10.9.8.7 peer\n"), 0o644)
	s := newSpec(t, "sh", "-c", strings.Join([]string{
		"cat /vol/passwd | head -1",                // copied up from the image's /etc
		"echo new > /vol/x",                        // volume writable
		"cat /ro/f; echo no > /ro/f || echo ro-ok", // read-only bind
		"grep peer /etc/hosts",
		"touch /tmp/w && echo tmp-ok",
		"echo no > /rootfile || echo rootfs-ro-ok",
		"mount | grep ' /scratch ' | cut -d' ' -f5",
		"cat /proc/kcore | wc -c", // masked
		"echo 1 > /proc/sysrq-trigger || echo sysrq-ro-ok",
		"echo x > /sys/kernel/uevent_helper || echo sys-ro-ok",
		"ls /dev | tr '\\n' ' '; echo",
		"mount | grep -c ' /dev/shm .*size=65536k'",
		"cat /proc/self/cgroup | grep -c ':/$'",
		"ls /sys/fs/cgroup | grep -c memory",
		"test \"$(cat /proc/1/cmdline | tr '\\0' ' ')\" = 'minibox-init ' && echo init-argv-ok",
	}, "; "))
	s.Rootfs.ReadOnly = true
	s.Mounts = []spec.Mount{
		{Type: "volume", Source: vol, Destination: "/vol", CopyUp: true},
		{Type: "bind", Source: bind, Destination: "/ro", ReadOnly: true},
		{Type: "tmpfs", Destination: "/tmp", Options: []string{"size=1m"}},
		{Type: "tmpfs", Destination: "/scratch"},
	}
	// CopyUp of /vol needs content at /vol in the image: point it at /etc instead.
	s.Mounts[0].Destination = "/etc"
	s.Process.Args[2] = strings.Replace(s.Process.Args[2], "/vol/", "/etc/", -1)
	s.HostsPath = filepath.Join(etc, "hosts")
	exit, out := run(t, s)
	want := []string{
		"root:x:0:0:root:/root:/bin/sh", "from host", "ro-ok", "10.9.8.7 peer", "tmp-ok",
		"rootfs-ro-ok", "tmpfs", "0", "sysrq-ro-ok", "sys-ro-ok",
		"fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ",
		"1", "", "", "init-argv-ok",
	}
	got := strings.Split(strings.TrimSuffix(out["stdout"], "\n"), "\n")
	if exit.ExitCode != 0 || len(got) != len(want) {
		t.Fatalf("exit %+v\nstdout:\n%s\nstderr:\n%s", exit, out["stdout"], out["stderr"])
	}
	for i, w := range want {
		if w != "" && got[i] != w {
			t.Errorf("line %d = %q, want %q", i, got[i], w)
		}
	}
	if b, err := os.ReadFile(filepath.Join(vol, "x")); err != nil || string(b) != "new\n" {
		t.Errorf("volume write: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(vol, "passwd")); err != nil {
		t.Errorf("volume not filled from the image: %v", err)
	}
}

// TestCgroupAndOOM plays the daemon's part between Start and Resume: a memory-limited
// cgroup for init. The workload sees its cgroup as the root, and an OOM kill is 137.
func TestCgroupAndOOM(t *testing.T) {
	cg, err := cgroup.Open(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	path := "minibox-test-" + hex.EncodeToString(b) + "/c"
	t.Cleanup(func() {
		cg.Remove(path)
		cg.Remove(filepath.Dir(path))
	})
	// Init shares the cgroup; built with the race detector its shadow memory alone passes
	// 16 MiB, and it would be the one killed.
	limit := int64(16 << 20)
	if raceEnabled {
		limit = 256 << 20
	}
	s := newSpec(t, "sh", "-c", fmt.Sprintf("grep memory /proc/self/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; x=$(head -c %d /dev/zero | tr '\\0' a); echo survived", 4*limit))
	s.CgroupPath = path
	s.Resources.Memory = limit
	if err := cg.Create(path, s.Resources); err != nil {
		t.Fatal(err)
	}
	c := start(t, s)
	if err := cg.Add(path, c.PID()); err != nil {
		t.Fatal(err)
	}
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	exit, err := c.Wait(context.Background())
	out := logs(t, s.Dir)
	if err != nil || !exit.OOMKilled {
		t.Errorf("exit %+v, %v; want OOMKilled (%q)", exit, err, out)
	}
	if want := fmt.Sprintf("memory:/\n%d\n", limit); !strings.Contains(out["stdout"], want) {
		t.Errorf("stdout %q: want the cgroup seen as its root and its limit", out["stdout"])
	}
}

func TestSysctlAndHostname(t *testing.T) {
	s := newSpec(t, "sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; hostname; ip link 2>/dev/null | grep -c '^[0-9]'")
	s.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
	s.Hostname = "sysctl-box"
	exit, out := run(t, s)
	if exit.ExitCode != 0 || out["stdout"] != "1\n1234\nsysctl-box\n1\n" {
		t.Errorf("exit %+v, stdout %q stderr %q", exit, out["stdout"], out["stderr"])
	}
	if b, _ := os.ReadFile("/proc/sys/kernel/shmmni"); string(b) == "1234\n" {
		t.Errorf("sysctl leaked to the host")
	}
}

// TestOutlivesStarter starts a container from a separate process that then dies (a daemon
// crash) and reconnects to it.
func TestOutlivesStarter(t *testing.T) {
	s := newSpec(t, "sh", "-c", "echo alive; sleep 100")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), "MINIBOX_TEST_STARTER="+s.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("starter: %v: %s", err, out)
	}
	c, err := shimclient.Connect(s.Dir)
	if err != nil {
		t.Fatalf("Connect after the starter died: %v", err)
	}
	t.Cleanup(func() { c.Signal(syscall.SIGKILL); c.Wait(context.Background()); assertNoMounts(t, s.Dir) })
	waitLog(t, s.Dir, "alive\n")
	var buf strings.Builder
	p, err := c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"echo", "exec works"}}, shimclient.AttachOptions{Stdout: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := p.Wait(context.Background()); err != nil || e.ExitCode != 0 || buf.String() != "exec works\n" {
		t.Errorf("exec after reconnect: %+v %v %q", e, err, buf.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Signal(syscall.SIGTERM)
	if e, err := c.Wait(ctx); err != nil || e.ExitCode != 143 {
		t.Errorf("exit %+v %v", e, err)
	}
}

// starter is the "daemon" of TestOutlivesStarter: start, resume, exit without waiting.
func starter(dir string) int {
	s, err := spec.Load(dir)
	if err != nil {
		return 1
	}
	c, err := shimclient.Start(context.Background(), s, shimclient.StartOptions{})
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 1
	}
	if err := c.Resume(context.Background()); err != nil {
		os.Stderr.WriteString(err.Error())
		return 1
	}
	return 0
}

func TestPrivileged(t *testing.T) {
	s := newSpec(t, "sh", "-c", strings.Join([]string{
		"mkdir -p /mnt && mount -t tmpfs none /mnt && echo mount-ok",
		"grep -c ' /proc/sys ' /proc/mounts",
		"grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1",
		"test -e /dev/loop-control -o -e /dev/kmsg && echo host-devices",
		"grep CapEff /proc/self/status | cut -f2",
	}, "; "))
	s.Privileged = true
	s.Process.Capabilities = caps.All()
	s.Seccomp = nil
	s.Process.NoNewPrivs = false
	exit, out := run(t, s)
	self, _ := os.ReadFile("/proc/self/status")
	var capEff string
	for _, l := range strings.Split(string(self), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:\t"); ok {
			capEff = v
		}
	}
	want := "mount-ok\n0\nrw\nhost-devices\n" + capEff + "\n"
	if exit.ExitCode != 0 || out["stdout"] != want {
		t.Errorf("exit %+v stdout %q stderr %q; want %q", exit, out["stdout"], out["stderr"], want)
	}
}

func TestRlimitsAndSeccompWithoutNoNewPrivs(t *testing.T) {
	var hard syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hard)
	s := newSpec(t, "sh", "-c", "ulimit -n; ulimit -c; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t ' ' '; unshare -n true || echo unshare-blocked")
	s.Process.NoNewPrivs = false // the filter is still loaded (before the capability drop)
	s.Process.User = "user"
	exit, out := run(t, s)
	want := strconv.FormatUint(min(hard.Max, 1048576), 10) + "\n0\nNoNewPrivs: 0\nSeccomp: 2\nunshare-blocked\n"
	if exit.ExitCode != 0 || out["stdout"] != want {
		t.Errorf("exit %+v stdout %q stderr %q; want %q", exit, out["stdout"], out["stderr"], want)
	}
}

// TestNoLeakedFDs: the workload and exec processes get stdio and nothing else (no init
// channel, no sealed binary, no pty master), even when the daemon itself inherited stray
// descriptors (fd 42 here, as a careless service manager might leave).
func TestNoLeakedFDs(t *testing.T) {
	null, _ := os.Open(os.DevNull)
	if err := syscall.Dup2(int(null.Fd()), 42); err != nil { // dup2: no close-on-exec
		t.Fatal(err)
	}
	null.Close()
	t.Cleanup(func() { syscall.Close(42) })
	for _, tty := range []bool{false, true} {
		s := newSpec(t, "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; sleep 100")
		s.Process.Terminal = tty
		c := start(t, s)
		if err := c.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitLog(t, s.Dir, " ")
		if out := logs(t, s.Dir)["stdout"]; out != "0 1 2 3 " {
			t.Errorf("tty %v: workload fds %q, want 0 1 2 and ls's own 3", tty, out)
		}
		var b strings.Builder
		p, err := c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"ls", "/proc/self/fd"}, Tty: tty}, shimclient.AttachOptions{Stdout: &b})
		if err != nil {
			t.Fatal(err)
		}
		p.Wait(context.Background())
		if got := strings.Join(strings.Fields(b.String()), " "); got != "0 1 2 3" {
			t.Errorf("tty %v: exec fds %q", tty, got)
		}
	}
}
