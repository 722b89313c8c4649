package lazyfs

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

const serveEnv = "MINIBOX_LAZYFS_TEST_ROOT"

// TestMain lets a test start this binary as the detached server, as the daemon starts
// minibox-lazyfs.
func TestMain(m *testing.M) {
	if root := os.Getenv(serveEnv); root != "" {
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		if err := Serve(context.Background(), root, 0, log); err != nil {
			log.Error("serve", "err", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testRoot makes a data root holding one layer blob and a client whose server is this test
// binary; cleanup kills the server by its PID and detaches what it left.
func testRoot(t *testing.T, blob []byte) (*Client, digest.Digest) {
	t.Helper()
	testutil.RequirePrivileged(t, testutil.FUSE)
	root := t.TempDir()
	d := digest.FromBytes(blob)
	p := Paths{root}
	os.MkdirAll(filepath.Dir(p.Blob(d)), 0o755)
	if err := os.WriteFile(p.Blob(d), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &Client{Paths: p, Command: func() *exec.Cmd { return serverCmd(root) }}
	var pids []int
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if pid, err := c.Ping(ctx); err == nil {
			pids = append(pids, pid)
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		unix.Unmount(p.Mount(d), unix.MNT_DETACH)
	})
	t.Cleanup(func() {}) // keep order explicit: pids filled by the test via track
	track = func(pid int) { pids = append(pids, pid) }
	return c, d
}

var track = func(int) {}

type execCmd = exec.Cmd

// serverCmd runs this test binary as the server of root (see TestMain).
func serverCmd(root string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"="+root)
	return cmd
}

func poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerMountsSurviveAndStaleMountsAreReplaced(t *testing.T) {
	c, d := testRoot(t, gzipLayer(t, sample()))
	ctx := context.Background()

	dir, err := c.Mount(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := c.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	track(pid)
	if pid == os.Getpid() {
		t.Fatal("server runs in the test process, not detached")
	}
	if sid, _ := unix.Getsid(pid); sid != pid {
		t.Errorf("server session %d, want its own (%d)", sid, pid)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "etc/motd")); err != nil || string(b) != "hello from a lazy layer\n" {
		t.Fatalf("read through server: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(c.Root, "blobs/sha256", d.Encoded()+".index.json")); err != nil {
		t.Errorf("server did not store the index it built: %v", err)
	}
	if l, _ := c.List(ctx); len(l) != 1 || l[0] != d {
		t.Errorf("list = %v", l)
	}
	// Mount is idempotent.
	if _, err := c.Mount(ctx, d); err != nil {
		t.Fatal(err)
	}

	// The server dies (as after a crash): the mount turns stale.
	syscall.Kill(pid, syscall.SIGKILL)
	poll(t, "ENOTCONN on the dead server's mount", func() bool { return Stale(dir) })
	if !Mounted(dir) {
		t.Error("a stale mount is not reported as mounted")
	}

	// The next mount starts a new server, which replaces the stale mount.
	if _, err := c.Mount(ctx, d); err != nil {
		t.Fatal(err)
	}
	pid2, _ := c.Ping(ctx)
	track(pid2)
	if pid2 == pid {
		t.Error("same server pid after kill")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "usr/bin/big")); err != nil || string(b) != big {
		t.Fatalf("read after remount: %d bytes %v", len(b), err)
	}

	// Unmount detaches; the server notices.
	if err := c.Unmount(ctx, d); err != nil {
		t.Fatal(err)
	}
	poll(t, "the server to drop the mount", func() bool { l, _ := c.List(ctx); return len(l) == 0 })
	if Mounted(dir) {
		t.Error("still mounted after unmount")
	}
}

// A second server for the same root refuses to start.
func TestOneServerPerRoot(t *testing.T) {
	c, _ := testRoot(t, gzipLayer(t, sample()))
	ctx := context.Background()
	if err := c.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	pid, _ := c.Ping(ctx)
	track(pid)
	out, err := c.Command().CombinedOutput()
	if err == nil {
		t.Fatalf("second server started: %s", out)
	}
	if p2, _ := c.Ping(ctx); p2 != pid {
		t.Errorf("server pid changed to %d from %d", p2, pid)
	}
}
