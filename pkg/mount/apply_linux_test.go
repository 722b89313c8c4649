package mount

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/testutil"
)

// onThread runs fn on a thread with its own mount namespace and fs struct (root, cwd),
// which dies afterwards: nothing it mounts or chroots reaches the rest of the test.
func onThread(t *testing.T, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func TestPivot(t *testing.T) {
	testutil.RequirePrivileged(t)
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "marker"), []byte("new root"), 0o644)
	err := onThread(t, func() error {
		if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		if err := Pivot(root); err != nil {
			return err
		}
		b, err := os.ReadFile("/marker")
		if err != nil || string(b) != "new root" {
			t.Errorf("after pivot_root: /marker = %q, %v", b, err)
		}
		// The old root is detached: the host's /proc is not here.
		if _, err := os.Stat("/proc/self"); err == nil {
			t.Errorf("old root still reachable after pivot_root")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPivotRamfs: where the current root cannot be pivoted away (a ramfs root, as on an
// initramfs; here a chroot that is no mount point, which pivot_root refuses the same way
// with EINVAL), Pivot moves the new root onto / and chroots.
func TestPivotRamfs(t *testing.T) {
	testutil.RequirePrivileged(t)
	outer := t.TempDir()
	err := onThread(t, func() error {
		if err := unix.Mount("ramfs", outer, "ramfs", 0, ""); err != nil {
			return err
		}
		sub := filepath.Join(outer, "sub")
		newRoot := filepath.Join(sub, "newroot")
		os.MkdirAll(newRoot, 0o755)
		os.WriteFile(filepath.Join(sub, "old"), nil, 0o644)
		if err := unix.Mount("tmpfs", newRoot, "tmpfs", 0, ""); err != nil {
			return err
		}
		os.WriteFile(filepath.Join(newRoot, "marker"), []byte("moved"), 0o644)
		// Our root is now a directory inside the ramfs, not a mount point of its own.
		if err := unix.Chroot(sub); err != nil {
			return err
		}
		if err := unix.PivotRoot("/newroot", "/newroot"); err != unix.EINVAL {
			t.Errorf("pivot_root from a non-mount root: %v, want EINVAL (test premise)", err)
		}
		if err := Pivot("/newroot"); err != nil {
			return err
		}
		b, err := os.ReadFile("/marker")
		if err != nil || string(b) != "moved" {
			t.Errorf("after the MS_MOVE fallback: /marker = %q, %v", b, err)
		}
		if _, err := os.Stat("/old"); err == nil {
			t.Errorf("old root's content still visible")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
