package engine

import (
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/logfile"

	"log/slog"
	"net/netip"
)

// Config is the daemon's configuration, parsed and validated from the environment by
// applets/miniboxd before anything else happens.
type Config struct {
	DataRoot        string
	HTTPAddr        string // "host:port" or "unix:/path"
	APIToken        string
	DockerAPI       string   // Docker's Engine API: "unix:/path", "host:port" or "" (off)
	BuildPrefixes   []string // allowed roots of daemon-host paths; nil = any path
	SubUIDBase      uint32
	SubUIDCount     uint32
	UserNS          string // "host" or "auto": the default --userns
	IndexOnStartup  bool
	BridgeOnStartup bool
	IndexLayers     bool
	EncryptionKey   []byte // 32 bytes, or nil
	BridgeSubnet    netip.Prefix
	NetworkPool     netip.Prefix // user-defined networks' /24s come from it; zero: network.DefaultPool
	DNSUpstream     []string     // "ip:port" servers the embedded resolver forwards to; nil: the host's
	Lazy            bool
	BuildWorkers    int
	WarmShims       int   // shims kept started ahead of containers (0: none)
	MaxImportSize   int64 // bytes an import or load may read (0: no limit)
	LogLevel        slog.Level
	// ContainerLog is how a container's output is kept when its create names no driver or
	// rotation (MINIBOX_LOG_DRIVER, MINIBOX_LOG_MAX_SIZE, MINIBOX_LOG_MAX_FILE).
	ContainerLog logfile.Config
	// MigrateConfig turns the create request a record written before ctrconfig.Config
	// existed holds (schema 0) into a Config: the API edge's validator, which the engine
	// does not link. Nil refuses such records (they are kept on disk).
	MigrateConfig func(legacy []byte) (ctrconfig.Config, error)
	// GPUDriverRoot is where --gpus finds the NVIDIA driver (its dev/ nodes, libraries and
	// tools), as the NVIDIA container toolkit's driver root: a driver installed in a
	// container, as the GPU operator's /run/nvidia/driver. "": the host's root.
	GPUDriverRoot string
}
