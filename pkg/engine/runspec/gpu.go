package runspec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/spec"
)

// --gpus, as the NVIDIA container toolkit does it: the GPUs' device nodes and the control
// nodes beside them, and the driver's user-space files (libraries, tools, firmware) bound
// read-only at their host paths.

var nvidiaRe = lazyre.New(`^nvidia([0-9]+)$`)

// gpuDevices are what a --gpus value selects on the host whose driver lives at root
// (MINIBOX_GPU_DRIVER_ROOT, "/" by default): device nodes with their cgroup rules, and
// the driver's files.
func gpuDevices(root string, req *ctrconfig.GPURequest) ([]spec.Device, []string, *spec.Driver, error) {
	nodes, err := gpuNodes(root, req)
	if err != nil {
		return nil, nil, nil, err
	}
	rfd, err := inroot.OpenRoot(root)
	if err != nil {
		return nil, nil, nil, err
	}
	defer unix.Close(rfd)
	var devs []spec.Device
	var rules []string
	for _, p := range nodes {
		d, rule, err := gpuNode(rfd, p)
		if err != nil {
			return nil, nil, nil, err
		}
		devs, rules = append(devs, d), append(rules, rule)
	}
	drv, err := gpuDriver(root)
	if err != nil {
		return nil, nil, nil, err
	}
	return devs, rules, drv, nil
}

// gpuNode is the character device at p in the driver root, bound at p with a read-write
// cgroup rule.
func gpuNode(rfd int, p string) (spec.Device, string, error) {
	fd, err := inroot.Open(rfd, p, unix.O_PATH, true)
	if err != nil {
		return spec.Device{}, "", fmt.Errorf("error gathering device information while adding custom device %q: %w", p, unwrapPath(err))
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return spec.Device{}, "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return spec.Device{}, "", fmt.Errorf("error gathering device information while adding custom device %q: not a character device", p)
	}
	host, err := realPath(fd)
	if err != nil {
		return spec.Device{}, "", err
	}
	return spec.Device{HostPath: host, Path: p}, fmt.Sprintf("c %d:%d rw", unix.Major(st.Rdev), unix.Minor(st.Rdev)), nil
}

// gpuNodes are the device nodes under root/dev a --gpus value selects: /dev/nvidiactl,
// the chosen /dev/nvidiaN, and the unified memory and modeset nodes when there.
func gpuNodes(root string, req *ctrconfig.GPURequest) ([]string, error) {
	dev := filepath.Join(root, "dev")
	if _, err := os.Stat(filepath.Join(dev, "nvidiactl")); err != nil {
		return nil, fmt.Errorf("could not select device driver \"\" with capabilities: [[gpu]]: this host has no NVIDIA GPU (/dev/nvidiactl: %v)", unwrapPath(err))
	}
	ents, _ := os.ReadDir(dev)
	var gpus []int
	for _, e := range ents {
		if m := nvidiaRe.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			gpus = append(gpus, n)
		}
	}
	sort.Ints(gpus)
	var pick []int
	switch {
	case len(req.IDs) > 0:
		for _, id := range req.IDs {
			n, _ := strconv.Atoi(id)
			if !slices.Contains(gpus, n) {
				return nil, fmt.Errorf("GPU %s: no /dev/nvidia%s on this host (it has %d GPUs)", id, id, len(gpus))
			}
			pick = append(pick, n)
		}
	case req.Count < 0:
		pick = gpus
	default:
		if req.Count > len(gpus) {
			return nil, fmt.Errorf("%d GPUs requested; this host has %d", req.Count, len(gpus))
		}
		pick = gpus[:req.Count]
	}
	paths := []string{"/dev/nvidiactl"}
	for _, n := range pick {
		paths = append(paths, "/dev/nvidia"+strconv.Itoa(n))
	}
	for _, p := range []string{"/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// Where the toolkit looks for the driver's files, and which.
var (
	gpuLibDirs = []string{"/usr/lib/" + multiarch() + "-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/" + multiarch() + "-linux-gnu"}
	gpuLibs    = []string{
		"libcuda.so*", "libcudadebugger.so*", "libnvidia-*.so*", "libnvcuvid.so*", "libnvoptix.so*",
		"libGLX_nvidia.so*", "libEGL_nvidia.so*", "libGLESv2_nvidia.so*", "libGLESv1_CM_nvidia.so*",
	}
	gpuBinDirs  = []string{"/usr/bin", "/usr/sbin", "/bin", "/sbin"}
	gpuBins     = []string{"nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server"}
	gpuFirmware = "/lib/firmware/nvidia"
)

// multiarch is Debian's name for this architecture in library paths.
func multiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "ppc64le":
		return "powerpc64le"
	}
	return "x86_64"
}

// gpuDriver finds the NVIDIA driver's user-space files in the host tree at root: each
// library and tool resolved (symlinks followed inside root by the kernel, RESOLVE_IN_ROOT)
// to its real file, bound at that real path; the library names that are symlinks to
// those files, made again in the container; the directories, for the loader. nil when
// the host has none of them (the device nodes alone then).
func gpuDriver(root string) (*spec.Driver, error) {
	rfd, err := inroot.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rfd)
	realRoot, err := realPath(rfd)
	if err != nil {
		return nil, err
	}
	f := &driverFinder{rfd: rfd, root: realRoot, files: map[string]bool{}, links: map[string]bool{}}
	var dirs []string
	for _, dir := range gpuLibDirs {
		for _, d := range f.scan(dir, gpuLibs) {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	for _, name := range gpuBins {
		for _, dir := range gpuBinDirs {
			if f.add(path.Join(dir, name)) != "" {
				break
			}
		}
	}
	if len(f.drv.Files) == 0 {
		return nil, nil
	}
	if fd, err := inroot.Open(rfd, gpuFirmware, unix.O_PATH|unix.O_DIRECTORY, true); err == nil {
		if p, err := f.inRoot(fd); err == nil {
			f.drv.Files = append(f.drv.Files, spec.DriverFile{HostPath: filepath.Join(f.root, p), Path: p})
		}
		unix.Close(fd)
	}
	f.drv.Ldconfig = len(dirs) > 0
	f.drv.Dirs = dirs
	return &f.drv, nil
}

type driverFinder struct {
	rfd   int
	root  string // the root's real host path
	drv   spec.Driver
	files map[string]bool // container paths bound
	links map[string]bool
}

// scan adds the files in dir (a path in root) whose names match, and the symlinks among
// them that lead to a regular file (Debian's alternatives lead elsewhere: the file there
// is added too). It returns the real directories, in root, it added libraries in.
func (f *driverFinder) scan(dir string, patterns []string) []string {
	dfd, err := inroot.Open(f.rfd, dir, unix.O_PATH|unix.O_DIRECTORY, true)
	if err != nil {
		return nil
	}
	defer unix.Close(dfd)
	realDir, err := f.inRoot(dfd)
	if err != nil {
		return nil
	}
	names, err := inroot.ReadDirNames(dfd, dir)
	if err != nil {
		return nil
	}
	sort.Strings(names)
	var dirs []string
	found := func(d string) {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	var links []string
	for _, n := range names {
		if !matchAny(patterns, n) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(dfd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			links = append(links, n)
			continue
		}
		if f.add(path.Join(realDir, n)) != "" {
			found(realDir)
		}
	}
	// The names a library goes by (libcuda.so.1 -> libcuda.so.535.104.05): made as
	// symlinks where the host has them, pointing where the host's lead.
	for _, n := range links {
		at := path.Join(realDir, n)
		target := f.add(at)
		if target == "" || target == at || f.links[at] || f.files[at] {
			continue
		}
		found(realDir)
		found(path.Dir(target))
		if path.Dir(target) == realDir {
			target = path.Base(target)
		}
		f.links[at] = true
		f.drv.Links = append(f.drv.Links, spec.Link{Path: at, Target: target})
	}
	return dirs
}

// add binds the regular file p (a path in root, symlinks followed) at its real path,
// which it returns ("" when p is not a regular file).
func (f *driverFinder) add(p string) string {
	fd, err := inroot.Open(f.rfd, p, unix.O_PATH, true)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ""
	}
	real, err := f.inRoot(fd)
	if err != nil {
		return ""
	}
	if !f.files[real] {
		f.files[real] = true
		f.drv.Files = append(f.drv.Files, spec.DriverFile{HostPath: filepath.Join(f.root, real), Path: real})
	}
	return real
}

// inRoot is the path in root of what fd holds.
func (f *driverFinder) inRoot(fd int) (string, error) {
	p, err := realPath(fd)
	if err != nil {
		return "", err
	}
	if f.root == "/" {
		return p, nil
	}
	rel, ok := strings.CutPrefix(p, f.root)
	if !ok || (rel != "" && rel[0] != '/') {
		return "", errors.New("outside the root")
	}
	return path.Clean("/" + rel), nil
}

// realPath is the host path the kernel has for fd.
func realPath(fd int) (string, error) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", err
	}
	if !path.IsAbs(p) || strings.HasSuffix(p, " (deleted)") {
		return "", fmt.Errorf("fd %d: no path (%s)", fd, p)
	}
	return p, nil
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ldConfName is the file in a container's directory that lists the driver's library
// directories; init binds it into /etc/ld.so.conf.d.
const ldConfName = "gpu-ld.so.conf"

// WriteLdConf writes the loader configuration of a container that has a GPU driver.
func WriteLdConf(s *spec.Spec) error {
	d := s.Driver
	if d == nil || len(d.Dirs) == 0 {
		return nil
	}
	d.LdConf = filepath.Join(s.Dir, ldConfName)
	return atomicfile.WriteFile(d.LdConf, []byte("# the NVIDIA driver's libraries (--gpus)\n"+strings.Join(d.Dirs, "\n")+"\n"), 0o644)
}
