package ctrconfig

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/minibox/minibox/pkg/netport"
)

// SchemaVersion is the version of Config as records hold it. Records written before
// Config existed (version 0) hold the API's create request instead and are migrated once
// at load by running it through the validator.
const SchemaVersion = 1

// Config is one container's configuration, validated and normalized: every default the
// validator fills in is filled, every alternative form folded into one (MiB into bytes,
// the original ports map into Publish, interactive into tty and stdin).
type Config struct {
	Image      string    `json:"image"`
	Name       string    `json:"name,omitempty"`
	Command    []string  `json:"command,omitempty"`
	Entrypoint *[]string `json:"entrypoint,omitempty"` // [] clears the image's

	Detached   bool `json:"detached,omitempty"`
	Tty        bool `json:"tty,omitempty"`
	Stdin      bool `json:"stdin,omitempty"`
	AutoRemove bool `json:"auto_remove,omitempty"`

	Hostname   string            `json:"hostname,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Env        []string          `json:"env,omitempty"` // KEY=VALUE (or a bare KEY), in order
	WorkingDir string            `json:"working_dir,omitempty"`
	User       string            `json:"user,omitempty"`

	Mounts       []Mount           `json:"mounts,omitempty"`
	Volumes      map[string]string `json:"volumes,omitempty"`       // host path -> target[:ro|rw]
	NamedVolumes map[string]string `json:"named_volumes,omitempty"` // name -> target[:ro|rw]
	Tmpfs        []string          `json:"tmpfs,omitempty"`         // "/path[:opts]", options checked
	ReadOnly     bool              `json:"read_only,omitempty"`

	// Publish are the ports to publish; a zero HostIP is every address, a zero HostPort
	// a free one.
	Publish    []netport.Port `json:"publish,omitempty"`
	PublishAll bool           `json:"publish_all,omitempty"`
	Expose     []string       `json:"expose,omitempty"` // "port/proto", ranges expanded
	// Network is bridge, host, none, container:<name> or a user-defined network's name.
	Network      string   `json:"network"`
	Networks     []string `json:"networks,omitempty"`
	NetworkAlias []string `json:"network_aliases,omitempty"`
	IPAddress    string   `json:"ip_address,omitempty"`
	DNS          []string `json:"dns,omitempty"`
	DNSSearch    []string `json:"dns_search,omitempty"`
	DNSOption    []string `json:"dns_option,omitempty"`
	ExtraHosts   []string `json:"extra_hosts,omitempty"` // "name:ip" or "name:host-gateway"

	Resources
	Ulimits []Ulimit `json:"ulimits,omitempty"`

	CapAdd         []string          `json:"cap_add,omitempty"`
	CapDrop        []string          `json:"cap_drop,omitempty"`
	Privileged     bool              `json:"privileged,omitempty"`
	SecurityOpt    []string          `json:"security_opt,omitempty"` // key[=value], seccomp profiles moved out
	SeccompProfile json.RawMessage   `json:"seccomp_profile,omitempty"`
	UserNS         string            `json:"userns,omitempty"` // "", host or auto
	Sysctls        map[string]string `json:"sysctls,omitempty"`

	Restart     RestartPolicy `json:"restart"`
	Healthcheck *Healthcheck  `json:"healthcheck,omitempty"`
	StopSignal  string        `json:"stop_signal,omitempty"`
	StopTimeout *int          `json:"stop_timeout,omitempty"` // seconds

	LogDriver string            `json:"log_driver,omitempty"`
	LogOpts   map[string]string `json:"log_opts,omitempty"`

	Devices []Device    `json:"devices,omitempty"`
	GPUs    *GPURequest `json:"gpus,omitempty"`

	// The namespaces shared instead of new ones (Docker's modes; "" is the default).
	IPC      string `json:"ipc,omitempty"`
	PID      string `json:"pid,omitempty"`
	UTS      string `json:"uts,omitempty"`
	CgroupNS string `json:"cgroupns,omitempty"`

	GroupAdd    []string `json:"group_add,omitempty"`
	VolumesFrom []string `json:"volumes_from,omitempty"` // "<container>[:ro|rw]"
	Links       []string `json:"links,omitempty"`        // "<container>[:alias]"

	Lazy     *bool  `json:"lazy,omitempty"`
	Pull     string `json:"pull,omitempty"` // "", missing, always, never
	Platform string `json:"platform,omitempty"`
	DBMode   bool   `json:"db_mode,omitempty"`
	Data     string `json:"data,omitempty"`
	Project  string `json:"project,omitempty"`
	Service  string `json:"service,omitempty"`
}

// Resources are the cgroup limits, in bytes, CPUs and kernel units; 0 is no limit.
type Resources struct {
	Memory            int64   `json:"memory_bytes,omitempty"`
	MemorySwap        int64   `json:"memory_swap,omitempty"` // memory plus swap; -1 unlimited
	MemoryReservation int64   `json:"memory_reservation,omitempty"`
	ShmSize           int64   `json:"shm_size_bytes,omitempty"` // 0: the default 64 MiB
	CPUs              float64 `json:"cpus,omitempty"`
	CPUPercent        float64 `json:"cpu,omitempty"` // the original -c: percent of one CPU
	CPUQuota          int64   `json:"cpu_quota,omitempty"`
	CPUPeriod         int64   `json:"cpu_period,omitempty"`
	CPUShares         int64   `json:"cpu_shares,omitempty"`
	CpusetCpus        string  `json:"cpuset_cpus,omitempty"`
	PidsLimit         int64   `json:"pids_limit,omitempty"`
	BlkioWeight       int     `json:"blkio_weight,omitempty"`
	IOWeight          int     `json:"io_weight,omitempty"`
	OOMScoreAdj       *int    `json:"oom_score_adj,omitempty"`
}

// Mount is one bind, volume or tmpfs mount.
type Mount struct {
	Type      string `json:"type"` // bind, volume, tmpfs
	Source    string `json:"source,omitempty"`
	Target    string `json:"target"` // cleaned, absolute, never /
	ReadOnly  bool   `json:"read_only,omitempty"`
	IDMap     bool   `json:"idmap,omitempty"`
	TmpfsSize int64  `json:"tmpfs_size,omitempty"`
	TmpfsMode uint32 `json:"tmpfs_mode,omitempty"`
}

// RestartPolicy is --restart parsed: Name is no, on-failure, always or unless-stopped.
type RestartPolicy struct {
	Name       string `json:"name"`
	MaxRetries int    `json:"max_retries,omitempty"` // on-failure's count; 0 is no limit
}

// Healthcheck is the container's own probe; a zero duration is the default.
type Healthcheck struct {
	Test        []string      `json:"test,omitempty"` // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; empty: the image's
	Interval    time.Duration `json:"interval,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	StartPeriod time.Duration `json:"start_period,omitempty"`
	Retries     int           `json:"retries,omitempty"`
	Disable     bool          `json:"disable,omitempty"`
}

// Clone copies the lists the engine extends at create (db mode's mounts, capabilities and
// ulimits, -P's ports, --volumes-from's mounts), so the caller's Config keeps its values.
func (c Config) Clone() Config {
	c.Mounts = slices.Clone(c.Mounts)
	c.Publish = slices.Clone(c.Publish)
	c.CapAdd = slices.Clone(c.CapAdd)
	c.Ulimits = slices.Clone(c.Ulimits)
	return c
}
