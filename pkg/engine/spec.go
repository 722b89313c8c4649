package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/seccomp"
	"github.com/minibox/minibox/pkg/signals"
	"github.com/minibox/minibox/pkg/spec"
)

// buildSpec turns a record into the container's config.json for one start; lower is the
// layer directories, top first (nil while only recording the create).
func (e *Engine) buildSpec(r *Record, lower []string) (*spec.Spec, error) {
	req := &r.Conf
	dir := e.ctrDir(r.ID)
	img, _ := e.imageConfig(r)
	s := &spec.Spec{
		ID: r.ID, Dir: dir, Network: req.Network, Privileged: req.Privileged,
		Rootfs: spec.Rootfs{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"),
			ReadOnly: req.ReadOnly, Volatile: req.AutoRemove},
		Hostname: hostnameOf(r), Sysctl: req.Sysctls, ShmSize: req.ShmSize,
		CgroupPath: cgroupPath(r.ID), StopSignal: stopSignalOf(r, img), AutoRemove: req.AutoRemove,
		Log: ctrio.LogConfig(req),
	}
	if req.Network != "host" {
		s.HostsPath = filepath.Join(dir, "hosts")
		s.ResolvPath = filepath.Join(dir, "resolv.conf")
		s.HostnamePath = filepath.Join(dir, "hostname")
	}
	if s.Rootfs.Lower == nil {
		for range r.Layers {
			s.Rootfs.Lower = append(s.Rootfs.Lower, "")
		}
		for i, l := range r.Layers {
			s.Rootfs.Lower[len(r.Layers)-1-i] = filepath.Join(e.Root, "extracted", l.Digest.Encoded())
		}
	}
	// Environment: image, then the request (later wins), then defaults.
	env := []string{}
	if img != nil {
		env = spec.MergeEnv(env, img.Env)
	}
	env = spec.MergeEnv(env, req.Env)
	if !hasEnv(env, "PATH") {
		env = append(env, defaultPath)
	}
	if !hasEnv(env, "HOSTNAME") {
		env = append(env, "HOSTNAME="+s.Hostname)
	}
	if req.Tty && !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	cwd := req.WorkingDir
	user := req.User
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
	capset, err := capsOf(req)
	if err != nil {
		return nil, err
	}
	s.Process = spec.Process{
		Args: r.Args, Env: env, Cwd: cwd, User: user, Terminal: req.Tty, Stdin: req.Stdin,
		Capabilities: capset, NoNewPrivs: noNewPrivs(req), OOMScoreAdj: req.OOMScoreAdj,
	}
	for _, u := range req.Ulimits {
		s.Process.Rlimits = append(s.Process.Rlimits, clampRlimit(spec.Rlimit{Type: u.Type, Soft: u.Soft, Hard: u.Hard}))
	}
	if !req.Privileged && !unconfined(req) {
		if s.Seccomp, err = compileSeccomp(req, capset); err != nil {
			return nil, err
		}
		if s.SeccompFile, err = e.seccompFile(s.Seccomp); err != nil {
			return nil, err
		}
	}
	if userns(req, e.Cfg) == "auto" {
		s.UserNS = &spec.IDMap{HostID: e.Cfg.SubUIDBase, Size: e.Cfg.SubUIDCount}
	}
	s.Resources = resourcesOf(&req.Resources)
	if err := e.shareSpec(r, s); err != nil {
		return nil, err
	}
	if e.cg != nil && s.UserNS == nil {
		// A user-namespaced init could not write the host's cgroup files.
		s.Workload = e.cg.Workload(s.CgroupPath, s.Resources.PidsLimit)
	}
	s.Resources.WorkloadApart = s.Workload != nil
	if s.Workload == nil && s.Resources.PidsLimit > 0 {
		// The workload shares its cgroup with init (v2, user namespaces): leave it N
		// besides init's threads.
		s.Resources.PidsLimit += initPids
	}
	mounts, err := e.specMounts(r)
	if err != nil {
		return nil, err
	}
	s.Mounts = mounts
	return s, nil
}

func hostnameOf(r *Record) string {
	if r.Conf.UTS == ctrconfig.NSHost {
		h, _ := os.Hostname()
		return h
	}
	if r.Conf.Hostname != "" {
		return r.Conf.Hostname
	}
	if len(r.Name) <= 63 && !strings.ContainsAny(r.Name, "_.") {
		return r.Name
	}
	return r.ID[:12]
}

func userns(req *ctrconfig.Config, cfg Config) string {
	if req.UserNS != "" {
		return req.UserNS
	}
	return cfg.UserNS
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

func capsOf(req *ctrconfig.Config) ([]string, error) {
	return ctrconfig.Capabilities(req.Privileged, req.CapAdd, req.CapDrop)
}

func noNewPrivs(req *ctrconfig.Config) bool {
	if req.Privileged {
		return false
	}
	for _, o := range req.SecurityOpt {
		if o == "no-new-privileges=false" {
			return false
		}
	}
	return true
}

func unconfined(req *ctrconfig.Config) bool {
	for _, o := range req.SecurityOpt {
		if o == "seccomp=unconfined" || o == "seccomp:unconfined" {
			return true
		}
	}
	return false
}

// seccompFile is the shared file holding prog, written once: containers with the same
// capabilities (almost all) use one program, and a start writes nothing for it.
func (e *Engine) seccompFile(prog []byte) (string, error) {
	sum := sha256.Sum256(prog)
	path := filepath.Join(e.Root, "seccomp", hex.EncodeToString(sum[:])+".bpf")
	// Named by its content: one of the right size is this program (written by rename).
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(prog)) {
		return path, nil
	}
	if err := atomicfile.WriteFile(path, prog, 0o600); err != nil {
		return "", fmt.Errorf("seccomp program: %w", err)
	}
	return path, nil
}

// The default profile compiles in about 2 ms; containers share a capability set, so
// the program is kept per set.
var seccompCache sync.Map // caps joined -> []byte

func compileSeccomp(req *ctrconfig.Config, capset []string) ([]byte, error) {
	if len(req.SeccompProfile) > 0 {
		p, err := seccomp.Parse(req.SeccompProfile)
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

// initPids is what init may take of a pids limit where it shares the workload's cgroup
// (v2, user namespaces): its Go runtime's threads and the thread it forks from, 6-7 when idle and up to 9
// seen under CPU load. On v1 the workload has a cgroup of its own (spec.WorkloadCgroup)
// and its limit is exact.
const initPids = 12

func resourcesOf(req *ctrconfig.Resources) spec.Resources {
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

// clampRlimit keeps a limit within the host's hard limit: raising it needs
// CAP_SYS_RESOURCE, which even root may lack.
func clampRlimit(l spec.Rlimit) spec.Rlimit {
	res, ok := spec.RlimitResources[l.Type]
	if !ok {
		return l
	}
	var host unix.Rlimit
	if unix.Getrlimit(res, &host) == nil && host.Max != unix.RLIM_INFINITY {
		l.Hard = min(l.Hard, host.Max)
		l.Soft = min(l.Soft, l.Hard)
	}
	return l
}

// ParseSignal reads KILL, SIGKILL, 9 or RTMIN+3 (pkg/signals owns the grammar).
func ParseSignal(s string) (syscall.Signal, error) { return signals.Parse(s) }

func (e *Engine) imageConfig(r *Record) (*ocispec.ImageConfig, error) { return &r.Config, nil }

func stopSignalOf(r *Record, img *ocispec.ImageConfig) string {
	if r.Conf.StopSignal != "" {
		return r.Conf.StopSignal
	}
	if img != nil && img.StopSignal != "" {
		return img.StopSignal
	}
	return "SIGTERM"
}

func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

func macString(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}
