package cgroup

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// attachDevices attaches a program allowing the device rules (DefaultDevices, those plus
// --device's, or "a" for everything) to a v2 cgroup directory. Attaching without BPF_F_ALLOW_MULTI replaces the program
// attached before, which is how --privileged lifts the default. On a directory that is not
// cgroup2 (a fake tree in tests) there is nothing to attach to.
func attachDevices(dir string, rules []string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return nil
	}
	prog, err := deviceProgram(rules)
	if err != nil {
		return err
	}
	license := []byte("Apache-2.0\x00")
	// union bpf_attr for BPF_PROG_LOAD, up to kern_version.
	load := struct {
		progType, insnCnt uint32
		insns, license    uint64
		logLevel, logSize uint32
		logBuf            uint64
		kernVersion       uint32
		_                 uint32
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog) / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	fd, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if e != 0 {
		// Load again with the verifier's log: its last line says what it refused.
		logBuf := make([]byte, 64<<10)
		load.logLevel, load.logSize = 1, uint32(len(logBuf))
		load.logBuf = uint64(uintptr(unsafe.Pointer(&logBuf[0])))
		unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
		runtime.KeepAlive(logBuf)
		lines := strings.Split(strings.TrimSpace(unix.ByteSliceToString(logBuf)), "\n")
		return fmt.Errorf("bpf(BPF_PROG_LOAD) device filter: %w: %s", e, strings.Join(lines, " / "))
	}
	defer unix.Close(int(fd))
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(cg)
	attach := struct {
		targetFd, attachBpfFd, attachType, attachFlags uint32
	}{uint32(cg), uint32(fd), unix.BPF_CGROUP_DEVICE, 0}
	if _, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach)), unsafe.Sizeof(attach)); e != 0 {
		return fmt.Errorf("bpf(BPF_PROG_ATTACH) device filter to %s: %w", dir, e)
	}
	return nil
}
