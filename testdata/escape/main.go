// Command escape probes, from inside a container, each way out that minibox's defaults
// must close (the runc CVE-2019-5736 class included). It prints one line per probe:
//
//	<name> blocked|ALLOWED <detail>
//
// and exits 0; the test decides which answers are right for the container's settings.
// Every probe is safe when ALLOWED: nothing is written to the kernel, a device or a binary
// (files are opened for writing and closed untouched), and what it mounts it unmounts.
//
// Built static (standard library only, so no module cache is needed) by the isolation
// scripts and tests:
//
//	cd testdata/escape && CGO_ENABLED=0 go build -o probe .
//
// Usage: probe [-tcp addr,addr [-gateway]] [-ptrace pid,pid] [name...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

type probe struct {
	name string
	run  func() (allowed bool, detail string)
}

var (
	tcpAddrs   = flag.String("tcp", "", "comma-separated host:port or http://host:port addresses that must be unreachable")
	viaGW      = flag.Bool("gateway", false, "also try each -tcp port on the default gateway (the bridge; only in bridge mode)")
	ptracePids = flag.String("ptrace", "1", "comma-separated pids to try to ptrace (1 = the container's init; a host pid)")
)

func main() {
	flag.Parse()
	only := map[string]bool{}
	for _, a := range flag.Args() {
		only[a] = true
	}
	for _, p := range probes() {
		if len(only) > 0 && !only[p.name] {
			continue
		}
		allowed, detail := p.run()
		word := "blocked"
		if allowed {
			word = "ALLOWED"
		}
		fmt.Printf("%s %s %s\n", p.name, word, detail)
	}
}

// verdict: a nil error is ALLOWED; so is an error other than the permission ones, which
// means the call got past every permission check (EINVAL for a bad argument, say).
func verdict(err error, denied ...syscall.Errno) (bool, string) {
	if err == nil {
		return true, "ok"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		for _, d := range append(denied, syscall.EPERM, syscall.EACCES, syscall.EROFS) {
			if e == d {
				return false, errnoName(e)
			}
		}
		return true, "got past permission checks: " + errnoName(e)
	}
	return false, err.Error()
}

// onThread runs fn on a thread that dies afterwards, for calls that change the calling
// thread (unshare, setns) so the rest of the probe is unaffected.
func onThread(fn func() (bool, string)) (bool, string) {
	type res struct {
		ok bool
		d  string
	}
	c := make(chan res)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		ok, d := fn()
		c <- res{ok, d}
	}()
	r := <-c
	return r.ok, r.d
}

func probes() []probe {
	return []probe{
		{"mount", func() (bool, string) {
			dir, err := os.MkdirTemp("", "probe")
			if err != nil {
				return false, "no temp dir: " + err.Error()
			}
			defer os.Remove(dir)
			err = syscall.Mount("probe", dir, "tmpfs", 0, "size=1k")
			if err == nil {
				syscall.Unmount(dir, syscall.MNT_DETACH)
			}
			return verdict(err)
		}},
		{"umount", func() (bool, string) {
			// A directory that is no mount point: EINVAL means the call was permitted.
			dir, err := os.MkdirTemp("", "probe")
			if err != nil {
				return false, "no temp dir: " + err.Error()
			}
			defer os.Remove(dir)
			return verdict(syscall.Unmount(dir, 0))
		}},
		{"unshare", func() (bool, string) {
			return onThread(func() (bool, string) { return verdict(syscall.Unshare(syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS)) })
		}},
		{"setns", func() (bool, string) {
			return onThread(func() (bool, string) {
				fd, err := syscall.Open("/proc/self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
				if err != nil {
					return verdict(err)
				}
				defer syscall.Close(fd)
				return verdict(setns(fd, syscall.CLONE_NEWNET))
			})
		}},
		{"keyctl", func() (bool, string) {
			_, err := keyctlJoin("minibox-probe")
			return verdict(err)
		}},
		{"bpf", func() (bool, string) {
			// BPF_MAP_CREATE of a one-entry array map.
			attr := [5]uint32{2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1, 0}
			fd, _, e := syscall.Syscall(sysBPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
			if e == 0 {
				syscall.Close(int(fd))
				return true, "created a map"
			}
			return verdict(e)
		}},
		{"ptrace", func() (bool, string) {
			var details []string
			for _, f := range strings.Split(*ptracePids, ",") {
				pid, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					continue
				}
				ok, d := onThread(func() (bool, string) {
					err := syscall.PtraceAttach(pid)
					if err == nil {
						var ws syscall.WaitStatus
						syscall.Wait4(pid, &ws, syscall.WALL, nil)
						syscall.PtraceDetach(pid)
						return true, fmt.Sprintf("attached to pid %d", pid)
					}
					_, d := verdict(err, syscall.ESRCH)
					return false, fmt.Sprintf("pid %d: %s", pid, d)
				})
				if ok {
					return true, d
				}
				details = append(details, d)
			}
			return false, strings.Join(details, ", ")
		}},
		{"init_module", func() (bool, string) {
			// An empty image: a permitted call fails with ENOEXEC or EFAULT, loading nothing.
			_, _, e := syscall.Syscall(syscall.SYS_INIT_MODULE, 0, 0, uintptr(unsafe.Pointer(&[]byte{0}[0])))
			return verdict(errOrNil(e))
		}},
		{"iopl", func() (bool, string) {
			if err := syscall.Iopl(3); err != nil {
				return verdict(err)
			}
			syscall.Iopl(0)
			return true, "raised the I/O privilege level"
		}},
		{"ioperm", func() (bool, string) {
			if err := syscall.Ioperm(0x80, 1, 1); err != nil {
				return verdict(err)
			}
			syscall.Ioperm(0x80, 1, 0)
			return true, "got port 0x80"
		}},
		{"proc_sys", func() (bool, string) {
			return openWrite("/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches")
		}},
		{"sysrq", func() (bool, string) { return openWrite("/proc/sysrq-trigger") }},
		{"sys", func() (bool, string) {
			return openWrite("/sys/kernel/uevent_helper", "/sys/kernel/profiling", "/sys/power/state", "/sys/fs/cgroup/cgroup.procs")
		}},
		{"kcore", func() (bool, string) {
			f, err := os.Open("/proc/kcore")
			if errors.Is(err, os.ErrNotExist) {
				return false, "absent (kernel without /proc/kcore)"
			}
			if err != nil {
				return verdict(err)
			}
			defer f.Close()
			b := make([]byte, 4)
			n, _ := f.Read(b)
			if n == 4 && string(b) == "\x7fELF" {
				return true, "read the kernel's memory image"
			}
			return false, fmt.Sprintf("masked (%d bytes)", n)
		}},
		{"mknod", func() (bool, string) {
			dir, err := os.MkdirTemp("", "probe")
			if err != nil {
				return false, "no temp dir: " + err.Error()
			}
			defer os.RemoveAll(dir)
			var last string
			for _, dev := range blockDevices() {
				node := filepath.Join(dir, "dev")
				os.Remove(node)
				if err := syscall.Mknod(node, syscall.S_IFBLK|0o600, int(mkdev(dev[0], dev[1]))); err != nil {
					_, d := verdict(err)
					last = fmt.Sprintf("mknod %d:%d: %s", dev[0], dev[1], d)
					continue
				}
				fd, err := syscall.Open(node, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
				if err == nil {
					syscall.Close(fd)
					return true, fmt.Sprintf("opened block device %d:%d", dev[0], dev[1])
				}
				_, d := verdict(err)
				last = fmt.Sprintf("open %d:%d: %s", dev[0], dev[1], d)
			}
			return false, last
		}},
		{"host_pids", func() (bool, string) {
			n := 0
			ents, _ := os.ReadDir("/proc")
			for _, e := range ents {
				if _, err := strconv.Atoi(e.Name()); err == nil {
					n++
				}
			}
			// The host's PID 2 is kthreadd, parent of every kernel thread; a new PID
			// namespace has no kernel threads.
			if b, err := os.ReadFile("/proc/2/status"); err == nil && strings.Contains(string(b), "kthreadd") {
				return true, fmt.Sprintf("kthreadd visible, %d pids", n)
			}
			return false, fmt.Sprintf("%d pids", n)
		}},
		{"hostname", func() (bool, string) {
			old, _ := os.Hostname()
			if err := syscall.Sethostname([]byte("minibox-probe")); err != nil {
				return verdict(err)
			}
			syscall.Sethostname([]byte(old))
			return true, "changed (the container's own UTS namespace)"
		}},
		{"tcp", func() (bool, string) {
			addrs := targets(*tcpAddrs)
			if len(addrs) == 0 {
				return false, "no address given"
			}
			for _, a := range addrs {
				c, err := net.DialTimeout("tcp", a, 2*time.Second)
				if err == nil {
					c.Close()
					return true, "connected to " + a
				}
			}
			return false, "unreachable: " + strings.Join(addrs, " ")
		}},
		{"proc_exe", func() (bool, string) {
			// Writing the binary behind any visible process's /proc/<pid>/exe would let a
			// container replace the host's minibox (CVE-2019-5736). Opened, never written.
			ents, _ := os.ReadDir("/proc")
			tried := 0
			for _, e := range ents {
				if _, err := strconv.Atoi(e.Name()); err != nil {
					continue
				}
				p := "/proc/" + e.Name() + "/exe"
				tried++
				if fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_CLOEXEC, 0); err == nil {
					syscall.Close(fd)
					target, _ := os.Readlink(p)
					return true, fmt.Sprintf("%s (%s) opened for writing", p, target)
				}
			}
			return false, fmt.Sprintf("%d tried, none writable", tried)
		}},
		{"proc1_exe", func() (bool, string) {
			fd, err := syscall.Open("/proc/1/exe", syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
			if err == nil {
				syscall.Close(fd)
				return true, "opened for writing"
			}
			ok, d := verdict(err, syscall.ETXTBSY, syscall.ENOENT)
			return ok, d
		}},
	}
}

func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// openWrite opens the first existing path for writing and closes it without writing.
func openWrite(paths ...string) (bool, string) {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
		if err == nil {
			syscall.Close(fd)
			return true, p + " opened for writing"
		}
		_, d := verdict(err)
		return false, p + ": " + d
	}
	return false, "none of " + strings.Join(paths, " ") + " exists"
}

// blockDevices are loop0 and the host's disks from /proc/partitions (not namespaced).
func blockDevices() [][2]uint32 {
	devs := [][2]uint32{{7, 0}}
	b, _ := os.ReadFile("/proc/partitions")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 {
			continue
		}
		ma, e1 := strconv.Atoi(f[0])
		mi, e2 := strconv.Atoi(f[1])
		if e1 == nil && e2 == nil {
			devs = append(devs, [2]uint32{uint32(ma), uint32(mi)})
		}
	}
	return devs
}

// targets turns the -tcp list into host:port addresses, adding each port on the default
// gateway: a container's way to the host through its bridge.
func targets(list string) []string {
	var out, ports []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		a = strings.TrimPrefix(strings.TrimPrefix(a, "http://"), "https://")
		a = strings.TrimSuffix(a, "/")
		if a == "" {
			continue
		}
		out = append(out, a)
		if _, p, err := net.SplitHostPort(a); err == nil {
			ports = append(ports, p)
		}
	}
	if gw := gateway(); gw != "" && *viaGW {
		for _, p := range ports {
			out = append(out, net.JoinHostPort(gw, p))
		}
	}
	return out
}

// gateway reads the default route's gateway from /proc/net/route (little-endian hex).
func gateway() string {
	b, _ := os.ReadFile("/proc/net/route")
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		v, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil || v == 0 {
			continue
		}
		return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
	}
	return ""
}

// The probe uses only the standard library, so a script can build it without a module
// cache; these are the few calls package syscall lacks (x86_64 numbers).
const (
	sysBPF    = 321
	sysKeyctl = 250
	sysSetns  = 308

	keyctlJoinSessionKeyring = 1
)

func keyctlJoin(name string) (int, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return 0, err
	}
	id, _, e := syscall.Syscall(sysKeyctl, keyctlJoinSessionKeyring, uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return 0, e
	}
	return int(id), nil
}

func setns(fd, nstype int) error {
	if _, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), uintptr(nstype), 0); e != 0 {
		return e
	}
	return nil
}

// mkdev encodes a device number as glibc's makedev does.
func mkdev(major, minor uint32) uint64 {
	return uint64(major&0xfff)<<8 | uint64(major&^0xfff)<<32 | uint64(minor&0xff) | uint64(minor&^0xff)<<12
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.EACCES: "EACCES", syscall.EROFS: "EROFS", syscall.ESRCH: "ESRCH",
	syscall.ENOENT: "ENOENT", syscall.EINVAL: "EINVAL", syscall.ENOSYS: "ENOSYS",
	syscall.ETXTBSY: "ETXTBSY", syscall.EFAULT: "EFAULT", syscall.ENOEXEC: "ENOEXEC",
	syscall.EBUSY: "EBUSY", syscall.ENXIO: "ENXIO", syscall.ENODEV: "ENODEV",
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EEXIST: "EEXIST", syscall.ENOTDIR: "ENOTDIR",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return e.Error()
}
