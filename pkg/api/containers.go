package api

import (
	"encoding/json"
	"time"
)

// CreateRequest is the body of POST /containers/create and /containers/run:
// each run flag as a snake_case field, plus the original minibox's fields with their
// original types and units. Byte forms win over the original MiB forms.
type CreateRequest struct {
	Image      string    `json:"image"`
	Name       string    `json:"name,omitempty"`
	Command    []string  `json:"command,omitempty"`
	Entrypoint *[]string `json:"entrypoint,omitempty"` // [] clears the image's

	Detached    bool `json:"detached,omitempty"`
	Tty         bool `json:"tty,omitempty"`
	Stdin       bool `json:"stdin,omitempty"`
	Interactive bool `json:"interactive,omitempty"` // original: tty + stdin
	AutoRemove  bool `json:"auto_remove,omitempty"`

	Hostname   string            `json:"hostname,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Env        []string          `json:"env,omitempty"`
	WorkingDir string            `json:"working_dir,omitempty"`
	User       string            `json:"user,omitempty"`

	Mounts         []MountRequest    `json:"mounts,omitempty"`
	Volumes        map[string]string `json:"volumes,omitempty"`       // original: host path -> container path
	NamedVolumes   map[string]string `json:"named_volumes,omitempty"` // original: name -> container path
	Tmpfs          []string          `json:"tmpfs,omitempty"`         // "/path[:opts]"
	ReadOnly       bool              `json:"read_only,omitempty"`
	Publish        []PortBinding     `json:"publish,omitempty"`
	Ports          map[string]int    `json:"ports,omitempty"` // original: "host" -> container (TCP, all addresses)
	PublishAll     bool              `json:"publish_all,omitempty"`
	Expose         []string          `json:"expose,omitempty"`  // "80", "8000-8010/udp": offered, published by -P
	Network        string            `json:"network,omitempty"` // bridge (default), host, none
	DNS            []string          `json:"dns,omitempty"`
	DNSSearch      []string          `json:"dns_search,omitempty"`
	DNSOption      []string          `json:"dns_option,omitempty"`
	ExtraHosts     []string          `json:"extra_hosts,omitempty"` // "name:ip" or "name:host-gateway"
	NetworkAlias   []string          `json:"network_aliases,omitempty"`
	Networks       []string          `json:"networks,omitempty"`   // more user-defined networks beyond Network
	IPAddress      string            `json:"ip_address,omitempty"` // --ip on the first user-defined network
	ShmSizeBytes   int64             `json:"shm_size_bytes,omitempty"`
	ShmSize        int64             `json:"shm_size,omitempty"` // original: MiB
	MemoryBytes    int64             `json:"memory_bytes,omitempty"`
	Memory         int64             `json:"memory,omitempty"` // original: MiB
	MemorySwap     int64             `json:"memory_swap,omitempty"`
	CPU            float64           `json:"cpu,omitempty"` // original: percent of one CPU
	CPUs           float64           `json:"cpus,omitempty"`
	CPUQuota       int64             `json:"cpu_quota,omitempty"`
	CPUPeriod      int64             `json:"cpu_period,omitempty"`
	CPUShares      int64             `json:"cpu_shares,omitempty"`
	Cpuset         string            `json:"cpuset,omitempty"` // original name of cpuset_cpus
	CpusetCpus     string            `json:"cpuset_cpus,omitempty"`
	PidsLimit      int64             `json:"pids_limit,omitempty"`
	BlkioWeight    int               `json:"blkio_weight,omitempty"`
	IOWeight       int               `json:"io_weight,omitempty"` // original: v2 scale 1-10000
	Ulimits        []string          `json:"ulimits,omitempty"`   // "nofile=1024:2048"
	OOMScoreAdj    *int              `json:"oom_score_adj,omitempty"`
	CapAdd         []string          `json:"cap_add,omitempty"`
	CapDrop        []string          `json:"cap_drop,omitempty"`
	Privileged     bool              `json:"privileged,omitempty"`
	SecurityOpt    []string          `json:"security_opt,omitempty"`
	SeccompProfile json.RawMessage   `json:"seccomp_profile,omitempty"`
	UserNS         string            `json:"userns,omitempty"`
	Sysctls        map[string]string `json:"sysctls,omitempty"`
	Restart        string            `json:"restart,omitempty"`
	Healthcheck    *Healthcheck      `json:"healthcheck,omitempty"`
	StopSignal     string            `json:"stop_signal,omitempty"`
	StopTimeout    *int              `json:"stop_timeout,omitempty"` // seconds
	// LogDriver is local (binary records, the daemon's default), json-file or none; LogOpts
	// are Docker's --log-opt: max-size, max-file, labels, env. Empty: the daemon's defaults.
	LogDriver string            `json:"log_driver,omitempty"`
	LogOpts   map[string]string `json:"log_opts,omitempty"`
	// Devices are --device: "HOST[:CONTAINER][:rwm]", a host device node made available
	// inside with a cgroup rule of those permissions (default rwm).
	Devices []string `json:"devices,omitempty"`
	// GPUs is --gpus: all, a count, or device=0,1 (NVIDIA device nodes of the host).
	GPUs string `json:"gpus,omitempty"`
	// The namespaces a container shares instead of new ones: IPC private (default) |
	// shareable | host | container:<name>; PID host | container:<name>; UTS host;
	// CgroupNS private (default) | host.
	IPC      string `json:"ipc,omitempty"`
	PID      string `json:"pid,omitempty"`
	UTS      string `json:"uts,omitempty"`
	CgroupNS string `json:"cgroupns,omitempty"`
	// GroupAdd are supplementary groups of the workload (names from the container's
	// /etc/group, or numbers).
	GroupAdd []string `json:"group_add,omitempty"`
	// VolumesFrom are "<container>[:ro|rw]": that container's volumes and binds, mounted
	// at the same places.
	VolumesFrom []string `json:"volumes_from,omitempty"`
	// MemoryReservation is the soft memory limit in bytes (--memory-reservation).
	MemoryReservation int64 `json:"memory_reservation,omitempty"`
	// Links are --link "<container>[:alias]": the alias resolves to that container on the
	// default bridge.
	Links    []string `json:"links,omitempty"`
	Lazy     *bool    `json:"lazy,omitempty"`
	Pull     string   `json:"pull,omitempty"` // missing (default), always, never
	Platform string   `json:"platform,omitempty"`
	DBMode   bool     `json:"db_mode,omitempty"`
	Data     string   `json:"data,omitempty"` // db_mode: data path (/var/lib/minibox-data)
	Project  string   `json:"project,omitempty"`
	Service  string   `json:"service,omitempty"`
}

// MountRequest is one --mount (or -v, --tmpfs after the CLI parsed it).
type MountRequest struct {
	Type     string `json:"type"` // bind, volume, tmpfs
	Source   string `json:"source,omitempty"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
	// IDMap asks for an idmapped bind under --userns auto: the container's IDs become the
	// host's on it (container root writes as host root). Off, a bind keeps the host's
	// ownership and container root is its mapped, unprivileged host uid there.
	IDMap     bool   `json:"idmap,omitempty"`
	TmpfsSize int64  `json:"tmpfs_size,omitempty"`
	TmpfsMode uint32 `json:"tmpfs_mode,omitempty"`
}

// PortBinding is one -p.
type PortBinding struct {
	HostIP        string `json:"host_ip,omitempty"`
	HostPort      int    `json:"host_port"` // 0 = random
	ContainerPort int    `json:"container_port"`
	Protocol      string `json:"protocol,omitempty"` // tcp (default), udp
}

// Healthcheck is the container's probe; durations in nanoseconds.
type Healthcheck struct {
	Test        []string `json:"test,omitempty"` // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]
	Interval    int64    `json:"interval,omitempty"`
	Timeout     int64    `json:"timeout,omitempty"`
	StartPeriod int64    `json:"start_period,omitempty"`
	Retries     int      `json:"retries,omitempty"`
	Disable     bool     `json:"disable,omitempty"`
}

// Created answers create and detached run.
type Created struct {
	ID       string   `json:"id"`
	Warnings []string `json:"warnings"`
}

// ContainerSummary is one entry of GET /containers (original keys kept).
type ContainerSummary struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	ImageDigest  string            `json:"image_digest"`
	Command      []string          `json:"command"`
	PID          int               `json:"pid"`
	Status       string            `json:"status"` // created|running|paused|restarting|exited
	Health       string            `json:"health"` // starting|healthy|unhealthy|none
	CreatedAt    time.Time         `json:"created_at"`
	StartedAt    time.Time         `json:"started_at,omitzero"`
	FinishedAt   time.Time         `json:"finished_at,omitzero"`
	ExitCode     int               `json:"exit_code"`
	OOMKilled    bool              `json:"oom_killed"`
	Ports        map[string]int    `json:"ports"` // original: "host" -> container
	Publish      []PortBinding     `json:"publish"`
	Project      string            `json:"project,omitempty"`
	Service      string            `json:"service,omitempty"`
	IP           string            `json:"ip,omitempty"`
	Labels       map[string]string `json:"labels"`
	RestartCount int               `json:"restart_count"`
}

// PSRow is `ps --json`: the original's string rows.
type PSRow struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Image   string `json:"image"`
	Command string `json:"command"`
	Created string `json:"created"`
	Status  string `json:"status"`
	Health  string `json:"health"`
	Exit    string `json:"exit"`
	Ports   string `json:"ports"`
}

// WaitResult answers POST /containers/wait and ends a foreground run stream.
type WaitResult struct {
	ExitCode  int    `json:"exit_code"`
	OOMKilled bool   `json:"oom_killed"`
	Error     string `json:"error,omitempty"`
}

// Frames: a run or exec stream (and, with LogFramesType, a logs stream) read without JSON
// when the client's Accept names the type. Each frame is an 8-byte header (kind, 3 zero
// bytes, payload length big-endian) and the payload. In a log stream each output payload
// starts with the record's time (int64 nanoseconds, big-endian).
const (
	FramesType    = "application/vnd.minibox.frames"
	LogFramesType = "application/vnd.minibox.log-frames"

	FrameStdout byte = 1
	FrameStderr byte = 2
	FrameError  byte = 3 // the stream ends with this error message
	FrameEvent  byte = 4 // one JSON event: what a JSON line of the stream would be
)

// RunEvent is one line of a non-detached, non-upgraded run stream: first {"id"}, then
// output chunks, last the WaitResult.
type RunEvent struct {
	ID       string   `json:"id,omitempty"`
	Warnings []string `json:"warnings,omitempty"` // with the ID
	Stream   string   `json:"stream,omitempty"`
	Text     string   `json:"text,omitempty"`
}

// ExecRequest is the body of POST /containers/exec.
type ExecRequest struct {
	ID          string   `json:"id"`
	Command     []string `json:"command"`
	Interactive bool     `json:"interactive,omitempty"` // original: tty + stdin
	Tty         bool     `json:"tty,omitempty"`
	Stdin       bool     `json:"stdin,omitempty"`
	Env         []string `json:"env,omitempty"`
	User        string   `json:"user,omitempty"`
	WorkingDir  string   `json:"workdir,omitempty"`
	Detach      bool     `json:"detach,omitempty"`
	Height      uint16   `json:"height,omitempty"`
	Width       uint16   `json:"width,omitempty"`
	Privileged  bool     `json:"privileged,omitempty"` // every capability, as Docker's
}

// ExecCreated answers a detached exec.
type ExecCreated struct {
	ExecID string `json:"exec_id"`
}

// ExecInspect answers GET /containers/exec/inspect.
type ExecInspect struct {
	Running  bool `json:"running"`
	ExitCode int  `json:"exit_code"`
	PID      int  `json:"pid"`
}

// LogLine is one record of GET /containers/logs?format=json (container.log's shape).
type LogLine struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"`
	Text   string    `json:"text"`
	// Details (with details=1): the attributes --log-opt labels=/env= name, as
	// "k=v,k2=v2" (Docker's form), shown before each line.
	Details string `json:"details,omitempty"`
}

// Stats is one container's figures (original keys).
type Stats struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	MemoryUsage   uint64    `json:"memory_usage"`
	MemoryLimit   uint64    `json:"memory_limit"`
	MemoryPercent float64   `json:"memory_percent"`
	CPUUsageUsec  uint64    `json:"cpu_usage_usec"`
	CPUPercent    float64   `json:"cpu_percent"`
	OnlineCPUs    int       `json:"online_cpus"`
	Pids          uint64    `json:"pids"`
	PidsLimit     uint64    `json:"pids_limit"`
	NetInput      uint64    `json:"net_input"`
	NetOutput     uint64    `json:"net_output"`
	BlockInput    uint64    `json:"block_input"`
	BlockOutput   uint64    `json:"block_output"`
	Read          time.Time `json:"read"`
}

// Volume is a named or anonymous volume.
type Volume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  time.Time         `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Anonymous  bool              `json:"Anonymous"`
	UsedBy     []string          `json:"UsedBy"`
}

// VolumeCreateRequest is the body of POST /volumes/create.
type VolumeCreateRequest struct {
	Name   string            `json:"name,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ContainerInspect is Docker's inspect shape, limited to what minibox has.
type ContainerInspect struct {
	ID              string            `json:"Id"`
	Created         time.Time         `json:"Created"`
	Path            string            `json:"Path"`
	Args            []string          `json:"Args"`
	State           InspectState      `json:"State"`
	Image           string            `json:"Image"` // config digest
	Name            string            `json:"Name"`  // "/name"
	RestartCount    int               `json:"RestartCount"`
	LogPath         string            `json:"LogPath"`
	HostnamePath    string            `json:"HostnamePath"`
	HostsPath       string            `json:"HostsPath"`
	ResolvConfPath  string            `json:"ResolvConfPath"`
	Config          InspectConfig     `json:"Config"`
	HostConfig      InspectHostConfig `json:"HostConfig"`
	NetworkSettings InspectNetwork    `json:"NetworkSettings"`
	Mounts          []InspectMount    `json:"Mounts"`
	GraphDriver     struct {
		Name string            `json:"Name"`
		Data map[string]string `json:"Data"`
	} `json:"GraphDriver"`
}

// InspectState is .State.
type InspectState struct {
	Status     string         `json:"Status"`
	Running    bool           `json:"Running"`
	Paused     bool           `json:"Paused"`
	Restarting bool           `json:"Restarting"`
	OOMKilled  bool           `json:"OOMKilled"`
	Dead       bool           `json:"Dead"`
	Pid        int            `json:"Pid"`
	ExitCode   int            `json:"ExitCode"`
	Error      string         `json:"Error"`
	StartedAt  string         `json:"StartedAt"`
	FinishedAt string         `json:"FinishedAt"`
	Health     *InspectHealth `json:"Health,omitempty"`
}

// InspectHealth is .State.Health.
type InspectHealth struct {
	Status        string        `json:"Status"`
	FailingStreak int           `json:"FailingStreak"`
	Log           []HealthProbe `json:"Log"`
}

// HealthProbe is one probe's result.
type HealthProbe struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// InspectConfig is .Config.
type InspectConfig struct {
	Hostname     string              `json:"Hostname"`
	User         string              `json:"User"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Entrypoint   []string            `json:"Entrypoint"`
	Image        string              `json:"Image"`
	WorkingDir   string              `json:"WorkingDir"`
	Labels       map[string]string   `json:"Labels"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Healthcheck  *Healthcheck        `json:"Healthcheck,omitempty"`
}

// InspectHostConfig is .HostConfig.
type InspectHostConfig struct {
	NetworkMode    string            `json:"NetworkMode"`
	Privileged     bool              `json:"Privileged"`
	ReadonlyRootfs bool              `json:"ReadonlyRootfs"`
	AutoRemove     bool              `json:"AutoRemove"`
	CapAdd         []string          `json:"CapAdd"`
	CapDrop        []string          `json:"CapDrop"`
	Memory         int64             `json:"Memory"`
	MemorySwap     int64             `json:"MemorySwap"`
	NanoCpus       int64             `json:"NanoCpus"`
	CpuQuota       int64             `json:"CpuQuota"`
	CpuPeriod      int64             `json:"CpuPeriod"`
	CpuShares      int64             `json:"CpuShares"`
	CpusetCpus     string            `json:"CpusetCpus"`
	PidsLimit      int64             `json:"PidsLimit"`
	BlkioWeight    int               `json:"BlkioWeight"`
	ShmSize        int64             `json:"ShmSize"`
	OomScoreAdj    int               `json:"OomScoreAdj"`
	RestartPolicy  RestartPolicy     `json:"RestartPolicy"`
	PortBindings   []PortBinding     `json:"PortBindings"`
	Binds          []string          `json:"Binds"`
	Sysctls        map[string]string `json:"Sysctls,omitempty"`
	SecurityOpt    []string          `json:"SecurityOpt,omitempty"`
	UsernsMode     string            `json:"UsernsMode"`
	Dns            []string          `json:"Dns"`
	ExtraHosts     []string          `json:"ExtraHosts"`
	// What the container shares (Docker's names and values).
	IpcMode           string          `json:"IpcMode"`
	PidMode           string          `json:"PidMode"`
	UTSMode           string          `json:"UTSMode"`
	CgroupnsMode      string          `json:"CgroupnsMode"`
	GroupAdd          []string        `json:"GroupAdd"`
	VolumesFrom       []string        `json:"VolumesFrom"`
	Links             []string        `json:"Links"`
	MemoryReservation int64           `json:"MemoryReservation"`
	Devices           []DeviceMapping `json:"Devices"`
}

// DeviceMapping is one --device as Docker's inspect shows it.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// RestartPolicy is --restart.
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// InspectNetwork is .NetworkSettings.
type InspectNetwork struct {
	IPAddress  string              `json:"IPAddress"`
	Gateway    string              `json:"Gateway"`
	MacAddress string              `json:"MacAddress"`
	Bridge     string              `json:"Bridge"`
	Ports      map[string][]HostIP `json:"Ports"`
	// Networks holds each network the container is on, by name.
	Networks map[string]InspectEndpoint `json:"Networks"`
}

// HostIP is one published address of a port.
type HostIP struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// InspectMount is one of .Mounts.
type InspectMount struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	RW          bool   `json:"RW"`
}

// CommitRequest is the body of POST /containers/commit.
type CommitRequest struct {
	Container string   `json:"container"`
	Reference string   `json:"reference,omitempty"` // the new image's name; empty: unnamed
	Comment   string   `json:"comment,omitempty"`
	Author    string   `json:"author,omitempty"`
	Changes   []string `json:"changes,omitempty"` // Dockerfile instructions: CMD, ENV, ...
	Pause     bool     `json:"pause"`
}

// Committed answers POST /containers/commit.
type Committed struct {
	ID string `json:"id"`
}
