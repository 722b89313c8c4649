package userns

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

var testMap = spec.IDMap{HostID: 100000, Size: 65536}

func TestWriteMaps(t *testing.T) {
	testutil.RequirePrivileged(t)
	runtime.LockOSThread() // the ptrace tracer, which must reap the child too
	defer runtime.UnlockOSThread()
	// A child in a new user namespace without maps, stopped at its execve.
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"userns-test"}, SysProcAttr: &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER, Ptrace: true, Pdeathsig: syscall.SIGKILL}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := WriteMaps(cmd.Process.Pid, testMap); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"uid_map", "gid_map"} {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), f))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(b)); strings.Join(got, " ") != "0 100000 65536" {
			t.Errorf("%s = %q, want \"0 100000 65536\"", f, b)
		}
	}
}

// tree makes a small rootfs-like tree: root-owned files, a user's file, a set-uid binary,
// a symlink, a hard link and a fifo.
func tree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(src, "home/user"), 0o700))
	must(os.WriteFile(filepath.Join(src, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(src, "home/user/notes"), []byte("hi"), 0o600))
	must(os.WriteFile(filepath.Join(src, "su"), []byte("#!"), 0o4755))
	must(os.Chown(filepath.Join(src, "home/user"), 1000, 1000))
	must(os.Chown(filepath.Join(src, "home/user/notes"), 1000, 1001))
	must(unix.Chmod(filepath.Join(src, "su"), 0o4755))
	must(os.Symlink("etc/passwd", filepath.Join(src, "link")))
	must(os.Link(filepath.Join(src, "etc/passwd"), filepath.Join(src, "hard")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o640))
	return src
}

func owner(t *testing.T, p string) (uint32, uint32, uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid, st.Mode
}

func checkShifted(t *testing.T, dst string) {
	t.Helper()
	for p, want := range map[string][2]uint32{
		"etc/passwd": {100000, 100000}, "home/user": {101000, 101000},
		"home/user/notes": {101000, 101001}, "link": {100000, 100000}, "fifo": {100000, 100000},
	} {
		if u, g, _ := owner(t, filepath.Join(dst, p)); u != want[0] || g != want[1] {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, u, g, want[0], want[1])
		}
	}
	if _, _, mode := owner(t, filepath.Join(dst, "su")); mode&0o7777 != 0o4755 {
		t.Errorf("su mode %o, want 4755 kept", mode&0o7777)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "home/user/notes")); err != nil || string(b) != "hi" {
		t.Errorf("notes = %q, %v", b, err)
	}
}

func TestRemapIDMapped(t *testing.T) {
	testutil.RequirePrivileged(t)
	src, dst := tree(t), t.TempDir()
	mode, err := Remap(src, dst, testMap)
	if err != nil {
		t.Fatal(err)
	}
	if mode == IDMapped {
		t.Cleanup(func() {
			if err := unix.Unmount(dst, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dst, err)
			}
		})
	}
	if mode != IDMapped {
		t.Fatalf("Remap used a %s; this kernel (6.x, ext4/tmpfs) takes idmapped mounts", mode)
	}
	checkShifted(t, dst)
	if u, _, _ := owner(t, filepath.Join(src, "etc/passwd")); u != 0 {
		t.Errorf("the source changed owner to %d: an idmapped mount must not write", u)
	}
}

func TestChownCopy(t *testing.T) {
	testutil.RequirePrivileged(t)
	src := tree(t)
	dst := filepath.Join(t.TempDir(), "copy")
	if err := ChownCopy(src, dst, testMap); err != nil {
		t.Fatal(err)
	}
	checkShifted(t, dst)
	var a, b unix.Stat_t
	unix.Stat(filepath.Join(dst, "etc/passwd"), &a)
	unix.Stat(filepath.Join(dst, "hard"), &b)
	if a.Ino != b.Ino {
		t.Error("hard link copied as two files")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "link")); l != "etc/passwd" {
		t.Errorf("link -> %q", l)
	}
}
