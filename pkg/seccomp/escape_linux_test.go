package seccomp_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/seccomp"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

const sandboxEnv = "MINIBOX_ESCAPE_SANDBOX"

func init() {
	// The sandboxed child re-executes this test binary; it must act before testing starts.
	if os.Getenv(sandboxEnv) != "" {
		os.Exit(sandbox(strings.Split(os.Getenv(sandboxEnv), "\x1f")))
	}
}

// sandbox is PID 1 of fresh pid, mount, uts, ipc and net namespaces: it mounts its own
// /proc, waits until the parent has put it in its cgroup, takes Docker's capabilities,
// no_new_privs and the default seccomp filter the way init does, and execs the probe.
func sandbox(argv []string) int {
	runtime.LockOSThread()
	fail := func(what string, err error) int { fmt.Printf("sandbox: %s: %v\n", what, err); return 1 }
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("make mounts private", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fail("mount proc", err)
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	set := caps.Default()
	if err := caps.Apply(set, 0, 0, nil); err != nil {
		return fail("caps", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail("no_new_privs", err)
	}
	prog, err := seccomp.Compile(seccomp.Default(), set)
	if err != nil {
		return fail("compile", err)
	}
	if err := seccomp.Load(prog); err != nil {
		return fail("load", err)
	}
	return fail("exec", unix.Exec(argv[0], argv, os.Environ()))
}

// TestEscapeProbe runs testdata/escape in a sandbox made of this area's parts (caps,
// seccomp, a cgroup with the default device allowlist, and the namespaces) and checks the
// probes those parts answer for. The mount-related ones (masked /proc paths, read-only
// /sys, a sealed init) belong to the runtime and are checked by isolation_escape.txtar.
func TestEscapeProbe(t *testing.T) {
	testutil.RequirePrivileged(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the probe needs the go tool: %v", err)
	}
	probe := filepath.Join(t.TempDir(), "probe")
	build := exec.Command(gobin, "build", "-o", probe, ".")
	build.Dir = "../../testdata/escape"
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, out)
	}
	// A listener on the host's loopback stands in for the daemon's API.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	cg, err := cgroup.Open(testLog())
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("minibox-test-escape-%d/c", os.Getpid())
	t.Cleanup(func() { cg.Remove(filepath.Dir(path)) })
	if err := cg.Create(path, spec.Resources{PidsLimit: 100}); err != nil {
		t.Fatal(err)
	}

	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), sandboxEnv+"="+strings.Join([]string{probe, "-tcp", ln.Addr().String(),
		"-ptrace", fmt.Sprint(os.Getpid())}, "\x1f"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
		syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	in, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := cg.Add(path, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("go\n"))
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sandbox: %v\n%s", err, out.String())
	}
	t.Logf("probe:\n%s", out.String())
	got := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			got[f[0]] = f[1]
		}
	}
	for _, name := range []string{"mount", "umount", "unshare", "setns", "keyctl", "bpf", "ptrace",
		"init_module", "iopl", "ioperm", "mknod", "host_pids", "hostname", "tcp"} {
		if got[name] != "blocked" {
			t.Errorf("probe %s: %q, want blocked", name, got[name])
		}
	}
}
