package engine

import (
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/hostprobe"
	"github.com/minibox/minibox/pkg/version"
)

// Info describes the daemon and its host.
type Info struct {
	Version           string
	DataRoot          string
	Containers        int
	ContainersRunning int
	ContainersPaused  int
	ContainersStopped int
	Images            int
	CgroupVersion     string
	Kernel            string
	OS, Arch          string
	CPUs              int
	MemoryBytes       uint64
	Bridge            string
	BridgeSubnet      string
	Lazy              bool
	UserNS            string
	Encrypted         bool // state.json is sealed
	PID               int
	// Host is what the daemon found the host offers, probed once at its start.
	Host hostprobe.Host
}

// Info describes the daemon and its host.
func (e *Engine) Info() Info {
	var u unix.Utsname
	unix.Uname(&u)
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	info := Info{
		Version: version.Version, DataRoot: e.Root, OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), MemoryBytes: uint64(si.Totalram) * uint64(si.Unit),
		Kernel: strings.TrimRight(string(u.Release[:]), "\x00"), BridgeSubnet: e.Cfg.BridgeSubnet.String(),
		Bridge: "minibox0", Lazy: e.Cfg.Lazy, UserNS: e.Cfg.UserNS, Encrypted: e.Cfg.EncryptionKey != nil,
		PID: os.Getpid(), CgroupVersion: strconv.Itoa(e.host.Cgroup.Version),
		Host: e.host,
	}
	e.countContainers(&info)
	return info
}
