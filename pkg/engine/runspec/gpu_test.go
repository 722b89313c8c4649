package runspec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/testutil"
)

// fakeTree makes files (content "x"), symlinks ("-> target") and directories (trailing
// "/") under root.
func fakeTree(t *testing.T, root string, entries map[string]string) {
	t.Helper()
	for p, v := range entries {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(p, "/"):
			err = os.MkdirAll(full, 0o755)
		case strings.HasPrefix(v, "-> "):
			err = os.Symlink(strings.TrimPrefix(v, "-> "), full)
		default:
			err = os.WriteFile(full, []byte(v), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestGPUNodes(t *testing.T) {
	root := t.TempDir()
	if _, err := gpuNodes(root, gpus(t, "all")); err == nil || !strings.Contains(err.Error(), "this host has no NVIDIA GPU") {
		t.Fatalf("no nvidiactl: %v", err)
	}
	fakeTree(t, root, map[string]string{
		"dev/nvidiactl": "", "dev/nvidia0": "", "dev/nvidia1": "", "dev/nvidia10": "", "dev/nvidia-uvm": "", "dev/null": "",
	})
	for _, c := range []struct {
		v    string
		want []string
		err  string
	}{
		{v: "all", want: []string{"/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia10", "/dev/nvidia-uvm"}},
		{v: "2", want: []string{"/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia-uvm"}},
		{v: `"device=1,10"`, want: []string{"/dev/nvidiactl", "/dev/nvidia1", "/dev/nvidia10", "/dev/nvidia-uvm"}},
		{v: "device=3", err: "GPU 3: no /dev/nvidia3 on this host (it has 3 GPUs)"},
		{v: "4", err: "4 GPUs requested; this host has 3"},
	} {
		got, err := gpuNodes(root, gpus(t, c.v))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.v, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.v, got, err, c.want)
		}
	}
}

func TestGPUDriver(t *testing.T) {
	root := t.TempDir()
	if d, err := gpuDriver(root); d != nil || err != nil {
		t.Fatalf("empty host: %+v %v", d, err)
	}
	lib := gpuLibDirs[0][1:] // usr/lib/<triplet>-linux-gnu
	fakeTree(t, root, map[string]string{
		lib + "/libcuda.so.535.104.05": "x",
		lib + "/libcuda.so.1":          "-> libcuda.so.535.104.05",
		lib + "/libcuda.so":            "-> libcuda.so.1",
		lib + "/libc.so.6":             "x",
		// Debian's alternatives: an absolute link out of the directory, resolved in root.
		lib + "/libnvidia-ml.so.1":                         "-> /etc/alternatives/nvidia--libnvidia-ml.so.1",
		"etc/alternatives/nvidia--libnvidia-ml.so.1":       "-> /" + lib + "/nvidia/current/libnvidia-ml.so.535.104.05",
		lib + "/nvidia/current/libnvidia-ml.so.535.104.05": "x",
		lib + "/libnvidia-ptxjitcompiler.so.535.104.05":    "x",
		// Links that climb out, or lead nowhere, or to a directory, bring in nothing.
		lib + "/libnvidia-escape.so":                       "-> ../../../../../../../../etc/shadow",
		lib + "/libnvidia-dangling.so":                     "-> libnvidia-gone.so",
		lib + "/libnvidia-dir.so":                          "-> /usr",
		"usr/bin/nvidia-smi":                               "x",
		"usr/sbin/nvidia-persistenced":                     "-> ../bin/nvidia-persistenced.real",
		"usr/bin/nvidia-persistenced.real":                 "x",
		"usr/lib/firmware/nvidia/535.104.05/gsp_ga10x.bin": "x",
		// usrmerge: /lib and /bin lead to the same files, found once.
		"lib": "-> usr/lib",
		"bin": "-> usr/bin",
	})
	d, err := gpuDriver(root)
	if err != nil || d == nil {
		t.Fatalf("gpuDriver: %+v %v", d, err)
	}
	L := "/" + lib
	var files []string
	for _, f := range d.Files {
		if f.HostPath != filepath.Join(root, f.Path) {
			t.Errorf("%s bound from %s, want the same path under the root", f.Path, f.HostPath)
		}
		files = append(files, f.Path)
	}
	wantFiles := []string{
		L + "/libcuda.so.535.104.05", L + "/libnvidia-ptxjitcompiler.so.535.104.05",
		L + "/nvidia/current/libnvidia-ml.so.535.104.05",
		"/usr/bin/nvidia-smi", "/usr/bin/nvidia-persistenced.real", "/usr/lib/firmware/nvidia",
	}
	if !reflect.DeepEqual(files, wantFiles) {
		t.Errorf("files\n%q\nwant\n%q", files, wantFiles)
	}
	wantLinks := []spec.Link{
		{Path: L + "/libcuda.so", Target: "libcuda.so.535.104.05"},
		{Path: L + "/libcuda.so.1", Target: "libcuda.so.535.104.05"},
		{Path: L + "/libnvidia-ml.so.1", Target: L + "/nvidia/current/libnvidia-ml.so.535.104.05"},
	}
	if !reflect.DeepEqual(d.Links, wantLinks) {
		t.Errorf("links\n%+v\nwant\n%+v", d.Links, wantLinks)
	}
	if want := []string{L, L + "/nvidia/current"}; !reflect.DeepEqual(d.Dirs, want) {
		t.Errorf("dirs %q, want %q", d.Dirs, want)
	}
	if !d.Ldconfig {
		t.Error("ldconfig not asked for")
	}

	s := &spec.Spec{Dir: t.TempDir(), Driver: d}
	if err := WriteLdConf(s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.Driver.LdConf)
	if err != nil || !strings.HasSuffix(string(b), "\n"+L+"\n"+L+"/nvidia/current\n") {
		t.Errorf("ld.so.conf %q %v", b, err)
	}
}

// TestGPUDevices: the nodes come from the driver root's dev/, resolved in it, with their
// numbers in the cgroup rule; a node that is not a character device is refused.
func TestGPUDevices(t *testing.T) {
	testutil.RequirePrivileged(t)
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "dev"), 0o755)
	for n, minor := range map[string]uint32{"nvidiactl": 255, "nvidia0": 0, "nvidia-uvm": 3} {
		if err := unix.Mknod(filepath.Join(root, "dev", n), unix.S_IFCHR|0o666, int(unix.Mkdev(195, minor))); err != nil {
			t.Fatal(err)
		}
	}
	fakeTree(t, root, map[string]string{"usr/bin/nvidia-smi": "x"})
	devs, rules, drv, err := gpuDevices(root, gpus(t, "all"))
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Device{
		{HostPath: filepath.Join(root, "dev/nvidiactl"), Path: "/dev/nvidiactl"},
		{HostPath: filepath.Join(root, "dev/nvidia0"), Path: "/dev/nvidia0"},
		{HostPath: filepath.Join(root, "dev/nvidia-uvm"), Path: "/dev/nvidia-uvm"},
	}
	if !reflect.DeepEqual(devs, want) || !reflect.DeepEqual(rules, []string{"c 195:255 rw", "c 195:0 rw", "c 195:3 rw"}) {
		t.Errorf("devices %+v rules %q", devs, rules)
	}
	if drv == nil || len(drv.Files) != 1 || drv.Files[0].Path != "/usr/bin/nvidia-smi" || drv.Ldconfig {
		t.Errorf("driver %+v: want nvidia-smi alone, no ldconfig without libraries", drv)
	}
	os.Remove(filepath.Join(root, "dev/nvidia0"))
	os.WriteFile(filepath.Join(root, "dev/nvidia0"), nil, 0o644)
	if _, _, _, err := gpuDevices(root, gpus(t, "all")); err == nil || !strings.Contains(err.Error(), `"/dev/nvidia0": not a character device`) {
		t.Errorf("regular file as a node: %v", err)
	}
}

// gpus is a --gpus value as the validator parses it.
func gpus(t *testing.T, v string) *ctrconfig.GPURequest {
	t.Helper()
	g, err := ctrconfig.ParseGPUs(v)
	if err != nil {
		t.Fatalf("--gpus %s: %v", v, err)
	}
	return &g
}
