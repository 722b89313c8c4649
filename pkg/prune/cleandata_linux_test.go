package prune

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/testutil"
	"golang.org/x/sys/unix"
)

// scripts/clean-data.sh resets a data root: it unmounts what is mounted under it (a live
// tmpfs, a dead FUSE mount), removes and recreates it, and refuses system directories and
// a root a daemon holds.
func TestCleanDataScript(t *testing.T) {
	testutil.RequirePrivileged(t, testutil.FUSE)
	script, _ := filepath.Abs("../../scripts/clean-data.sh")
	run := func(args ...string) (string, error) {
		out, err := exec.Command("sh", append([]string{script}, args...)...).CombinedOutput()
		return string(out), err
	}
	for _, bad := range []string{"/", "/usr", "/var/../etc", "relative"} {
		if out, err := run(bad); err == nil {
			t.Errorf("clean-data.sh %s succeeded: %s", bad, out)
		}
	}

	root := filepath.Join(t.TempDir(), "root")
	tr := tree{t, root}
	tr.file("volumes/v/data", "x")
	tr.file("miniboxd.lock", "4242\n")
	tmpfs := filepath.Join(root, "extracted", "live")
	stale := filepath.Join(root, "lazy", hex("dead"))
	os.MkdirAll(tmpfs, 0o755)
	os.MkdirAll(stale, 0o755)
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(tmpfs, unix.MNT_DETACH) })
	staleMount(t, stale)

	// A daemon holds the lock: refused, nothing touched.
	f, _ := os.Open(filepath.Join(root, "miniboxd.lock"))
	unix.Flock(int(f.Fd()), unix.LOCK_EX)
	out, err := run(root)
	if err == nil || !strings.Contains(out, "pid 4242") {
		t.Errorf("clean-data.sh with the lock held: %v %s", err, out)
	}
	if !tr.exists("volumes/v/data") {
		t.Error("data removed while a daemon holds the lock")
	}
	f.Close()

	if out, err := run(root); err != nil {
		t.Fatalf("clean-data.sh: %v\n%s", err, out)
	}
	ents, err := os.ReadDir(root)
	if err != nil || len(ents) != 0 {
		t.Errorf("root after reset: %v %v", ents, err)
	}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(b), root) {
		t.Error("mounts left under the reset root")
	}
}
