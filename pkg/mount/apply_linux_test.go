package mount

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
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

// escapePlan mounts into root through /vol: a bind of src (a directory holding a marker),
// a tmpfs, a file bind and a read-only bind.
func escapePlan(root, src, file string) []Mount {
	var plan []Mount
	plan = append(plan, volumePlan(root, spec.Mount{Type: "bind", Source: src, Destination: "/vol/bind"})...)
	plan = append(plan, volumePlan(root, spec.Mount{Type: "tmpfs", Destination: "/vol/tmp"})...)
	plan = append(plan, volumePlan(root, spec.Mount{Type: "bind", Source: file, Destination: "/vol/file"})...)
	plan = append(plan, volumePlan(root, spec.Mount{Type: "bind", Source: src, Destination: "/vol/ro", ReadOnly: true})...)
	plan = append(plan, Mount{Kind: KindSymlink, Source: "target", Target: "/vol/link", Root: root})
	return plan
}

// isMount reports whether p is the root of a mount.
func isMount(p string) bool {
	var stx unix.Statx_t
	return unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, 0, &stx) == nil &&
		stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// outsideTouched names what a plan made or mounted under outside, seen from the mount
// namespace that applied it.
func outsideTouched(outside string) []string {
	var got []string
	for _, n := range []string{"bind", "tmp", "file", "ro", "link"} {
		p := filepath.Join(outside, n)
		if _, err := os.Lstat(p); err == nil {
			got = append(got, n)
		}
		if isMount(p) {
			got = append(got, n+" (mount)")
		}
	}
	return got
}

func escapeFixture(t *testing.T) (root, outside, src, file string) {
	t.Helper()
	root, outside = t.TempDir(), t.TempDir()
	src = filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "marker"), []byte("bound"), 0o644)
	file = filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("file"), 0o644)
	return
}

// TestApplyTargetSymlinkOutside: a mount target whose path goes through a symlink to a
// host directory (absolute, as a container writes it) is resolved inside the root: the
// mounts land under root/<that path>, nothing is made or mounted in the host directory.
func TestApplyTargetSymlinkOutside(t *testing.T) {
	testutil.RequirePrivileged(t)
	root, outside, src, file := escapeFixture(t)
	if err := os.Symlink(outside, filepath.Join(root, "vol")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(root, outside)
	err := onThread(t, func() error {
		if err := Apply(escapePlan(root, src, file)); err != nil {
			return err
		}
		if got := outsideTouched(outside); len(got) > 0 {
			t.Errorf("the plan reached the host directory: %v", got)
		}
		if b, err := os.ReadFile(filepath.Join(inside, "bind", "marker")); err != nil || string(b) != "bound" {
			t.Errorf("bind not inside the root: %q, %v", b, err)
		}
		for _, n := range []string{"bind", "tmp", "file", "ro"} {
			if !isMount(filepath.Join(inside, n)) {
				t.Errorf("%s is not mounted inside the root", n)
			}
		}
		if err := unix.Access(filepath.Join(inside, "ro"), unix.W_OK); !errors.Is(err, unix.EROFS) {
			t.Errorf("read-only bind is writable: %v", err)
		}
		if l, err := os.Readlink(filepath.Join(inside, "link")); err != nil || l != "target" {
			t.Errorf("symlink inside the root: %q, %v", l, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestApplyTargetSwapRace: a container (here a goroutine) swaps /vol between a directory
// and a symlink to a host directory with renameat2(RENAME_EXCHANGE) while init applies
// the plan. Whatever the timing, nothing is created or mounted in the host directory
// (a step may fail cleanly instead).
func TestApplyTargetSwapRace(t *testing.T) {
	testutil.RequirePrivileged(t)
	root, outside, src, file := escapeFixture(t)
	vol, link := filepath.Join(root, "vol"), filepath.Join(root, "vol.link")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			unix.Renameat2(unix.AT_FDCWD, vol, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE)
		}
	}()
	defer func() { close(stop); <-done }()
	plan := escapePlan(root, src, file)
	applied := 0
	for i := 0; i < 2000; i++ {
		var touched []string
		err := onThread(t, func() error {
			if Apply(plan) == nil {
				applied++
			}
			touched = outsideTouched(outside)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(touched) > 0 {
			t.Fatalf("round %d: the plan reached the host directory: %v", i, touched)
		}
	}
	t.Logf("%d of 2000 rounds applied the whole plan", applied)
}

// TestApplyDriver: --gpus' driver steps on a real root whose library directory is a
// symlink to a host directory (absolute, as an image may hold): the files, the names and
// the loader's file land inside the root, read-only, and nothing in the host directory.
func TestApplyDriver(t *testing.T) {
	testutil.RequirePrivileged(t)
	root, outside, _, _ := escapeFixture(t)
	host := t.TempDir()
	lib := filepath.Join(host, "libcuda.so.5")
	os.WriteFile(lib, []byte("ELF"), 0o644)
	conf := filepath.Join(host, "ld.conf")
	os.WriteFile(conf, []byte("/gpu/lib\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "gpu"), 0o755)
	if err := os.Symlink(outside, filepath.Join(root, "gpu", "lib")); err != nil {
		t.Fatal(err)
	}
	s := &spec.Spec{Driver: &spec.Driver{
		Files:  []spec.DriverFile{{HostPath: lib, Path: "/gpu/lib/libcuda.so.5"}},
		Links:  []spec.Link{{Path: "/gpu/lib/libcuda.so.1", Target: "libcuda.so.5"}},
		LdConf: conf,
	}}
	var plan []Mount
	for _, m := range RootfsPlan(s) {
		if m.Root != "" && (strings.HasPrefix(m.Target, "/gpu/") || m.Target == spec.LdConfPath) {
			m.Root = root
			plan = append(plan, m)
		}
	}
	if len(plan) != 3 {
		t.Fatalf("driver steps: %v", plan)
	}
	inside := filepath.Join(root, outside)
	err := onThread(t, func() error {
		if err := Apply(plan); err != nil {
			return err
		}
		if ents, _ := os.ReadDir(outside); len(ents) > 0 {
			t.Errorf("the plan reached the host directory: %v", ents)
		}
		if b, err := os.ReadFile(filepath.Join(inside, "libcuda.so.1")); err != nil || string(b) != "ELF" {
			t.Errorf("library by its name: %q, %v", b, err)
		}
		if err := unix.Access(filepath.Join(inside, "libcuda.so.5"), unix.W_OK); !errors.Is(err, unix.EROFS) {
			t.Errorf("driver file is writable: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(root, spec.LdConfPath)); err != nil || string(b) != "/gpu/lib\n" {
			t.Errorf("loader file: %q, %v", b, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
