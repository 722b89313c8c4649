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
}
