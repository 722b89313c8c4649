package mount

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

func testSpec(lower ...string) *spec.Spec {
	return &spec.Spec{Rootfs: spec.Rootfs{Lower: lower, Upper: "upper", Work: "work"}}
}

func find(plan []Mount, kind Kind, target string) (Mount, int) {
	for i, m := range plan {
		if m.Kind == kind && m.Target == target {
			return m, i
		}
	}
	return Mount{}, -1
}

func TestRootfsPlanOverlay(t *testing.T) {
	got, _ := find(RootfsPlan(testSpec("l2", "l1")), KindMount, "rootfs")
	want := Mount{Source: "overlay", Target: "rootfs", Type: "overlay",
		Data: "lowerdir=l2:l1,upperdir=upper,workdir=work"}
	if got != want {
		t.Errorf("overlay = %+v, want %+v", got, want)
	}
}

func TestRootfsPlanVolatile(t *testing.T) {
	s := testSpec("l1")
	s.Rootfs.Volatile = true
	got, _ := find(RootfsPlan(s), KindMount, "rootfs")
	if want := "lowerdir=l1,upperdir=upper,workdir=work,volatile"; got.Data != want {
		t.Errorf("overlay data = %q, want %q", got.Data, want)
	}
}

func TestRootfsPlanOrder(t *testing.T) {
	s := testSpec("l1")
	s.Dir = "/c"
	s.Mounts = []spec.Mount{{Type: "volume", Source: "/v/data", Destination: "/data", CopyUp: true, ReadOnly: true}}
	s.HostsPath = "/c/hosts"
	s.Rootfs.ReadOnly = true
	plan := RootfsPlan(s)
	if plan[0] != (Mount{Target: "/", Flags: unix.MS_REC | unix.MS_PRIVATE}) {
		t.Errorf("first step %v, want private propagation", plan[0])
	}
	order := []int{}
	for _, k := range []struct {
		kind   Kind
		target string
	}{
		{KindMount, "/c/rootfs"}, {KindMount, "/proc"}, {KindMount, "/dev"}, {KindMount, "/dev/pts"},
		{KindMount, "/dev/shm"}, {KindMount, "/sys"}, {KindCopyUp, "/data"}, {KindMount, "/data"},
		{KindMount, "/etc/hosts"}, {KindMask, "/proc/kcore"}, {KindReadonly, "/proc/sys"},
	} {
		_, i := find(plan, k.kind, k.target)
		if i < 0 {
			t.Fatalf("no %v step for %s in %v", k.kind, k.target, plan)
		}
		order = append(order, i)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Errorf("steps out of order: %v", order)
		}
	}
	vol, _ := find(plan, KindMount, "/data")
	if vol.Flags != unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY || vol.Root != "/c/rootfs" || vol.Source != "/v/data" {
		t.Errorf("volume = %+v", vol)
	}
	last := plan[len(plan)-1]
	if last.Target != "/" || last.Flags&unix.MS_RDONLY == 0 || plan[len(plan)-2].Kind != KindPivot {
		t.Errorf("read-only root must follow pivot_root: %v, %v", plan[len(plan)-2], last)
	}
	sys, _ := find(plan, KindMount, "/sys")
	if sys.Flags&unix.MS_RDONLY == 0 {
		t.Errorf("/sys must be read-only: %v", sys)
	}
	shm, _ := find(plan, KindMount, "/dev/shm")
	if shm.Data != "mode=1777,size=67108864" {
		t.Errorf("/dev/shm data %q", shm.Data)
	}
	pts, _ := find(plan, KindMount, "/dev/pts")
	if pts.Data != "newinstance,ptmxmode=0666,mode=0620,gid=5" {
		t.Errorf("devpts data %q", pts.Data)
	}
}

func TestRootfsPlanPrivileged(t *testing.T) {
	s := testSpec("l1")
	s.Privileged = true
	plan := RootfsPlan(s)
	for _, m := range plan {
		if m.Kind == KindMask || m.Kind == KindReadonly {
			t.Errorf("privileged plan masks %s", m.Target)
		}
	}
	if sys, _ := find(plan, KindMount, "/sys"); sys.Flags&unix.MS_RDONLY != 0 {
		t.Errorf("privileged /sys is read-only")
	}
	if dev, _ := find(plan, KindMount, "/dev"); dev.Flags&unix.MS_BIND == 0 {
		t.Errorf("privileged /dev = %v, want the host's", dev)
	}
}

func TestRootfsPlanTmpfs(t *testing.T) {
	s := testSpec("l1")
	s.Mounts = []spec.Mount{{Type: "tmpfs", Destination: "/tmp", Options: []string{"size=1m", "mode=1777", "noexec"}}}
	got, _ := find(RootfsPlan(s), KindMount, "/tmp")
	if got.Type != "tmpfs" || got.Data != "size=1m,mode=1777" || got.Flags&unix.MS_NOEXEC == 0 {
		t.Errorf("tmpfs = %+v", got)
	}
}

func TestOverlayNoUpper(t *testing.T) {
	if m := OverlayMount(spec.Rootfs{Lower: []string{"a"}}, "r"); m.Flags&unix.MS_BIND == 0 || m.Source != "a" {
		t.Errorf("single lower without upper = %+v, want a bind", m)
	}
}

func TestSecureJoin(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "real/dir"), 0o755)
	os.Symlink("/etc", filepath.Join(root, "abs"))
	os.Symlink("../../../../etc", filepath.Join(root, "real/up"))
	os.Symlink("dir", filepath.Join(root, "real/rel"))
	os.Symlink("loop", filepath.Join(root, "loop"))
	for in, want := range map[string]string{
		"/proc":             "/proc",
		"/abs/passwd":       "/etc/passwd",
		"/real/up/shadow":   "/etc/shadow",
		"/real/rel/x":       "/real/dir/x",
		"/../../etc":        "/etc",
		"real/./dir/../dir": "/real/dir",
	} {
		got, err := SecureJoin(root, in)
		if err != nil || got != filepath.Join(root, want) {
			t.Errorf("SecureJoin(%q) = %q, %v; want %q", in, strings.TrimPrefix(got, root), err, want)
		}
	}
	if _, err := SecureJoin(root, "/loop/x"); err == nil {
		t.Errorf("symlink loop resolved")
	}
}

// TestRootfsPlanDriver: --gpus' driver files are bound read-only (executable: tools are
// among them) after the volumes, then the libraries' names and the loader's file, all
// inside the root.
func TestRootfsPlanDriver(t *testing.T) {
	s := testSpec("l1")
	s.Dir = "/c"
	s.Mounts = []spec.Mount{{Type: "bind", Source: "/src", Destination: "/usr/lib"}}
	s.HostsPath = "/c/hosts"
	s.Driver = &spec.Driver{
		Files:  []spec.DriverFile{{HostPath: "/usr/lib/libcuda.so.5", Path: "/usr/lib/libcuda.so.5"}, {HostPath: "/usr/bin/nvidia-smi", Path: "/usr/bin/nvidia-smi"}},
		Links:  []spec.Link{{Path: "/usr/lib/libcuda.so.1", Target: "libcuda.so.5"}},
		LdConf: "/c/gpu-ld.so.conf",
	}
	plan := RootfsPlan(s)
	var order []int
	for _, k := range []struct {
		kind   Kind
		target string
	}{
		{KindMount, "/usr/lib"}, {KindMount, "/usr/lib/libcuda.so.5"}, {KindMount, "/usr/bin/nvidia-smi"},
		{KindSymlink, "/usr/lib/libcuda.so.1"}, {KindMount, spec.LdConfPath}, {KindMount, "/etc/hosts"},
	} {
		m, i := find(plan, k.kind, k.target)
		if i < 0 {
			t.Fatalf("no %v step for %s in %v", k.kind, k.target, plan)
		}
		if m.Root != "/c/rootfs" {
			t.Errorf("%s is not resolved in the root: %+v", k.target, m)
		}
		order = append(order, i)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Errorf("steps out of order: %v", order)
		}
	}
	smi, _ := find(plan, KindMount, "/usr/bin/nvidia-smi")
	if smi.Source != "/usr/bin/nvidia-smi" || smi.Flags&unix.MS_RDONLY == 0 || smi.Flags&unix.MS_BIND == 0 || smi.Flags&unix.MS_NOEXEC != 0 {
		t.Errorf("driver file = %+v, want a read-only bind that can run", smi)
	}
	if l, _ := find(plan, KindSymlink, "/usr/lib/libcuda.so.1"); l.Source != "libcuda.so.5" {
		t.Errorf("library name = %+v", l)
	}
	if c, _ := find(plan, KindMount, spec.LdConfPath); c.Source != "/c/gpu-ld.so.conf" || c.Flags&unix.MS_RDONLY == 0 {
		t.Errorf("loader file = %+v", c)
	}
}
