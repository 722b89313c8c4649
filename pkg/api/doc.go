// Package api holds the HTTP API's wire types, shared by the server and the client. It
// imports no HTTP library.
package api

// Error is the body of every failed request.
type Error struct {
	Error string `json:"error"`
}

// Version answers GET /version.
type Version struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	APIVersion string `json:"api_version"`
}

// Info answers GET /info.
type Info struct {
	Version           string `json:"version"`
	DataRoot          string `json:"data_root"`
	Containers        int    `json:"containers"`
	ContainersRunning int    `json:"containers_running"`
	ContainersPaused  int    `json:"containers_paused"`
	ContainersStopped int    `json:"containers_stopped"`
	Images            int    `json:"images"`
	CgroupVersion     string `json:"cgroup_version"`
	Kernel            string `json:"kernel"`
	OS                string `json:"os"`
	Arch              string `json:"arch"`
	CPUs              int    `json:"cpus"`
	MemoryBytes       uint64 `json:"memory_bytes"`
	Bridge            string `json:"bridge"`
	BridgeSubnet      string `json:"bridge_subnet"`
	Lazy              bool   `json:"lazy"`
	UserNS            string `json:"userns"`
	Encrypted         bool   `json:"state_encrypted"`
	PID               int    `json:"pid"`
	// Host is what the daemon found the host offers, probed once at its start.
	Host HostInfo `json:"host"`
}

// HostInfo is the daemon's probe of its host: limits it cannot honour are skipped with a
// warning in the create answer.
type HostInfo struct {
	Cgroup         CgroupInfo `json:"cgroup"`
	Overlay        bool       `json:"overlay"`
	IDMappedMounts bool       `json:"idmapped_mounts"`
	Nftables       bool       `json:"nftables"`
	FUSE           bool       `json:"fuse"`
	UserNS         bool       `json:"userns"`
}

// CgroupInfo is the cgroup layout: the version, the controllers, and which limit files
// exist (blkio.weight needs a CFQ or BFQ I/O scheduler, memory swap limits need swap
// accounting, ...).
type CgroupInfo struct {
	Version        int      `json:"version"`
	Controllers    []string `json:"controllers"`
	BlkioWeight    bool     `json:"blkio_weight"`
	BlkioBFQWeight bool     `json:"blkio_bfq_weight"`
	IOWeight       bool     `json:"io_weight"`
	IOBFQWeight    bool     `json:"io_bfq_weight"`
	Memory         bool     `json:"memory"`
	// MemoryReservation: soft memory limits; Devices: a device allowlist.
	MemoryReservation bool `json:"memory_reservation"`
	Devices           bool `json:"devices"`
	MemorySwap        bool `json:"memory_swap"`
	CPUShares         bool `json:"cpu_shares"`
	CPUCFS            bool `json:"cpu_cfs"`
	CPURT             bool `json:"cpu_rt"`
	Cpuset            bool `json:"cpuset"`
	Pids              bool `json:"pids"`
	Hugetlb           bool `json:"hugetlb"`
	Freezer           bool `json:"freezer"`
}
