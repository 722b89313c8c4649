package minibox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/ctrreq"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
)

// RunFlags are the flags of run, create and db run, each mapped to a field of
// api.CreateRequest by request. Slices use sep:"none": a value may hold commas
// (-e LIST=a,b), so only repeating the flag adds an entry.
type RunFlags struct {
	Detach      bool `short:"d" help:"Run in the background and print the container's ID."`
	Interactive bool `short:"i" help:"Keep stdin open and attach it."`
	TTY         bool `short:"t" name:"tty" help:"Allocate a terminal (raw mode here; Ctrl-P Ctrl-Q detaches)."`
	Rm          bool `help:"Remove the container (and its anonymous volumes) when it exits."`

	Name     string   `placeholder:"NAME" help:"Container name."`
	Hostname string   `short:"h" placeholder:"NAME" help:"Hostname (default: the name, else the 12-character ID)."`
	Label    []string `short:"l" sep:"none" placeholder:"KEY=VAL" help:"Set a label (repeatable)."`
	Env      []string `short:"e" sep:"none" placeholder:"KEY[=VAL]" help:"Set an environment variable; KEY alone copies this shell's value (omitted if unset)."`
	EnvFile  []string `name:"env-file" sep:"none" placeholder:"FILE" help:"Read KEY=VAL lines from a file (# comments)."`
	Workdir  string   `short:"w" placeholder:"DIR" help:"Working directory inside the container."`
	User     string   `short:"u" placeholder:"USER[:GROUP]" help:"User (name or UID) and group."`
	// A pointer: --entrypoint "" (clear the image's) differs from no flag.
	Entrypoint *string `placeholder:"CMD" help:"Override the image's entrypoint (\"\" clears it)."`

	Volume   []string `short:"v" sep:"none" placeholder:"SRC:DST[:ro]" help:"Bind a host path (starting with / ./ ../ ~) or mount a named volume; DST alone is an anonymous volume."`
	Mount    []string `sep:"none" placeholder:"type=..,source=..,target=.." help:"Mount in Docker's --mount syntax (bind, volume, tmpfs)."`
	Tmpfs    []string `sep:"none" placeholder:"PATH[:OPTS]" help:"Mount a tmpfs."`
	ReadOnly bool     `name:"read-only" help:"Mount the root filesystem read-only."`

	Publish    []string `short:"p" sep:"none" placeholder:"[IP:][HOST:]CTR[/PROTO]" help:"Publish a port; no host port = a random one."`
	PublishAll bool     `short:"P" name:"publish-all" help:"Publish the image's exposed ports on random ports."`
	Expose     []string `sep:"none" placeholder:"PORT[/PROTO]" help:"Expose a port or a range (8000-8010/udp): inspect lists it, -P publishes it."`
	Network    []string `sep:"none" placeholder:"bridge|host|none|container:NAME|NET" help:"Network mode (default bridge), or a network's name (repeatable)."`
	NetAlias   []string `name:"network-alias" sep:"none" placeholder:"NAME" help:"A name the container also has on its first network (repeatable)."`
	IP         string   `name:"ip" placeholder:"IPV4" help:"IPv4 address on the first network."`
	DNS        []string `name:"dns" sep:"none" placeholder:"IP" help:"DNS server."`
	DNSSearch  []string `name:"dns-search" sep:"none" placeholder:"DOMAIN" help:"DNS search domain."`
	DNSOption  []string `name:"dns-option" sep:"none" placeholder:"OPT" help:"DNS resolver option."`
	AddHost    []string `name:"add-host" sep:"none" placeholder:"NAME:IP" help:"Add a line to /etc/hosts (IP may be host-gateway)."`

	Memory      string    `short:"m" placeholder:"SIZE" help:"Memory limit (bare number = MiB; b k m g suffixes)."`
	MemoryRes   string    `name:"memory-reservation" placeholder:"SIZE" help:"Soft memory limit, kept under memory pressure (bare number = MiB)."`
	MemorySwap  negString `name:"memory-swap" placeholder:"SIZE" help:"Memory plus swap limit (-1 = unlimited)."`
	ShmSize     string    `name:"shm-size" placeholder:"SIZE" help:"Size of /dev/shm (default 64 MiB)."`
	CPUPercent  string    `short:"c" name:"cpu-percent" placeholder:"N" help:"CPU limit in percent of one CPU."`
	CPUs        string    `name:"cpus" placeholder:"N" help:"Number of CPUs (1.5)."`
	CPUQuota    int64     `name:"cpu-quota" placeholder:"USEC" help:"CFS quota in microseconds."`
	CPUPeriod   int64     `name:"cpu-period" placeholder:"USEC" help:"CFS period in microseconds."`
	CPUShares   int64     `name:"cpu-shares" placeholder:"N" help:"Relative CPU weight (1024 = default)."`
	CpusetCpus  string    `name:"cpuset-cpus" placeholder:"LIST" help:"CPUs allowed (0-1,3)."`
	PidsLimit   int64     `name:"pids-limit" placeholder:"N" help:"Maximum number of processes the workload (and exec'd processes) may have."`
	BlkioWeight int       `name:"blkio-weight" placeholder:"WEIGHT" help:"Block I/O weight (10-1000)."`
	Ulimit      []string  `sep:"none" placeholder:"NAME=SOFT[:HARD]" help:"Resource limit (nofile=1024:2048)."`
	OOMScoreAdj negString `name:"oom-score-adj" placeholder:"N" help:"OOM killer preference (-1000 to 1000)."`

	CapAdd      []string `name:"cap-add" sep:"none" placeholder:"CAP" help:"Add a capability."`
	CapDrop     []string `name:"cap-drop" sep:"none" placeholder:"CAP" help:"Drop a capability."`
	Privileged  bool     `help:"All capabilities, no seccomp, host devices."`
	SecurityOpt []string `name:"security-opt" sep:"none" placeholder:"OPT" help:"seccomp=unconfined|<file>, no-new-privileges[=false]."`
	Userns      string   `name:"userns" placeholder:"host|auto" help:"User namespace mode."`
	Sysctl      []string `sep:"none" placeholder:"KEY=VAL" help:"Namespaced kernel parameter."`
	Device      []string `sep:"none" placeholder:"HOST[:CTR][:rwm]" help:"Add a host device node, with the cgroup permissions r, w, m (repeatable)."`
	GPUs        string   `name:"gpus" placeholder:"all|N|device=ID" help:"Add the host's NVIDIA GPUs."`
	GroupAdd    []string `name:"group-add" sep:"none" placeholder:"GROUP" help:"Add a supplementary group of the workload (repeatable)."`
	IPC         string   `name:"ipc" placeholder:"MODE" help:"IPC namespace: private, shareable, host, none or container:NAME."`
	PID         string   `name:"pid" placeholder:"MODE" help:"PID namespace: host or container:NAME (default: its own)."`
	UTS         string   `name:"uts" placeholder:"MODE" help:"UTS namespace: host (default: its own)."`
	CgroupNS    string   `name:"cgroupns" placeholder:"MODE" help:"Cgroup namespace: private (default) or host."`
	VolumesFrom []string `name:"volumes-from" sep:"none" placeholder:"CTR[:ro|rw]" help:"Mount the volumes and binds of another container (repeatable)."`
	Link        []string `name:"link" sep:"none" placeholder:"CTR[:ALIAS]" help:"Resolve ALIAS to a container on the default bridge (repeatable)."`

	Restart           string   `placeholder:"POLICY" help:"no, on-failure[:N], always or unless-stopped."`
	HealthCmd         string   `name:"health-cmd" placeholder:"CMD" help:"Health probe command (run with /bin/sh -c)."`
	HealthInterval    string   `name:"health-interval" placeholder:"DUR" help:"Time between probes (30s)."`
	HealthTimeout     string   `name:"health-timeout" placeholder:"DUR" help:"Probe timeout (30s)."`
	HealthRetries     int      `name:"health-retries" placeholder:"N" help:"Failures in a row for unhealthy (3)."`
	HealthStartPeriod string   `name:"health-start-period" placeholder:"DUR" help:"Grace period for failures after start."`
	NoHealthcheck     bool     `name:"no-healthcheck" help:"Disable the image's health check."`
	StopSignal        string   `name:"stop-signal" placeholder:"SIGNAL" help:"Signal for stop (default SIGTERM)."`
	StopTimeout       *int     `name:"stop-timeout" placeholder:"SECONDS" help:"Seconds stop waits before SIGKILL (default 10)."`
	LogDriver         string   `name:"log-driver" placeholder:"DRIVER" help:"How the output is kept: local (default), json-file or none."`
	LogOpt            []string `name:"log-opt" sep:"none" placeholder:"KEY=VAL" help:"Log option: max-size=10m, max-file=3, labels=K1,K2, env=V1,V2 (repeatable)."`

	// Docker's client-side flags: they shape this command, not the container.
	Init       bool     `help:"Accepted for Docker: every minibox container has an init as PID 1."`
	LabelFile  []string `name:"label-file" sep:"none" placeholder:"FILE" help:"Read KEY=VAL labels from a file (# comments)."`
	CIDFile    string   `name:"cidfile" placeholder:"FILE" help:"Write the container's ID to FILE (which must not exist)."`
	Attach     []string `short:"a" sep:"none" placeholder:"STDOUT|STDERR" help:"Print only these streams of a foreground run (repeatable)."`
	SigProxy   bool     `name:"sig-proxy" default:"true" help:"Forward the signals this command receives to the container (--sig-proxy=false: do not)."`
	DetachKeys string   `name:"detach-keys" placeholder:"KEYS" help:"Keys that detach from -it (default ctrl-p,ctrl-q)."`

	Lazy     bool   `help:"Serve the image's layers lazily (FUSE) instead of unpacking them."`
	Pull     string `placeholder:"missing|always|never" help:"When to pull the image."`
	Platform string `placeholder:"OS/ARCH" help:"Platform os/arch of the image to pull."`
}

// negString is a flag value that may be a negative number (--memory-swap -1,
// --oom-score-adj -500), which kong would otherwise take for a short flag.
type negString string

func (n *negString) Decode(ctx *kong.DecodeContext) error {
	t := ctx.Scan.Pop()
	if t.IsEOL() {
		return fmt.Errorf("--%s needs a value", ctx.Value.Name)
	}
	s := fmt.Sprint(t.Value)
	if !t.IsValue() {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("--%s needs a value, got flag %s", ctx.Value.Name, s)
		}
	}
	*n = negString(s)
	return nil
}

// usageError is a malformed argument: exit 2 with one line.
func usageError(format string, args ...any) error {
	return &errdefs.ExitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

// request turns the flags into the create/run body. getenv serves -e KEY and ~;
// warn receives warnings (a volume name that is also a directory here).
func (f *RunFlags) request(getenv Env, image string, command []string, warn func(string, ...any)) (*api.CreateRequest, error) {
	r := &api.CreateRequest{
		Image: image, Command: command, Name: f.Name, Hostname: f.Hostname,
		Tty: f.TTY, Stdin: f.Interactive, AutoRemove: f.Rm, Detached: f.Detach,
		WorkingDir: f.Workdir, User: f.User, ReadOnly: f.ReadOnly, PublishAll: f.PublishAll,
		NetworkAlias: f.NetAlias, IPAddress: f.IP, DNS: f.DNS, DNSSearch: f.DNSSearch, DNSOption: f.DNSOption,
		CPUQuota: f.CPUQuota, CPUPeriod: f.CPUPeriod, CPUShares: f.CPUShares, CpusetCpus: f.CpusetCpus,
		PidsLimit: f.PidsLimit, BlkioWeight: f.BlkioWeight,
		CapAdd: f.CapAdd, CapDrop: f.CapDrop, Privileged: f.Privileged, UserNS: f.Userns,
		StopSignal: f.StopSignal, StopTimeout: f.StopTimeout, Pull: f.Pull, Platform: f.Platform,
		Devices: f.Device, GPUs: f.GPUs, GroupAdd: f.GroupAdd, IPC: f.IPC, PID: f.PID, UTS: f.UTS,
		CgroupNS: f.CgroupNS, VolumesFrom: f.VolumesFrom, Links: f.Link,
	}
	if f.Entrypoint != nil {
		ep := []string{}
		if *f.Entrypoint != "" {
			ep = []string{*f.Entrypoint}
		}
		r.Entrypoint = &ep
	}
	if f.Lazy {
		t := true
		r.Lazy = &t
	}
	for _, n := range f.Network {
		if n == "" {
			return nil, usageError("--network: empty; use bridge, host, none, container:NAME or a network's name")
		}
	}
	if len(f.Network) > 0 {
		r.Network = f.Network[0]
	}
	if len(f.Network) > 1 {
		r.Networks = f.Network[1:]
	}
	steps := []func(*api.CreateRequest) error{
		func(r *api.CreateRequest) error { return f.envAndLabels(r, getenv) }, f.sizes,
		func(r *api.CreateRequest) error { return f.storage(r, getenv, warn) }, f.ports, f.security,
		func(r *api.CreateRequest) (err error) { r.Healthcheck, err = f.healthcheck(); return err },
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return nil, err
		}
	}
	r.ExtraHosts, r.Ulimits, r.Tmpfs, r.Restart = f.AddHost, f.Ulimit, f.Tmpfs, f.Restart
	r.Expose = f.Expose
	// The daemon's own validator, so a bad value fails here, before any request.
	if _, _, err := ctrreq.Normalize(*r, ctrconfig.Options{}); err != nil {
		return nil, fieldUsageError(err)
	}
	return r, nil
}

func (f *RunFlags) envAndLabels(r *api.CreateRequest, getenv Env) error {
	var err error
	labels := f.Label
	for _, file := range f.LabelFile {
		lines, err := readKeyValFile("--label-file", file)
		if err != nil {
			return err
		}
		labels = append(lines, labels...) // -l wins over the file, as in Docker
	}
	if r.Labels, err = keyValues("--label", labels, true); err != nil {
		return err
	}
	r.LogDriver = f.LogDriver
	if r.LogOpts, err = keyValues("--log-opt", f.LogOpt, false); err != nil {
		return err
	}
	if r.Sysctls, err = keyValues("--sysctl", f.Sysctl, false); err != nil {
		return err
	}
	for _, file := range f.EnvFile {
		lines, err := readEnvFile(file, getenv)
		if err != nil {
			return err
		}
		r.Env = append(r.Env, lines...)
	}
	r.Env = append(r.Env, envList(f.Env, getenv)...)
	return nil
}

// sizes parses the size and CPU flags; their ranges are the validator's.
func (f *RunFlags) sizes(r *api.CreateRequest) error {
	var err error
	if r.MemoryBytes, err = sizeFlag("--memory", f.Memory, false); err != nil {
		return err
	}
	if f.OOMScoreAdj != "" {
		n, err := strconv.Atoi(string(f.OOMScoreAdj))
		if err != nil {
			return usageError("--oom-score-adj %s: expected a number from -1000 to 1000", f.OOMScoreAdj)
		}
		r.OOMScoreAdj = &n
	}
	if r.MemorySwap, err = sizeFlag("--memory-swap", string(f.MemorySwap), true); err != nil {
		return err
	}
	if r.ShmSizeBytes, err = sizeFlag("--shm-size", f.ShmSize, false); err != nil {
		return err
	}
	if r.MemoryReservation, err = sizeFlag("--memory-reservation", f.MemoryRes, false); err != nil {
		return err
	}
	if f.CPUPercent != "" {
		v, err := strconv.ParseFloat(strings.TrimSuffix(f.CPUPercent, "%"), 64)
		if err != nil {
			return usageError("--cpu-percent %s: expected a positive number (percent of one CPU)", f.CPUPercent)
		}
		r.CPU = v
	}
	if f.CPUs != "" {
		v, err := strconv.ParseFloat(f.CPUs, 64)
		if err != nil {
			return usageError("--cpus %s: expected a positive number of CPUs, like 1.5", f.CPUs)
		}
		r.CPUs = v
	}
	return nil
}

func (f *RunFlags) storage(r *api.CreateRequest, getenv Env, warn func(string, ...any)) error {
	for _, v := range f.Volume {
		m, err := volumeFlag(v, getenv, warn)
		if err != nil {
			return err
		}
		r.Mounts = append(r.Mounts, m)
	}
	for _, v := range f.Mount {
		m, err := mountFlag(v, getenv)
		if err != nil {
			return err
		}
		r.Mounts = append(r.Mounts, m)
	}
	return nil
}

func (f *RunFlags) ports(r *api.CreateRequest) error {
	for _, p := range f.Publish {
		bs, err := ctrreq.ParsePublish(p)
		if err != nil {
			return usageError("-p: %v", err)
		}
		r.Publish = append(r.Publish, bs...)
	}
	return nil
}

// security reads a seccomp profile file here and sends its content, as Docker's CLI does:
// the daemon reads no file a client names.
func (f *RunFlags) security(r *api.CreateRequest) error {
	for _, o := range f.SecurityOpt {
		k, v, _ := strings.Cut(o, "=")
		if k == "seccomp" && v != "" && v != "unconfined" && !strings.HasPrefix(v, "{") {
			b, err := os.ReadFile(v)
			if err != nil {
				return usageError("--security-opt %s: %v; give a seccomp profile file in Docker's format or unconfined", o, unwrapPath(err))
			}
			if !json.Valid(b) {
				return usageError("--security-opt %s: the file is not JSON; give a seccomp profile in Docker's format", o)
			}
			r.SeccompProfile = json.RawMessage(b)
			continue
		}
		r.SecurityOpt = append(r.SecurityOpt, o)
	}
	return nil
}

// flagOf names the flag that sets an API field, for the CLI's messages.
var flagOf = map[string]string{
	"image": "<image>", "name": "--name", "command": "<command>", "entrypoint": "--entrypoint",
	"hostname": "--hostname", "labels": "--label", "env": "-e/--env-file", "working_dir": "--workdir",
	"user": "--user", "mounts": "-v/--mount", "tmpfs": "--tmpfs", "publish": "-p",
	"network": "--network", "dns": "--dns", "dns_search": "--dns-search", "dns_option": "--dns-option",
	"extra_hosts": "--add-host", "expose": "--expose", "shm_size_bytes": "--shm-size", "memory_bytes": "--memory",
	"memory_swap": "--memory-swap", "cpu": "--cpu-percent", "cpus": "--cpus", "cpu_quota": "--cpu-quota",
	"cpu_period": "--cpu-period", "cpu_shares": "--cpu-shares", "cpuset_cpus": "--cpuset-cpus",
	"pids_limit": "--pids-limit", "blkio_weight": "--blkio-weight", "ulimits": "--ulimit",
	"oom_score_adj": "--oom-score-adj", "cap_add": "--cap-add", "cap_drop": "--cap-drop",
	"security_opt": "--security-opt", "seccomp_profile": "--security-opt", "userns": "--userns",
	"sysctls": "--sysctl", "restart": "--restart", "healthcheck": "--health-*", "stop_signal": "--stop-signal",
	"stop_timeout": "--stop-timeout", "pull": "--pull", "platform": "--platform",
	"devices": "--device", "gpus": "--gpus", "ipc": "--ipc", "pid": "--pid", "uts": "--uts",
	"cgroupns": "--cgroupns", "group_add": "--group-add", "volumes_from": "--volumes-from",
	"memory_reservation": "--memory-reservation", "links": "--link",
}

// fieldUsageError is a refused field as a usage error (exit 2), with the flag that set it.
func fieldUsageError(err error) error {
	var fe *ctrconfig.FieldError
	if errors.As(err, &fe) {
		root := strings.FieldsFunc(fe.Field, func(r rune) bool { return r == '[' || r == '.' })[0]
		if flag, ok := flagOf[root]; ok {
			return usageError("%s: %v", flag, err)
		}
	}
	return usageError("%v", err)
}

func (f *RunFlags) healthcheck() (*api.Healthcheck, error) {
	if f.NoHealthcheck {
		if f.HealthCmd != "" {
			return nil, usageError("--no-healthcheck conflicts with --health-cmd; drop one of them")
		}
		return &api.Healthcheck{Test: []string{"NONE"}, Disable: true}, nil
	}
	if f.HealthCmd == "" && f.HealthInterval == "" && f.HealthTimeout == "" && f.HealthRetries == 0 && f.HealthStartPeriod == "" {
		return nil, nil
	}
	h := &api.Healthcheck{Retries: f.HealthRetries}
	if f.HealthCmd != "" {
		h.Test = []string{"CMD-SHELL", f.HealthCmd}
	}
	for _, d := range []struct {
		flag, v string
		dst     *int64
	}{{"--health-interval", f.HealthInterval, &h.Interval}, {"--health-timeout", f.HealthTimeout, &h.Timeout}, {"--health-start-period", f.HealthStartPeriod, &h.StartPeriod}} {
		if d.v == "" {
			continue
		}
		dur, err := parseDuration(d.v)
		if err != nil {
			return nil, usageError("%s %s: %v", d.flag, d.v, err)
		}
		*d.dst = int64(dur)
	}
	return h, nil
}

// parseDuration reads 500ms, 30s, 1m30s; a bare integer is seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative duration; expected 30s, 1m30s or a number of seconds")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a duration; expected 500ms, 30s, 1m30s or a number of seconds")
	}
	return d, nil
}

// parseSize reads a size: a bare number is MiB (the original's unit), else a b/k/m/g
// suffix, 1024-based.
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "ib")
	mult := float64(1 << 20)
	if n := len(t); n > 1 && t[n-1] == 'b' && strings.ContainsRune("kmgt", rune(t[n-2])) {
		t = t[:n-1] // "512mb" = "512m"
	}
	if n := len(t); n > 0 {
		if i := strings.IndexByte("bkmgt", t[n-1]); i >= 0 {
			mult, t = float64(int64(1)<<(10*i)), t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size; expected a number of MiB or a b, k, m or g suffix (512m)", s)
	}
	return int64(v * mult), nil
}

func sizeFlag(flag, v string, allowUnlimited bool) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if allowUnlimited && v == "-1" {
		return -1, nil
	}
	n, err := parseSize(v)
	if err != nil {
		return 0, usageError("%s %s: %v", flag, v, err)
	}
	return n, nil
}

// keyValues parses KEY=VAL flags into a map; with bareOK a KEY alone maps to "".
func keyValues(flag string, vals []string, bareOK bool) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" || (!ok && !bareOK) {
			return nil, usageError("%s %s: expected KEY=VAL", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// envList resolves -e values: KEY=VAL as is, KEY from this process's environment, left out
// when unset (Docker's rule).
func envList(vals []string, getenv Env) []string {
	var out []string
	for _, kv := range vals {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
			continue
		}
		if v, ok := lookupEnv(getenv, kv); ok {
			out = append(out, kv+"="+v)
		}
	}
	return out
}

// lookupEnv tells an unset variable from an empty one as far as getenv allows: an empty
// value counts as set only when the process's own environment has it set and empty.
func lookupEnv(getenv Env, k string) (string, bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(k); v != "" {
		return v, true
	}
	v, ok := os.LookupEnv(k)
	return "", ok && v == ""
}

// readEnvFile reads --env-file: KEY=VAL per line, # comments and blank lines skipped, a
// bare KEY taken from the environment.
func readEnvFile(path string, getenv Env) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usageError("--env-file %s: %v", path, unwrapPath(err))
	}
	defer fh.Close()
	var lines []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		l = strings.TrimLeft(l, " \t")
		k, _, _ := strings.Cut(l, "=")
		if k == "" || strings.ContainsAny(k, " \t") {
			return nil, usageError("--env-file %s:%d: %q is not KEY=VAL", path, n, t)
		}
		lines = append(lines, envList([]string{l}, getenv)...)
	}
	if err := sc.Err(); err != nil {
		return nil, usageError("--env-file %s: %v", path, err)
	}
	return lines, nil
}

// readKeyValFile reads --label-file: KEY[=VAL] per line, # comments and blank lines skipped.
func readKeyValFile(flag, path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("%s %s: %v", flag, path, unwrapPath(err))
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(strings.TrimRight(l, "\r"))
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// isHostPath is the -v rule: a source starting with / ./ ../ ~ (or . and ..) is a host path;
// anything else names a volume.
func isHostPath(s string) bool {
	return s == "." || s == ".." || s == "~" || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") ||
		strings.HasPrefix(s, "../") || strings.HasPrefix(s, "~/")
}

// absHost makes a host path absolute (~ is $HOME).
func absHost(s string, getenv Env) (string, error) {
	if s == "~" || strings.HasPrefix(s, "~/") {
		home := ""
		if getenv != nil {
			home = getenv("HOME")
		}
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("cannot expand ~: HOME is not set")
			}
			home = h
		}
		s = filepath.Join(home, strings.TrimPrefix(s, "~"))
	}
	return filepath.Abs(s)
}

// volumeFlag parses -v src:dst[:opts] or dst.
func volumeFlag(v string, getenv Env, warn func(string, ...any)) (api.MountRequest, error) {
	parts := strings.Split(v, ":")
	var src, dst, opts string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
	case 3:
		src, dst, opts = parts[0], parts[1], parts[2]
	default:
		return api.MountRequest{}, usageError("-v %s: expected SRC:DST[:ro|rw] or DST", v)
	}
	if dst == "" || len(parts) > 1 && src == "" {
		return api.MountRequest{}, usageError("-v %s: empty section between colons; expected SRC:DST[:ro|rw] or DST", v)
	}
	m := api.MountRequest{Type: "volume", Target: dst}
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "", "rw", "z", "Z", "rprivate", "private", "rslave", "slave", "rshared", "shared", "nocopy":
		case "ro":
			m.ReadOnly = true
		case "idmap":
			m.IDMap = true
		default:
			return api.MountRequest{}, usageError("-v %s: unknown option %q; use ro, rw or idmap", v, o)
		}
	}
	switch {
	case m.IDMap && !isHostPath(src):
		return api.MountRequest{}, usageError("-v %s: idmap is for a host path; volumes are idmapped already", v)
	case src == "":
		// Anonymous volume.
	case isHostPath(src):
		p, err := absHost(src, getenv)
		if err != nil {
			return api.MountRequest{}, usageError("-v %s: %v", v, err)
		}
		m.Type, m.Source = "bind", p
	default:
		m.Source = src
		if st, err := os.Stat(src); err == nil && st.IsDir() && warn != nil {
			warn("-v %s: %q is a volume name, yet a directory %s exists here; write ./%s:%s to bind it", v, src, src, src, dst)
		}
	}
	return m, nil
}

// mountFlag parses --mount in Docker's syntax: comma-separated key=value pairs.
func mountFlag(v string, getenv Env) (api.MountRequest, error) {
	m := api.MountRequest{Type: "volume"}
	for _, f := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Target = val
		case "readonly", "ro":
			if !hasVal {
				m.ReadOnly = true
				break
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return m, usageError("--mount %s: %s=%s is not a boolean", v, k, val)
			}
			m.ReadOnly = b
		case "idmap":
			m.IDMap = !hasVal || val == "true" || val == "1"
		case "tmpfs-size":
			n, err := parseSize(val)
			if err != nil {
				return m, usageError("--mount %s: tmpfs-size: %v", v, err)
			}
			if _, err := strconv.ParseInt(val, 10, 64); err == nil {
				n, _ = strconv.ParseInt(val, 10, 64) // Docker: a bare tmpfs-size is bytes
			}
			m.TmpfsSize = n
		case "tmpfs-mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, usageError("--mount %s: tmpfs-mode %s is not an octal mode", v, val)
			}
			m.TmpfsMode = uint32(n)
		case "bind-propagation", "volume-nocopy", "consistency", "bind-nonrecursive", "volume-driver", "volume-opt", "volume-label":
			// Accepted for Docker compatibility; minibox binds are recursive and private.
		case "":
		default:
			return m, usageError("--mount %s: unknown key %q; use type, source, target, readonly, idmap, tmpfs-size, tmpfs-mode", v, k)
		}
	}
	if m.Type == "bind" {
		if m.Source == "" {
			return m, usageError("--mount %s: a bind mount needs source=<host path>", v)
		}
		p, err := absHost(m.Source, getenv)
		if err != nil {
			return m, usageError("--mount %s: %v", v, err)
		}
		m.Source = p
	}
	return m, nil
}
