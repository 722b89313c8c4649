package shimclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/seccomp"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/shimfiles"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

var (
	rootfsOnce sync.Once
	rootfsDir  string
	rootfsErr  error
)

// busybox is one read-only lower layer shared by every test container.
func busybox(t testing.TB) string {
	testutil.RequirePrivileged(t, testutil.Overlay)
	rootfsOnce.Do(func() {
		rootfsDir, rootfsErr = os.MkdirTemp("", "minibox-container-test-")
		if rootfsErr == nil {
			os.Chmod(rootfsDir, 0o755)
			rootfsErr = testutil.MakeBusyboxRootfs(rootfsDir)
		}
	})
	if rootfsErr != nil {
		t.Fatalf("busybox rootfs: %v", rootfsErr)
	}
	return rootfsDir
}

func newSpec(t testing.TB, args ...string) *spec.Spec {
	lower := busybox(t)
	dir := t.TempDir()
	for _, d := range []string{"upper", "work"} {
		// The overlay's root takes the upper dir's mode: the image root's 0755, not a temp dir's 0700.
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	set := caps.Default()
	prog, err := seccomp.Compile(seccomp.Default(), set)
	if err != nil {
		t.Fatalf("seccomp: %v", err)
	}
	return &spec.Spec{
		ID:     hex.EncodeToString(b),
		Dir:    dir,
		Rootfs: spec.Rootfs{Lower: []string{lower}, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work")},
		Process: spec.Process{
			Args:         args,
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=box"},
			Cwd:          "/",
			Capabilities: set,
			NoNewPrivs:   true,
		},
		Hostname: "box",
		Network:  "none",
		Seccomp:  prog,
	}
}

// start saves s, starts its container and makes sure the test leaves nothing running.
func start(t testing.TB, s *spec.Spec) *shimclient.Container {
	t.Helper()
	return startWith(t, s, shimclient.StartOptions{})
}

func startWith(t testing.TB, s *spec.Spec, opts shimclient.StartOptions) *shimclient.Container {
	t.Helper()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := shimclient.Start(ctx, s, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if st, err := c.State(); err == nil && st.Status != "exited" {
			c.Signal(syscall.SIGKILL)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Wait(ctx)
		waitGone(t, filepath.Join(s.Dir, "shim.sock"))
		shimclient.Cleanup(s.Dir)
		assertNoMounts(t, s.Dir)
		// A shim's stderr is shim.log: a panic or a race report there fails the test.
		if b, _ := os.ReadFile(filepath.Join(s.Dir, "shim.log")); bytes.Contains(b, []byte("panic")) || bytes.Contains(b, []byte("DATA RACE")) {
			t.Errorf("shim.log:\n%s", b)
		}
	})
	return c
}

func waitGone(t testing.TB, path string) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("%s still exists: the shim did not exit", path)
}

func assertNoMounts(t testing.TB, dir string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), dir) {
		t.Errorf("host mount table mentions %s:\n%s", dir, b)
	}
}

// run starts s, lets it run and returns its exit and log.
func run(t *testing.T, s *spec.Spec) (*shimclient.Exit, map[string]string) {
	t.Helper()
	c := start(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	exit, err := c.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return exit, logs(t, s.Dir)
}

func logs(t testing.TB, dir string) map[string]string {
	out := map[string]string{}
	err := shimclient.ReadLogs(filepath.Join(dir, "container.log"), shimclient.LogOptions{}, nil, func(r shimclient.LogRecord) error {
		out[r.Stream] += r.Text
		return nil
	})
	if err != nil {
		t.Fatalf("ReadLogs: %v", err)
	}
	return out
}

func TestOutputAndExitCode(t *testing.T) {
	exit, out := run(t, newSpec(t, "sh", "-c", "echo hello; echo oops >&2; hostname; exit 3"))
	if exit.ExitCode != 3 || exit.Signal != 0 {
		t.Errorf("exit = %+v, want code 3", exit)
	}
	if out["stdout"] != "hello\nbox\n" || out["stderr"] != "oops\n" {
		t.Errorf("logs = %q", out)
	}
	if e, err := shimclient.ReadExit(newSpecDir(t, exit)); err != nil && e != nil {
		t.Error(err)
	}
}

func newSpecDir(t *testing.T, _ *shimclient.Exit) string { return t.TempDir() }

func TestLogUTF8(t *testing.T) {
	// The euro sign is cut between two writes; the lone \xff is invalid.
	s := newSpec(t, "sh", "-c", `printf 'a\342'; sleep 0.1; printf '\202\254b\377c\n'`)
	_, out := run(t, s)
	if out["stdout"] != "a€b\uFFFDc\n" {
		t.Errorf("stdout %q", out["stdout"])
	}
}

func TestTrue(t *testing.T) {
	s := newSpec(t, "true")
	exit, _ := run(t, s)
	if exit.ExitCode != 0 {
		t.Errorf("exit = %+v", exit)
	}
	e, err := shimclient.ReadExit(s.Dir)
	if err != nil || e.ExitCode != 0 || e.FinishedAt.IsZero() {
		t.Errorf("ReadExit = %+v, %v", e, err)
	}
}

func TestNotFoundAndNotRunnable(t *testing.T) {
	t.Run("cold", func(t *testing.T) { testNotRunnable(t, false) })
	// A warm init prepares the workload while it mounts: the errors still come from Resume.
	t.Run("warm", func(t *testing.T) { testNotRunnable(t, true) })
}

func testNotRunnable(t *testing.T, warm bool) {
	for _, c := range []struct {
		args []string
		user string
		code int
		msg  string
	}{
		{[]string{"nosuchcommand"}, "", 127, "executable file not found"},
		{[]string{"/etc/passwd"}, "", 126, "permission denied"},
		{[]string{"true"}, "nosuchuser", 126, "unable to find user nosuchuser"},
	} {
		s := newSpec(t, c.args...)
		s.Process.User = c.user
		// Every "cannot run" comes from Resume and is the container's exit code.
		var ct *shimclient.Container
		if warm {
			s.InitInCgroup = true
			ct = startFromWarm(t, startWarm(t), s)
		} else {
			ct = start(t, s)
		}
		err := ct.Resume(context.Background())
		var se *shimclient.StartError
		if !errors.As(err, &se) || se.Code != c.code || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%v as %q: %v, want code %d %q", c.args, c.user, err, c.code, c.msg)
			continue
		}
		exit, err := ct.Wait(context.Background())
		if err != nil || exit.ExitCode != c.code {
			t.Errorf("%v: exit %+v, %v; want %d", c.args, exit, err, c.code)
		}
		waitGone(t, filepath.Join(s.Dir, "shim.sock"))
		assertNoMounts(t, s.Dir)
	}
}

func TestSignals(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGKILL, 137}} {
		s := newSpec(t, "sleep", "100")
		ct := start(t, s)
		if err := ct.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := ct.Signal(c.sig); err != nil {
			t.Fatal(err)
		}
		exit, err := ct.Wait(context.Background())
		if err != nil || exit.ExitCode != c.code || exit.Signal != int(c.sig) {
			t.Errorf("after %v: exit %+v, %v; want %d", c.sig, exit, err, c.code)
		}
	}
}

func TestSignalForwarding(t *testing.T) {
	s := newSpec(t, "sh", "-c", `trap 'echo got USR1; exit 7' USR1; echo ready; while true; do sleep 0.05; done`)
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.Dir, "ready\n")
	if err := c.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	exit, err := c.Wait(context.Background())
	if err != nil || exit.ExitCode != 7 {
		t.Errorf("exit %+v, %v; want 7", exit, err)
	}
	if out := logs(t, s.Dir); out["stdout"] != "ready\ngot USR1\n" {
		t.Errorf("stdout %q", out["stdout"])
	}
}

// waitLog follows the log until it holds want.
func waitLog(t testing.TB, dir, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got string
	found := errors.New("found")
	err := shimclient.ReadLogs(filepath.Join(dir, "container.log"), shimclient.LogOptions{Follow: true}, ctx.Done(), func(r shimclient.LogRecord) error {
		got += r.Text
		if strings.Contains(got, want) {
			return found
		}
		return nil
	})
	if err != found {
		t.Fatalf("log never showed %q (got %q, %v)", want, got, err)
	}
}

func TestZombiesReaped(t *testing.T) {
	// Each inner sh exits at once, orphaning its sleep to init, which must reap it.
	s := newSpec(t, "sh", "-c", `for i in 1 2 3 4 5; do sh -c 'sleep 0.01 &'; done; sleep 0.5; ps -o stat,comm`)
	exit, out := run(t, s)
	if exit.ExitCode != 0 {
		t.Fatalf("exit %+v: %q", exit, out)
	}
	for _, l := range strings.Split(out["stdout"], "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Z") {
			t.Errorf("zombie left: %q in\n%s", l, out["stdout"])
		}
	}
	if !strings.Contains(out["stdout"], "ps") {
		t.Errorf("ps output %q", out["stdout"])
	}
}

func TestExec(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	s.Process.Env = append(s.Process.Env, "FOO=container")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	p, err := c.Exec(context.Background(), shimclient.ExecSpec{
		Args: []string{"sh", "-c", "echo $FOO $BAR; id -u; id -G; pwd; echo err >&2; exit 5"},
		Env:  []string{"BAR=exec"}, User: "user", Cwd: "/tmp",
	}, shimclient.AttachOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait(context.Background())
	if err != nil || exit.ExitCode != 5 {
		t.Errorf("exec exit %+v, %v", exit, err)
	}
	if got, want := stdout.String(), "container exec\n1000\n1000 100\n/tmp\n"; got != want {
		t.Errorf("exec stdout %q, want %q", got, want)
	}
	if stderr.String() != "err\n" {
		t.Errorf("exec stderr %q", stderr.String())
	}
	// Stdin, and EOF on its close.
	stdout.Reset()
	p, err = c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"cat"}},
		shimclient.AttachOptions{Stdin: strings.NewReader("piped\n"), Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if exit, err := p.Wait(context.Background()); err != nil || exit.ExitCode != 0 || stdout.String() != "piped\n" {
		t.Errorf("cat: %+v %v %q", exit, err, stdout.String())
	}
	_, err = c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"nosuch"}}, shimclient.AttachOptions{})
	var se *shimclient.StartError
	if !errors.As(err, &se) || se.Code != 127 {
		t.Errorf("exec nosuch: %v, want code 127", err)
	}
	_, err = c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"true"}, Cwd: "/nonexistent"}, shimclient.AttachOptions{})
	if !errors.As(err, &se) || se.Code != 126 || !strings.Contains(se.Msg, "chdir") {
		t.Errorf("exec -w /nonexistent: %v, want code 126", err)
	}
	_, err = c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"true"}, User: "ghost"}, shimclient.AttachOptions{})
	if !errors.As(err, &se) || se.Code != 126 || !strings.Contains(se.Msg, "unable to find user ghost") {
		t.Errorf("exec -u ghost: %v, want code 126", err)
	}
}

func TestInitIsSealed(t *testing.T) {
	s := newSpec(t, "sh", "-c", `readlink /proc/1/exe; echo x >> /proc/1/exe && echo WRITABLE; cat /proc/1/cmdline | tr '\0' ' '`)
	s.Process.Capabilities = caps.All() // init drops what the host does not grant it
	s.Seccomp = nil
	exit, out := run(t, s)
	t.Logf("in the container: %q %q", out["stdout"], out["stderr"])
	if !strings.Contains(out["stdout"], "memfd:minibox") || strings.Contains(out["stdout"], "WRITABLE") {
		t.Errorf("exit %+v, /proc/1/exe: %q %q", exit, out["stdout"], out["stderr"])
	}
}

func TestTTYAndResize(t *testing.T) {
	s := newSpec(t, "sh", "-c", "stty size; tty; test -t 0 && echo interactive")
	s.Process.Terminal = true
	s.Process.Env = append(s.Process.Env, "TERM=xterm")
	c := start(t, s)
	if err := c.Resize(33, 101); err != nil {
		t.Fatal(err)
	}
	out, exit := resumeAttached(t, c)
	if exit.ExitCode != 0 {
		t.Fatalf("exit %+v", exit)
	}
	want := "33 101\r\n/dev/pts/0\r\ninteractive\r\n"
	if out != want {
		t.Errorf("tty output %q, want %q", out, want)
	}
	if l := logs(t, s.Dir); l["stdout"] != want {
		t.Errorf("tty log %q", l)
	}
}

func TestExecTTY(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p, err := c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"sh", "-c", "stty size; tty"}, Tty: true, Height: 20, Width: 70},
		shimclient.AttachOptions{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if exit, err := p.Wait(context.Background()); err != nil || exit.ExitCode != 0 {
		t.Fatalf("exit %+v %v", exit, err)
	}
	if !strings.HasPrefix(out.String(), "20 70\r\n/dev/pts/") {
		t.Errorf("exec tty output %q", out.String())
	}
}

// resumeAttached attaches to c's raw stream, lets the workload run and waits for its end:
// what the stream carried, and the exit.
func resumeAttached(t *testing.T, c *shimclient.Container) (string, *shimclient.Exit) {
	t.Helper()
	conn, err := c.AttachConn(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	read := make(chan struct{})
	go func() { out.ReadFrom(conn); close(read) }()
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	exit, err := c.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-read
	return out.String(), exit
}

func TestAttachBeforeResume(t *testing.T) {
	// The workload writes only once a line reaches its stdin, which only the Attach in the
	// goroutine sends: that Attach may register after Resume and still sees everything.
	s := newSpec(t, "sh", "-c", "read go; echo one; echo two >&2; echo three")
	s.Process.Stdin = true
	c := start(t, s)
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	conn, err := c.AttachConn(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	go func() {
		done <- c.Attach(context.Background(), shimclient.AttachOptions{Stdin: strings.NewReader("go\n"), Stdout: &stdout, Stderr: &stderr})
	}()
	// Attach is registered once AttachConn returns: this one, made before Resume, gets the
	// raw frames.
	raw, _ := resumeAttached(t, c)
	<-done
	// Frames: header byte 1 or 2, then payload.
	var got []string
	b := []byte(raw)
	for len(b) >= 8 {
		n := int(b[4])<<24 | int(b[5])<<16 | int(b[6])<<8 | int(b[7])
		got = append(got, string(rune('0'+b[0]))+":"+string(b[8:8+n]))
		b = b[8+n:]
	}
	// stdout and stderr are separate pipes: order holds within a stream only.
	var out, errs string
	for _, g := range got {
		if g[0] == '1' {
			out += g[2:]
		} else {
			errs += g[2:]
		}
	}
	if out != "one\nthree\n" || errs != "two\n" || stdout.String() != out || stderr.String() != errs {
		t.Errorf("frames %q; Attach got %q %q", got, stdout.String(), stderr.String())
	}
}

func TestReconnect(t *testing.T) {
	s := newSpec(t, "sh", "-c", "echo started; sleep 100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	c = nil // the daemon forgot it (crash, restart)
	c2, err := shimclient.Connect(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c2.State()
	if err != nil || st.Status != "running" || st.PID != pid {
		t.Fatalf("state %+v, %v; want running pid %d", st, err, pid)
	}
	// The shim is in its own session: our terminal's or process group's signals miss it.
	if sid, _ := unix.Getsid(st.ShimPID); sid != st.ShimPID {
		t.Errorf("shim session %d, want its own (%d)", sid, st.ShimPID)
	}
	if err := c2.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exit, err := c2.Wait(context.Background())
	if err != nil || exit.ExitCode != 143 {
		t.Errorf("exit %+v %v", exit, err)
	}
	waitGone(t, filepath.Join(s.Dir, "shim.sock"))
	if _, err := shimclient.Connect(s.Dir); err == nil {
		t.Errorf("Connect to an exited container succeeded")
	}
	if e, err := shimclient.ReadExit(s.Dir); err != nil || e.ExitCode != 143 {
		t.Errorf("ReadExit %+v %v", e, err)
	}
}

func TestLogsFollowEndsAtExit(t *testing.T) {
	s := newSpec(t, "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.05; done; echo bye >&2")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := shimclient.ReadLogs(filepath.Join(s.Dir, "container.log"), shimclient.LogOptions{Follow: true}, nil, func(r shimclient.LogRecord) error {
		got = append(got, r.Stream+":"+r.Text)
		return nil
	})
	if err != nil || strings.Join(got, "") != "stdout:line 1\nstdout:line 2\nstdout:line 3\nstderr:bye\n" {
		t.Errorf("follow: %q, %v", got, err)
	}
	var tail []string
	shimclient.ReadLogs(filepath.Join(s.Dir, "container.log"), shimclient.LogOptions{Tail: 2, Stdout: true}, nil, func(r shimclient.LogRecord) error {
		tail = append(tail, r.Text)
		return nil
	})
	if strings.Join(tail, "") != "line 2\nline 3\n" {
		t.Errorf("tail 2 stdout: %q", tail)
	}
}

func TestRunOnce(t *testing.T) {
	s := newSpec(t, "sh", "-c", "echo built > /made; cat /made; echo e >&2; exit 4")
	var stdout, stderr bytes.Buffer
	code, err := shimclient.RunOnce(context.Background(), s, &stdout, &stderr)
	if err != nil || code != 4 || stdout.String() != "built\n" || stderr.String() != "e\n" {
		t.Errorf("RunOnce = %d, %v, %q, %q", code, err, stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(s.Rootfs.Upper, "made")); err != nil || string(b) != "built\n" {
		t.Errorf("upper dir: %q %v", b, err)
	}
	assertNoMounts(t, s.Dir)
	if _, err := os.Stat(filepath.Join(s.Dir, "shim.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shim.sock left: %v", err)
	}
}

func TestStopTimeout(t *testing.T) {
	// The workload ignores SIGTERM: Stop escalates to SIGKILL after the timeout.
	s := newSpec(t, "sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.Dir, "ready\n")
	t0 := time.Now()
	exit, err := c.Stop(context.Background(), syscall.SIGTERM, 200*time.Millisecond)
	if err != nil || exit.ExitCode != 137 || time.Since(t0) < 200*time.Millisecond {
		t.Errorf("Stop = %+v, %v after %v; want 137 after the timeout", exit, err, time.Since(t0))
	}
}

// TestRestart starts an exited container again in the same directory: same upper dir,
// log appended, a fresh exit record.
func TestRestart(t *testing.T) {
	s := newSpec(t, "sh", "-c", "cat /count 2>/dev/null; echo x >> /count; exit 2")
	for i, want := range []string{"", "x\n"} {
		c := start(t, s)
		if err := c.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
		exit, err := c.Wait(context.Background())
		if err != nil || exit.ExitCode != 2 {
			t.Fatalf("run %d: %+v %v", i, exit, err)
		}
		waitGone(t, filepath.Join(s.Dir, "shim.sock"))
		if out := logs(t, s.Dir); out["stdout"] != want {
			t.Errorf("run %d: log %q, want %q", i, out["stdout"], want)
		}
	}
}

// TestLargeSpec sends init a spec far above the default socket buffer.
func TestLargeSpec(t *testing.T) {
	s := newSpec(t, "sh", "-c", `echo ${#BIG0} ${#BIG7}`)
	for i := range 8 { // 800 KB: a single variable may not exceed 128 KB (MAX_ARG_STRLEN)
		s.Process.Env = append(s.Process.Env, fmt.Sprintf("BIG%d=%s", i, strings.Repeat("b", 100000)))
	}
	_, out := run(t, s)
	if out["stdout"] != "100000 100000\n" {
		t.Errorf("stdout %q stderr %q", out["stdout"], out["stderr"])
	}
}

// TestManyExecs runs more exec processes than the shim keeps records of (health probes
// do, for a container's whole life) and checks its memory stays flat.
func TestManyExecs(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	rssNow := func() int {
		st, _ := c.State()
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.ShimPID))
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "RssAnon:" {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
		return 0
	}
	// What the shim keeps, not what a burst left before its next trim: read once the shim
	// has gone quiet and trimmed (its resident set unchanged for well over its quiet time).
	rss := func() int {
		n, steady := rssNow(), time.Now()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if m := rssNow(); m != n {
				n, steady = m, time.Now()
			} else if time.Since(steady) > 3*rsstrim.PairQuiet {
				break
			}
		}
		return n
	}
	// The heap reaches its working size only after a couple of hundred execs (CI once read
	// 2264 kB at exec 100 and 2804 at 300, and then stayed flat up to 1500): the baseline is
	// taken past that, and what follows is long enough for a per-exec leak to show.
	var before int
	for i := range 700 {
		if i == 300 {
			before = rss()
		}
		var out bytes.Buffer
		p, err := c.Exec(context.Background(), shimclient.ExecSpec{Args: []string{"echo", strconv.Itoa(i)}}, shimclient.AttachOptions{Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		if e, err := p.Wait(context.Background()); err != nil || e.ExitCode != 0 || out.String() != strconv.Itoa(i)+"\n" {
			t.Fatalf("exec %d: %+v %v %q", i, e, err, out.String())
		}
	}
	after := rss()
	t.Logf("shim anonymous memory: %d kB after 300 execs, %d kB after 700", before, after)
	if after > before+512 && !raceEnabled {
		t.Errorf("shim anonymous memory grew from %d to %d kB over 400 execs", before, after)
	}
}

// TestTTYCtrlC: ^C typed on an attached terminal reaches the workload's process group.
func TestTTYCtrlC(t *testing.T) {
	s := newSpec(t, "sh", "-c", `trap 'echo INT; exit 9' INT; echo ready; while :; do sleep 0.05; done`)
	s.Process.Terminal = true
	c := start(t, s)
	conn, err := c.AttachConn(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.Dir, "ready")
	if _, err := conn.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	exit, err := c.Wait(context.Background())
	if err != nil || exit.ExitCode != 9 {
		t.Errorf("exit %+v %v, want 9 from the INT trap", exit, err)
	}
}

func TestDoubleStartRefused(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := shimclient.Start(context.Background(), s, shimclient.StartOptions{}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Start: %v", err)
	}
	if err := shimclient.Cleanup(s.Dir); err == nil {
		t.Errorf("Cleanup of a running container succeeded")
	}
	if st, err := c.State(); err != nil || st.Status != "running" {
		t.Errorf("first container after the refused start: %+v %v", st, err)
	}
}

// TestShimDeathEndsContainer: a container whose shim is killed does not run on unseen.
func TestShimDeathEndsContainer(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	initFD, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(initFD)
	if err := unix.Kill(st.ShimPID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The pidfd turns readable when init has exited.
	fds := []unix.PollFd{{Fd: int32(initFD), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 5000)
	for deadline := time.Now().Add(5 * time.Second); err == unix.EINTR && time.Now().Before(deadline); {
		n, err = unix.Poll(fds, 5000)
	}
	if err != nil || n != 1 {
		t.Fatalf("init still running 5 s after its shim was killed (%d, %v)", n, err)
	}
	if _, err := shimclient.Connect(s.Dir); err == nil {
		t.Errorf("Connect to a dead shim succeeded")
	}
	os.Remove(filepath.Join(s.Dir, "shim.sock")) // a killed shim leaves its socket
}

// TestTiedEndsWithDaemon: a tied container (a build's) ends once its daemon lets go of the
// control channel, as a daemon's death does, whether its workload runs or init is still
// held before it; shim.pid names its shim and init meanwhile.
func TestTiedEndsWithDaemon(t *testing.T) {
	for _, resume := range []bool{true, false} {
		t.Run(fmt.Sprintf("resumed=%v", resume), func(t *testing.T) {
			s := newSpec(t, "sleep", "100")
			c := startWith(t, s, shimclient.StartOptions{Tied: true})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if resume {
				if err := c.Resume(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err := c.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := c.State()
			if err != nil {
				t.Fatal(err)
			}
			recs, err := shimfiles.ReadProcs(s.Dir)
			if err != nil || len(recs) != 2 || recs[0].Name != "shim" || recs[0].PID != st.ShimPID ||
				recs[1].Name != "init" || recs[1].PID != st.PID {
				t.Fatalf("shim.pid = %+v, %v; want shim %d, init %d", recs, err, st.ShimPID, st.PID)
			}
			c.Close()
			exit, err := c.Wait(ctx)
			if err != nil || exit.Signal != int(syscall.SIGKILL) {
				t.Fatalf("Wait = %+v, %v; want killed", exit, err)
			}
		})
	}
}

// TestEndLeftoverThroughShim: a container without a shim.pid (a shim of an older daemon) is
// ended through its shim; a shim that does not answer holds the caller up for no longer
// than asked.
func TestEndLeftoverThroughShim(t *testing.T) {
	s := newSpec(t, "sleep", "100")
	c := start(t, s)
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(st.ShimPID, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	n, err := shimclient.EndLeftover(s.Dir, 200*time.Millisecond)
	unix.Kill(st.ShimPID, unix.SIGCONT)
	if err == nil {
		t.Errorf("EndLeftover of a stopped shim = %d, nil; want an error", n)
	}
	// The first call's request may still reach the shim once it runs again, and end the
	// container before this call looks: then there is nothing left for it (0).
	if n, err := shimclient.EndLeftover(s.Dir, 10*time.Second); n > 1 || err != nil {
		t.Fatalf("EndLeftover = %d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exit, err := c.Wait(ctx)
	if err != nil || exit.Signal != int(syscall.SIGKILL) {
		t.Errorf("Wait = %+v, %v; want killed", exit, err)
	}
}

// TestRunOnceHostNetwork is a build container's setup: the host's network namespace.
func TestRunOnceHostNetwork(t *testing.T) {
	s := newSpec(t, "sh", "-c", "test -e /sys/class/net/lo && readlink /proc/self/ns/net")
	s.Network = "host"
	var stdout, stderr bytes.Buffer
	code, err := shimclient.RunOnce(context.Background(), s, &stdout, &stderr)
	host, _ := os.Readlink("/proc/self/ns/net")
	if err != nil || code != 0 || strings.TrimSpace(stdout.String()) != host {
		t.Errorf("RunOnce = %d, %v, %q (host %s), %q", code, err, stdout.String(), host, stderr.String())
	}
	if _, err := shimclient.RunOnce(context.Background(), &spec.Spec{Network: "bridge"}, nil, nil); err == nil {
		t.Errorf("RunOnce with a bridge network succeeded")
	}
}
