package container_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/minibox/minibox/pkg/spec"
)

// TestUserNS runs a container whose root is host uid 100000. What the daemon prepares for
// it (as it would with userns.WriteMaps' companion that makes the rootfs appear owned):
// a traversable container directory and upper/work owned by the mapped root.
func TestUserNS(t *testing.T) {
	s := newSpec(t, "sh", "-c", "id -u; cat /proc/self/uid_map; echo hi > /made-here; ls -ln /made-here | cut -c1-30")
	s.UserNS = &spec.IDMap{HostID: 100000, Size: 65536}
	s.Seccomp = nil
	os.Chmod(s.Dir, 0o711)
	os.Chmod(filepath.Dir(s.Dir), 0o711)
	for _, d := range []string{s.Rootfs.Upper, s.Rootfs.Work} {
		os.Chown(d, 100000, 100000)
	}
	exit, out := run(t, s)
	want := "0\n         0     100000      65536\n-rw-r--r--    1 0        0    \n"
	if exit.ExitCode != 0 || out["stdout"] != want {
		t.Fatalf("exit %+v stdout %q stderr %q; want %q", exit, out["stdout"], out["stderr"], want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(s.Rootfs.Upper, "made-here"), &st); err != nil || st.Uid != 100000 {
		t.Errorf("file made by the container's root: host uid %d, %v; want 100000", st.Uid, err)
	}
}
