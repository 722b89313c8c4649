package engine

import (
	"os"
	"runtime"
	"strconv"
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
		PID: os.Getpid(), CgroupVersion: strconv.Itoa(e.host.Cgroup.Version),
		Host: api.HostInfo{Cgroup: api.CgroupInfo(e.host.Cgroup), Overlay: e.host.Overlay,
			IDMappedMounts: e.host.IDMappedMounts, Nftables: e.host.Nftables, FUSE: e.host.FUSE,
			UserNS: e.host.UserNS},
	}
	e.countContainers(&info)
	return info
}
