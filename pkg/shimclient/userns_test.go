package shimclient_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/minibox/minibox/pkg/spec"
)

// TestUserNS runs a container whose root is host uid 100000, with nothing prepared by the
// "daemon": the shim hands init idmapped views of the layers and the container directory,
// so the image's files are owned by the container's root, and what it writes lands on
// disk as host root (no chowned copies, nothing mounted on the host). A bind is idmapped
// only when asked: a plain one keeps the host's owners, so container root is uid 100000
// there and cannot write a host root's directory.
func TestUserNS(t *testing.T) {
	vol, plain := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(vol, "v"), []byte("vol\n"), 0o644)
	os.WriteFile(filepath.Join(plain, "p"), []byte("plain\n"), 0o644)
	s := newSpec(t, "sh", "-c", "id -u; cat /proc/self/uid_map; stat -c '%u %g' /bin/busybox /etc/passwd /vol/v; echo hi > /made-here; echo w > /vol/w; stat -c %u /made-here; "+
		"stat -c '%u %g' /plain/p; (echo w > /plain/w) 2>/dev/null && echo wrote || echo refused")
	s.UserNS = &spec.IDMap{HostID: 100000, Size: 65536}
	s.Mounts = []spec.Mount{{Type: "bind", Source: vol, Destination: "/vol", IDMap: true},
		{Type: "bind", Source: plain, Destination: "/plain"}}
	s.Seccomp = nil
	os.Chmod(s.Dir, 0o700) // as the daemon makes it: init cannot search it
	exit, out := run(t, s)
	want := "0\n         0     100000      65536\n0 0\n0 0\n0 0\n0\n65534 65534\nrefused\n"
	if exit.ExitCode != 0 || out["stdout"] != want {
		t.Fatalf("exit %+v stdout %q stderr %q; want %q", exit, out["stdout"], out["stderr"], want)
	}
	for _, p := range []string{filepath.Join(s.Rootfs.Upper, "made-here"), filepath.Join(vol, "w")} {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil || st.Uid != 0 {
			t.Errorf("%s written by the container's root: host uid %d, %v; want 0 through the idmapped mount", p, st.Uid, err)
		}
	}
	if _, err := os.Stat(filepath.Join(plain, "w")); err == nil {
		t.Errorf("container root wrote into a host root's directory through a plain bind")
	}
}
