package spec

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/logfile"
)

// FileName is the spec's name inside the container directory.
const FileName = "config.json"

// SeccompFileName is where Save puts a seccomp program that has no file yet.
const SeccompFileName = "seccomp.bpf"

// Spec describes one container. Parse reads it field by field (decode.go), as do
// shimapi's messages theirs: their tests fail for a field the code misses.
type Spec struct {
	ID  string `json:"id"`
	Dir string `json:"dir"` // DataRoot/containers/<id>: upper/, work/, logs, sockets

	Rootfs   Rootfs  `json:"rootfs"`
	Process  Process `json:"process"`
	Hostname string  `json:"hostname"`
	Mounts   []Mount `json:"mounts,omitempty"` // volumes, binds, tmpfs, in order

	// Network is "bridge" (a new namespace the daemon wires), "none" (new, lo only),
	// "host" (the host's namespace) or "container" (NetNSPath's).
	Network string `json:"network"`
	// NetNSPath is the network namespace init joins instead of a new one (another
	// container's: /proc/<its init>/ns/net); the shim enters it before it clones init.
	NetNSPath string `json:"netns_path,omitempty"`
	// Namespaces are init's namespaces other than new ones, by kind ("ipc", "pid", "uts",
	// "cgroup"): "host" shares the host's, a path (/proc/<pid>/ns/<kind>) joins another
	// container's. The network's is Network and NetNSPath.
	Namespaces map[string]string `json:"namespaces,omitempty"`
	// Devices are host device nodes made available in the container (--device): bound
	// over a file at Path; the cgroup rule that lets the workload use them is in
	// Resources.Devices.
	Devices []Device `json:"devices,omitempty"`
	// Driver is the host's GPU driver that --gpus brings in beside the device nodes.
	Driver *Driver `json:"driver,omitempty"`
	// Files bind-mounted over /etc/hosts, /etc/resolv.conf, /etc/hostname when not empty.
	HostsPath    string `json:"hosts_path,omitempty"`
	ResolvPath   string `json:"resolv_path,omitempty"`
	HostnamePath string `json:"hostname_path,omitempty"`

	Privileged    bool              `json:"privileged,omitempty"`
	MaskedPaths   []string          `json:"masked_paths,omitempty"`
	ReadonlyPaths []string          `json:"readonly_paths,omitempty"`
	Sysctl        map[string]string `json:"sysctl,omitempty"`
	ShmSize       int64             `json:"shm_size,omitempty"` // bytes of /dev/shm; 0 = 64 MiB
	// ShmPath is a host directory bound over /dev/shm instead of a tmpfs of its own: the
	// tmpfs of a --ipc shareable container, which those joining its IPC namespace share.
	// NoShm: no /dev/shm at all (--ipc none).
	ShmPath string `json:"shm_path,omitempty"`
	NoShm   bool   `json:"no_shm,omitempty"`
	// Seccomp is a compiled BPF program (struct sock_filter, 8 bytes each, native byte
	// order), loaded last by init and by every exec; empty = unconfined. It is kept in
	// SeccompFile, not in config.json: Docker's profile compiles to 17 KB, which made the
	// spec take milliseconds to decode in the shim and again in init at every start.
	Seccomp []byte `json:"-"`
	// SeccompFile holds Seccomp: one the daemon shares between containers, or one Save
	// writes beside config.json. The shim hands it to init after the spec.
	SeccompFile string `json:"seccomp_file,omitempty"`
	// UserNS maps the container's IDs when set (--userns auto); nil = host IDs.
	UserNS *IDMap `json:"userns,omitempty"`

	Resources  Resources `json:"resources"`
	CgroupPath string    `json:"cgroup_path,omitempty"` // relative, e.g. "minibox/<id>"
	// InitInCgroup says init is in CgroupPath before it reads the spec (a warm init): it
	// can prepare the workload's cgroup namespace, credentials and seccomp filter while it
	// mounts, and only fork at the start.
	InitInCgroup bool `json:"init_in_cgroup,omitempty"`
	// Workload is where init puts the processes it forks (the workload, execs): a child of
	// the container's cgroup whose pids.max is exactly --pids-limit, so init's own threads
	// take none of it. nil: the host has no pids controller.
	Workload *WorkloadCgroup `json:"workload_cgroup,omitempty"`

	StopSignal string `json:"stop_signal,omitempty"`
	// AutoRemove: the container is removed when this run ends (--rm), so nothing in its
	// directory needs to survive a crash.
	AutoRemove bool `json:"auto_remove,omitempty"`

	// Log is how the shim keeps the container's output (driver, rotation); the zero value
	// is JSON lines, never rotated, as every shim wrote before log drivers.
	Log logfile.Config `json:"log,omitzero"`
}

// WorkloadCgroup names, by absolute host paths, the cgroup init forks into. Init opens
// them before pivot_root.
type WorkloadCgroup struct {
	// Version 2: Dir is the workload cgroup, forked into with CLONE_INTO_CGROUP. Version
	// 1: Dir and Parent are the workload's and the container's cgroups in the pids
	// hierarchy; the forking thread joins Dir, forks, and returns to Parent.
	Version int    `json:"version"`
	Dir     string `json:"dir"`
	Parent  string `json:"parent,omitempty"`
	// Limit is Dir's pids.max (0: none). On v1 the forking thread counts while it is in
	// Dir, so init raises pids.max by one around a fork.
	Limit int64 `json:"limit,omitempty"`
}

// Rootfs is an overlay of read-only layers under a writable upper directory.
type Rootfs struct {
	Lower    []string `json:"lower"` // top first, as overlayfs' lowerdir option reads
	Upper    string   `json:"upper"`
	Work     string   `json:"work"`
	ReadOnly bool     `json:"read_only,omitempty"`
	// Volatile: the upper is thrown away after this run (--rm), so overlayfs need not sync
	// it at unmount.
	Volatile bool `json:"volatile,omitempty"`
}

// Process is the workload (and the defaults every exec inherits).
type Process struct {
	Args     []string `json:"args"`
	Env      []string `json:"env"`
	Cwd      string   `json:"cwd"`
	User     string   `json:"user,omitempty"` // "u[:g]" resolved by init from the container's /etc/passwd and /etc/group
	Terminal bool     `json:"terminal,omitempty"`
	Stdin    bool     `json:"stdin,omitempty"` // keep stdin open (-i)

	Capabilities []string `json:"capabilities"` // "CAP_CHOWN", ...; bounding = permitted = effective for root
	NoNewPrivs   bool     `json:"no_new_privs"`
	Rlimits      []Rlimit `json:"rlimits,omitempty"`
	OOMScoreAdj  *int     `json:"oom_score_adj,omitempty"`
	// GroupAdd are more supplementary groups (names from the container's /etc/group, or
	// numbers), for the workload and every exec.
	GroupAdd []string `json:"group_add,omitempty"`
}

// Device is one host device node inside the container.
type Device struct {
	HostPath string `json:"host_path"`
	Path     string `json:"path"`
}

// Driver is a host driver's user-space files (the NVIDIA libraries and tools), as the
// NVIDIA container toolkit brings them in: each file bound read-only at its host path,
// the names the libraries go by made as symlinks beside them, a loader configuration
// naming their directories, and the image's ldconfig run before the workload so that
// the loader's cache knows them.
type Driver struct {
	Files []DriverFile `json:"files,omitempty"`
	Links []Link       `json:"links,omitempty"`
	// Dirs are the library directories; LdConf, a host file bound at LdConfPath, lists them.
	Dirs   []string `json:"dirs,omitempty"`
	LdConf string   `json:"ld_conf,omitempty"`
	// Ldconfig: init runs the image's ldconfig (when it has one) before the workload.
	Ldconfig bool `json:"ldconfig,omitempty"`
}

// LdConfPath is where a Driver's loader configuration lands in the container.
const LdConfPath = "/etc/ld.so.conf.d/000-minibox-gpu.conf"

// DriverFile is a host file (or directory) bound read-only at Path in the container.
type DriverFile struct {
	HostPath string `json:"host_path"`
	Path     string `json:"path"`
}

// Link is a symlink made at Path in the container, pointing at Target.
type Link struct {
	Path   string `json:"path"`
	Target string `json:"target"`
}

// Namespace kinds of Spec.Namespaces, and the value that shares the host's.
const (
	NSIPC    = "ipc"
	NSPID    = "pid"
	NSUTS    = "uts"
	NSCgroup = "cgroup"
	NSHost   = "host"
)

// HostNS reports whether the container shares the host's namespace of kind.
func (s *Spec) HostNS(kind string) bool { return s.Namespaces[kind] == NSHost }

// NewNS reports whether init starts in a new namespace of kind (neither the host's nor
// another container's).
func (s *Spec) NewNS(kind string) bool { return s.Namespaces[kind] == "" }

// Rlimit is one setrlimit(2) call; Type is "RLIMIT_NOFILE" etc.
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// Mount is a volume, bind or tmpfs inside the container.
type Mount struct {
	Type        string   `json:"type"` // "bind", "volume" (a bind of a data-root volume), "tmpfs"
	Source      string   `json:"source,omitempty"`
	Destination string   `json:"destination"`
	ReadOnly    bool     `json:"read_only,omitempty"`
	Options     []string `json:"options,omitempty"` // tmpfs: "size=...", "mode=..."
	// CopyUp fills an empty volume from the image's content at Destination first (Docker's rule).
	CopyUp bool `json:"copy_up,omitempty"`
	// IDMap: in a user namespace, the source is mounted idmapped (container IDs are the
	// host's on it); otherwise it keeps the host's ownership.
	IDMap bool `json:"idmap,omitempty"`
}

// IDMap maps container IDs 0..Size-1 to host IDs HostID..HostID+Size-1 (uid and gid alike).
type IDMap struct {
	HostID uint32 `json:"host_id"`
	Size   uint32 `json:"size"`
}

// Resources are the cgroup limits; zero means unset.
type Resources struct {
	Memory     int64  `json:"memory,omitempty"`      // bytes
	MemorySwap int64  `json:"memory_swap,omitempty"` // bytes of memory+swap; -1 unlimited
	CPUQuota   int64  `json:"cpu_quota,omitempty"`   // µs per period
	CPUPeriod  uint64 `json:"cpu_period,omitempty"`  // µs; 0 = 100000
	CPUShares  uint64 `json:"cpu_shares,omitempty"`
	CpusetCpus string `json:"cpuset_cpus,omitempty"`
	CpusetMems string `json:"cpuset_mems,omitempty"`
	PidsLimit  int64  `json:"pids_limit,omitempty"` // >0 limit; -1 unlimited
	// WorkloadApart: the workload runs in the cgroup's workload child (v1), whose pids.max
	// PidsLimit is; otherwise PidsLimit is the cgroup's own.
	WorkloadApart bool   `json:"workload_apart,omitempty"`
	BlkioWeight   uint16 `json:"blkio_weight,omitempty"` // v1 scale 10-1000
	IOWeight      uint16 `json:"io_weight,omitempty"`    // v2 scale 1-10000 (db run)
	// MemoryReservation is the soft limit in bytes: memory.soft_limit_in_bytes (v1),
	// memory.low (v2).
	MemoryReservation int64 `json:"memory_reservation,omitempty"`
	// Devices are device rules allowed beyond the default list, "c 10:229 rwm" (--device).
	Devices []string `json:"devices,omitempty"`
}

// Decode reads a spec (Parse).
func Decode(r io.Reader) (*Spec, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decode container spec: %w", err)
	}
	return Parse(b)
}

// ReadSeccomp loads Seccomp from SeccompFile (a spec read from config.json has only the
// file's name).
func (s *Spec) ReadSeccomp() error {
	if s.SeccompFile == "" || s.Seccomp != nil {
		return nil
	}
	b, err := os.ReadFile(s.SeccompFile)
	if err != nil {
		return fmt.Errorf("seccomp program: %w", err)
	}
	if len(b) == 0 || len(b)%8 != 0 {
		return fmt.Errorf("seccomp program %s: %d bytes, not whole instructions", s.SeccompFile, len(b))
	}
	s.Seccomp = b
	return nil
}

// Prewarm decodes a small spec once: a warm shim or init, waiting for its container, pays
// the decoder's first-use costs (the code's page faults) then, not on the start's path.
func Prewarm() {
	Parse([]byte(`{"id":"x","process":{"args":["true"],"env":["A=b"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":1}]},"rootfs":{"lower":["/"]},"resources":{},"mounts":[{"type":"bind","destination":"/x","options":["ro"]}],"sysctl":{"a":"b"},"userns":{"host_id":1,"size":1}}`))
}

// Load reads dir/config.json.
func Load(dir string) (*Spec, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Save writes dir/config.json, 0600 (it may hold environment secrets). It is rewritten at
// every start, so it is replaced by rename without fsync (atomicfile.Replace).
func (s *Spec) Save() error {
	if len(s.Seccomp) > 0 && s.SeccompFile == "" {
		path := filepath.Join(s.Dir, SeccompFileName)
		if err := atomicfile.Replace(path, s.Seccomp, 0o600); err != nil {
			return err
		}
		s.SeccompFile = path
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.Replace(filepath.Join(s.Dir, FileName), b, 0o600)
}
