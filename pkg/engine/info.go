package engine

import (
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/version"
)

// Info describes the daemon and its host.
func (e *Engine) Info() api.Info {
	var u unix.Utsname
	unix.Uname(&u)
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	info := api.Info{
		Version: version.Version, DataRoot: e.Root, OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), MemoryBytes: uint64(si.Totalram) * uint64(si.Unit),
		Kernel: strings.TrimRight(string(u.Release[:]), "\x00"), BridgeSubnet: e.Cfg.BridgeSubnet.String(),
		Bridge: "minibox0", Lazy: e.Cfg.Lazy, UserNS: e.Cfg.UserNS, Encrypted: e.Cfg.EncryptionKey != nil,
		PID: os.Getpid(), CgroupVersion: cgroupVersion(),
	}
	e.countContainers(&info)
	return info
}

func cgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}
