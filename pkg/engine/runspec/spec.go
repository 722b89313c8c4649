// Package runspec turns a container's configuration, its image's and what the daemon
// resolved on the host (layers, mounts, devices) into the spec its shim and init run
// (pkg/spec). Build reads and writes nothing; the host's facts come in as data, so the
// rules are tested as tables without root. The few steps that touch the host (device
// nodes, the GPU driver's files, the shared seccomp program, a shareable /dev/shm) are
// separate functions, resolved by the kernel from fds where a path could be swapped.
package runspec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/seccomp"
	"github.com/minibox/minibox/pkg/spec"
)

// DefaultPath is the PATH of a container whose image and configuration set none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Host is what the daemon knows of its host, fixed for one start.
type Host struct {
	// UserNS is the daemon's default --userns ("host" or "auto"); an auto container's
	// IDs map onto SubUIDBase..+SubUIDCount.
	UserNS      string
	SubUIDBase  uint32
	SubUIDCount uint32
	// Hostname is the host's own name (--uts host).
	Hostname string
	// RlimitMax is the host's hard limit of a setrlimit(2) resource; ok false when there
	// is none. Raising a hard limit needs CAP_SYS_RESOURCE, which even root may lack.
	RlimitMax func(resource int) (max uint64, ok bool)
	// Workload is the cgroup init forks the workload into (pkg/cgroup's Manager.Workload);
	// nil, or a nil answer: the workload shares init's.
	Workload func(cgroupPath string, pidsLimit int64) *spec.WorkloadCgroup
}

// Container is one container as its record and the host resolved it.
type Container struct {
	ID, Name string
	Dir      string // its directory: upper/, work/, config.json
	Conf     *ctrconfig.Config
	Image    *ocispec.ImageConfig // the image's config at create (nil: none)
	Args     []string             // the command, image defaults applied
	// Lower are the layer directories, top first.
	Lower      []string
	CgroupPath string
	Log        logfile.Config
	// Mounts are its volumes, binds and tmpfs, resolved (pkg/engine/volumesvc).
	Mounts []spec.Mount
	// Devices are the host's device nodes its --device and --gpus name (ResolveDevices).
	Devices Devices
}

// Build is the spec of one start of c on h.
func Build(c *Container, h *Host) (*spec.Spec, error) {
	conf := c.Conf
	s := &spec.Spec{
		ID: c.ID, Dir: c.Dir, Network: conf.Network, Privileged: conf.Privileged,
		Rootfs: spec.Rootfs{Lower: c.Lower, Upper: filepath.Join(c.Dir, "upper"), Work: filepath.Join(c.Dir, "work"),
			ReadOnly: conf.ReadOnly, Volatile: conf.AutoRemove},
		Hostname: Hostname(conf, c.Name, c.ID, h.Hostname), Sysctl: conf.Sysctls, ShmSize: conf.ShmSize,
		CgroupPath: c.CgroupPath, StopSignal: StopSignal(conf, c.Image), AutoRemove: conf.AutoRemove,
		Log: c.Log, Mounts: c.Mounts,
	}
	if conf.Network != "host" {
		s.HostsPath = filepath.Join(c.Dir, "hosts")
		s.ResolvPath = filepath.Join(c.Dir, "resolv.conf")
		s.HostnamePath = filepath.Join(c.Dir, "hostname")
	}
	proc, err := process(c, s.Hostname)
	if err != nil {
		return nil, err
	}
	s.Process = *proc
	for _, u := range conf.Ulimits {
		s.Process.Rlimits = append(s.Process.Rlimits, clampRlimit(spec.Rlimit{Type: u.Type, Soft: u.Soft, Hard: u.Hard}, h.RlimitMax))
	}
	if !conf.Privileged && !unconfined(conf) {
		if s.Seccomp, err = compileSeccomp(conf, s.Process.Capabilities); err != nil {
			return nil, err
		}
	}
	if UserNS(conf, h.UserNS) == "auto" {
		s.UserNS = &spec.IDMap{HostID: h.SubUIDBase, Size: h.SubUIDCount}
	}
	s.Resources = Resources(&conf.Resources)
	share(conf, s)
	s.Devices, s.Driver = c.Devices.Nodes, c.Devices.Driver
	s.Resources.Devices = c.Devices.Rules
	if h.Workload != nil && s.UserNS == nil {
		// A user-namespaced init could not write the host's cgroup files.
		s.Workload = h.Workload(s.CgroupPath, s.Resources.PidsLimit)
	}
	s.Resources.WorkloadApart = s.Workload != nil
	if s.Workload == nil && s.Resources.PidsLimit > 0 {
		// The workload shares its cgroup with init (v2, user namespaces): leave it N
		// besides init's threads.
		s.Resources.PidsLimit += InitPids
	}
	return s, nil
}

// process is the workload: its environment (the image's, then the configuration's, later
// wins, then defaults), directory, user and privileges.
func process(c *Container, hostname string) (*spec.Process, error) {
	conf, img := c.Conf, c.Image
	env := []string{}
	if img != nil {
		env = spec.MergeEnv(env, img.Env)
	}
	env = spec.MergeEnv(env, conf.Env)
	if !HasEnv(env, "PATH") {
		env = append(env, DefaultPath)
	}
	if !HasEnv(env, "HOSTNAME") {
		env = append(env, "HOSTNAME="+hostname)
	}
	if conf.Tty && !HasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	cwd, user := conf.WorkingDir, conf.User
	if img != nil {
		if cwd == "" {
			cwd = img.WorkingDir
		}
		if user == "" {
			user = img.User
		}
	}
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return nil, errdefs.Invalid(fmt.Sprintf("working directory %q must be absolute", cwd))
	}
	capset, err := ctrconfig.Capabilities(conf.Privileged, conf.CapAdd, conf.CapDrop)
	if err != nil {
		return nil, err
	}
	return &spec.Process{
		Args: c.Args, Env: env, Cwd: cwd, User: user, Terminal: conf.Tty, Stdin: conf.Stdin,
		Capabilities: capset, NoNewPrivs: noNewPrivs(conf), OOMScoreAdj: conf.OOMScoreAdj,
	}, nil
}

// Unpacked are the directories of layers unpacked under the data root root, top first
// (layers are bottom first, as an image lists them).
func Unpacked(root string, layers []ocispec.Descriptor) []string {
	if len(layers) == 0 {
		return nil
	}
	out := make([]string, len(layers))
	for i, l := range layers {
		out[len(layers)-1-i] = filepath.Join(root, "extracted", l.Digest.Encoded())
	}
	return out
}

// Hostname is the container's host name: the host's with --uts host, the one configured,
// its name when that is a valid one, else its short ID.
func Hostname(conf *ctrconfig.Config, name, id, host string) string {
	if conf.UTS == ctrconfig.NSHost {
		return host
	}
	if conf.Hostname != "" {
		return conf.Hostname
	}
	if len(name) <= 63 && !strings.ContainsAny(name, "_.") {
		return name
	}
	return id[:12]
}

// UserNS is the container's user namespace mode: its own, or the daemon's default.
func UserNS(conf *ctrconfig.Config, daemonDefault string) string {
	if conf.UserNS != "" {
		return conf.UserNS
	}
	return daemonDefault
}

// HasEnv reports whether env sets key.
func HasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

func noNewPrivs(conf *ctrconfig.Config) bool {
	if conf.Privileged {
		return false
	}
	for _, o := range conf.SecurityOpt {
		if o == "no-new-privileges=false" {
			return false
		}
	}
	return true
}

func unconfined(conf *ctrconfig.Config) bool {
	for _, o := range conf.SecurityOpt {
		if o == "seccomp=unconfined" || o == "seccomp:unconfined" {
			return true
		}
	}
	return false
}

// ShareSeccomp points s at the data root's shared file holding its seccomp program,
// written once: containers with the same capabilities (almost all) use one program, and a
// start writes nothing for it.
func ShareSeccomp(root string, s *spec.Spec) error {
	if len(s.Seccomp) == 0 {
		return nil
	}
	sum := sha256.Sum256(s.Seccomp)
	p := filepath.Join(root, "seccomp", hex.EncodeToString(sum[:])+".bpf")
	// Named by its content: one of the right size is this program (written by rename).
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(s.Seccomp)) {
		s.SeccompFile = p
		return nil
	}
	if err := atomicfile.WriteFile(p, s.Seccomp, 0o600); err != nil {
		return fmt.Errorf("seccomp program: %w", err)
	}
	s.SeccompFile = p
	return nil
}

// The default profile compiles in about 2 ms; containers share a capability set, so
// the program is kept per set.
var seccompCache sync.Map // caps joined -> []byte

func compileSeccomp(conf *ctrconfig.Config, capset []string) ([]byte, error) {
	if len(conf.SeccompProfile) > 0 {
		p, err := seccomp.Parse(conf.SeccompProfile)
		if err != nil {
			return nil, errdefs.Invalid("seccomp profile: " + err.Error())
		}
		return seccomp.Compile(p, capset)
	}
	key := strings.Join(capset, ",")
	if b, ok := seccompCache.Load(key); ok {
		return b.([]byte), nil
	}
	b, err := seccomp.Compile(seccomp.Default(), capset)
	if err != nil {
		return nil, err
	}
	seccompCache.Store(key, b)
	return b, nil
}

// InitPids is what init may take of a pids limit where it shares the workload's cgroup
// (v2, user namespaces): its Go runtime's threads and the thread it forks from, 6-7 when idle and up to 9
// seen under CPU load. On v1 the workload has a cgroup of its own (spec.WorkloadCgroup)
// and its limit is exact.
const InitPids = 12

// Resources are the cgroup limits of a configuration's resources.
func Resources(req *ctrconfig.Resources) spec.Resources {
	r := spec.Resources{
		Memory: req.Memory, MemorySwap: req.MemorySwap, CPUShares: uint64(max(req.CPUShares, 0)),
		CpusetCpus: req.CpusetCpus, PidsLimit: req.PidsLimit, BlkioWeight: uint16(req.BlkioWeight),
		IOWeight: uint16(req.IOWeight), MemoryReservation: req.MemoryReservation,
	}
	if req.CPUPeriod > 0 {
		r.CPUPeriod = uint64(req.CPUPeriod)
	}
	period := int64(100000)
	if r.CPUPeriod > 0 {
		period = int64(r.CPUPeriod)
	}
	switch {
	case req.CPUQuota > 0:
		r.CPUQuota = req.CPUQuota
	case req.CPUs > 0:
		r.CPUQuota = int64(math.Round(req.CPUs * float64(period)))
	case req.CPUPercent > 0: // the original -c: percent of one CPU
		r.CPUQuota = int64(math.Round(req.CPUPercent / 100 * float64(period)))
	}
	return r
}

// clampRlimit keeps a limit within the host's hard limit.
func clampRlimit(l spec.Rlimit, hostMax func(int) (uint64, bool)) spec.Rlimit {
	res, ok := spec.RlimitResources[l.Type]
	if !ok || hostMax == nil {
		return l
	}
	if hmax, ok := hostMax(res); ok {
		l.Hard = min(l.Hard, hmax)
		l.Soft = min(l.Soft, l.Hard)
	}
	return l
}

// HostRlimitMax is this host's hard limit of resource (Host.RlimitMax).
func HostRlimitMax(resource int) (uint64, bool) {
	var host unix.Rlimit
	if unix.Getrlimit(resource, &host) != nil || host.Max == unix.RLIM_INFINITY {
		return 0, false
	}
	return host.Max, true
}

// StopSignal is the signal that stops the container: its own, its image's, or SIGTERM.
func StopSignal(conf *ctrconfig.Config, img *ocispec.ImageConfig) string {
	if conf.StopSignal != "" {
		return conf.StopSignal
	}
	if img != nil && img.StopSignal != "" {
		return img.StopSignal
	}
	return "SIGTERM"
}
