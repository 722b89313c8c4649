package ctrreq

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/netport"
)

func intp(n int) *int { return &n }

// req is a request with one change from the minimal valid one.
type req func(r *api.CreateRequest)

func TestNormalizeFields(t *testing.T) {
	const profile = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`
	tests := []struct {
		name  string
		set   req
		field string // "" = accepted
	}{
		// The report's values.
		{"memory -5", func(r *api.CreateRequest) { r.Memory = -5 }, "memory"},
		{"cpus 1e308", func(r *api.CreateRequest) { r.CPUs = 1e308 }, "cpus"},
		{"cpuset abc", func(r *api.CreateRequest) { r.Cpuset = "abc" }, "cpuset"},
		{"dns not-an-ip", func(r *api.CreateRequest) { r.DNS = []string{"1.1.1.1", "not-an-ip"} }, "dns[1]"},
		{"user -1", func(r *api.CreateRequest) { r.User = "-1" }, "user"},
		{"platform windows", func(r *api.CreateRequest) { r.Platform = "windows/amd64" }, "platform"},
		{"healthcheck BOGUS", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Test: []string{"BOGUS"}} }, "healthcheck.test"},
		{"hostname newline", func(r *api.CreateRequest) { r.Hostname = "a\nb" }, "hostname"},
		{"dns_search newline", func(r *api.CreateRequest) { r.DNSSearch = []string{"x\nnameserver 1.2.3.4"} }, "dns_search[0]"},
		{"extra_hosts newline", func(r *api.CreateRequest) { r.ExtraHosts = []string{"h:1.2.3.4\n5.6.7.8 evil"} }, "extra_hosts[0]"},
		{"seccomp path", func(r *api.CreateRequest) { r.SecurityOpt = []string{"seccomp=/etc/shadow"} }, "security_opt[0]"},

		// Identity and process.
		{"minimal", func(r *api.CreateRequest) {}, ""},
		{"no image", func(r *api.CreateRequest) { r.Image = " " }, "image"},
		{"image newline", func(r *api.CreateRequest) { r.Image = "busybox\nx" }, "image"},
		{"name", func(r *api.CreateRequest) { r.Name = "/web-1.a_b" }, ""},
		{"name bad", func(r *api.CreateRequest) { r.Name = "-web" }, "name"},
		{"name slash", func(r *api.CreateRequest) { r.Name = "a/b" }, "name"},
		{"pull", func(r *api.CreateRequest) { r.Pull = "always" }, ""},
		{"pull bad", func(r *api.CreateRequest) { r.Pull = "sometimes" }, "pull"},
		{"command NUL", func(r *api.CreateRequest) { r.Command = []string{"echo", "a\x00b"} }, "command[1]"},
		{"command newline ok", func(r *api.CreateRequest) { r.Command = []string{"sh", "-c", "echo a\necho b"} }, ""},
		{"entrypoint NUL", func(r *api.CreateRequest) { r.Entrypoint = &[]string{"\x00"} }, "entrypoint[0]"},
		{"workdir", func(r *api.CreateRequest) { r.WorkingDir = "/srv/app" }, ""},
		{"workdir relative", func(r *api.CreateRequest) { r.WorkingDir = "srv" }, "working_dir"},
		{"workdir NUL", func(r *api.CreateRequest) { r.WorkingDir = "/a\x00" }, "working_dir"},
		{"db data relative", func(r *api.CreateRequest) { r.DBMode, r.Data = true, "data" }, "data"},
		{"project newline", func(r *api.CreateRequest) { r.Project = "p\nq" }, "project"},

		// Environment and labels.
		{"env", func(r *api.CreateRequest) { r.Env = []string{"A=1", "B=x=y", "C=multi\nline", "BARE"} }, ""},
		{"env empty key", func(r *api.CreateRequest) { r.Env = []string{"=x"} }, "env[0]"},
		{"env NUL", func(r *api.CreateRequest) { r.Env = []string{"A=1", "B=a\x00b"} }, "env[1]"},
		{"env newline in key", func(r *api.CreateRequest) { r.Env = []string{"A\nB=1"} }, "env[0]"},
		{"labels", func(r *api.CreateRequest) { r.Labels = map[string]string{"a.b": "x y\nz"} }, ""},
		{"label empty key", func(r *api.CreateRequest) { r.Labels = map[string]string{"": "x"} }, "labels"},
		{"label key newline", func(r *api.CreateRequest) { r.Labels = map[string]string{"a\nb": "x"} }, `labels["a\nb"]`},
		{"label value NUL", func(r *api.CreateRequest) { r.Labels = map[string]string{"a": "\x00"} }, `labels["a"]`},

		// User, platform.
		{"user name", func(r *api.CreateRequest) { r.User = "app" }, ""},
		{"user uid:gid", func(r *api.CreateRequest) { r.User = "1000:1000" }, ""},
		{"user name:group", func(r *api.CreateRequest) { r.User = "www-data:staff" }, ""},
		{"user negative gid", func(r *api.CreateRequest) { r.User = "1000:-5" }, "user"},
		{"user garbage", func(r *api.CreateRequest) { r.User = "a b" }, "user"},
		{"user too big", func(r *api.CreateRequest) { r.User = "4294967295" }, "user"},
		{"user empty part", func(r *api.CreateRequest) { r.User = "app:" }, "user"},
		{"platform host", func(r *api.CreateRequest) { r.Platform = "linux/" + runtime.GOARCH }, ""},
		{"platform linux", func(r *api.CreateRequest) { r.Platform = "linux" }, ""},
		{"platform other arch", func(r *api.CreateRequest) { r.Platform = "linux/s390x" }, "platform"},
		{"platform garbage", func(r *api.CreateRequest) { r.Platform = "linux/" }, "platform"},

		// Memory.
		{"memory MiB", func(r *api.CreateRequest) { r.Memory = 64 }, ""},
		{"memory too small", func(r *api.CreateRequest) { r.MemoryBytes = 1 << 20 }, "memory_bytes"},
		{"memory bytes negative", func(r *api.CreateRequest) { r.MemoryBytes = -1 }, "memory_bytes"},
		{"memory absurd", func(r *api.CreateRequest) { r.Memory = 1 << 50 }, "memory"},
		{"memory bytes absurd", func(r *api.CreateRequest) { r.MemoryBytes = math.MaxInt64 }, "memory_bytes"},
		{"swap unlimited", func(r *api.CreateRequest) { r.Memory, r.MemorySwap = 64, -1 }, ""},
		{"swap", func(r *api.CreateRequest) { r.Memory, r.MemorySwap = 64, 128<<20 }, ""},
		{"swap below memory", func(r *api.CreateRequest) { r.Memory, r.MemorySwap = 64, 32<<20 }, "memory_swap"},
		{"swap without memory", func(r *api.CreateRequest) { r.MemorySwap = 128 << 20 }, "memory_swap"},
		{"swap -2", func(r *api.CreateRequest) { r.MemorySwap = -2 }, "memory_swap"},
		{"shm", func(r *api.CreateRequest) { r.ShmSizeBytes = 1 << 30 }, ""},
		{"shm negative", func(r *api.CreateRequest) { r.ShmSizeBytes = -1 }, "shm_size_bytes"},
		{"shm MiB negative", func(r *api.CreateRequest) { r.ShmSize = -64 }, "shm_size"},
		{"shm absurd", func(r *api.CreateRequest) { r.ShmSize = math.MaxInt64 }, "shm_size"},

		// CPU.
		{"cpus", func(r *api.CreateRequest) { r.CPUs = 1.5 }, ""},
		{"cpus all", func(r *api.CreateRequest) { r.CPUs = 2 }, ""},
		{"cpus over host", func(r *api.CreateRequest) { r.CPUs = 3 }, "cpus"},
		{"cpus negative", func(r *api.CreateRequest) { r.CPUs = -1 }, "cpus"},
		{"cpus NaN", func(r *api.CreateRequest) { r.CPUs = math.NaN() }, "cpus"},
		{"cpus Inf", func(r *api.CreateRequest) { r.CPUs = math.Inf(1) }, "cpus"},
		{"cpus tiny", func(r *api.CreateRequest) { r.CPUs = 0.001 }, "cpus"},
		{"cpu percent", func(r *api.CreateRequest) { r.CPU = 50 }, ""},
		{"cpu percent over host", func(r *api.CreateRequest) { r.CPU = 250 }, "cpu"},
		{"cpu-shares", func(r *api.CreateRequest) { r.CPUShares = 512 }, ""},
		{"cpu-shares negative", func(r *api.CreateRequest) { r.CPUShares = -1 }, "cpu_shares"},
		{"cpu-shares huge", func(r *api.CreateRequest) { r.CPUShares = 1 << 20 }, "cpu_shares"},
		{"cpu quota/period", func(r *api.CreateRequest) { r.CPUQuota, r.CPUPeriod = 50000, 100000 }, ""},
		{"cpu quota -1", func(r *api.CreateRequest) { r.CPUQuota = -1 }, ""},
		{"cpu quota small", func(r *api.CreateRequest) { r.CPUQuota = 10 }, "cpu_quota"},
		{"cpu quota huge", func(r *api.CreateRequest) { r.CPUQuota = math.MaxInt64 }, "cpu_quota"},
		{"cpu period small", func(r *api.CreateRequest) { r.CPUPeriod = 999 }, "cpu_period"},
		{"cpu period large", func(r *api.CreateRequest) { r.CPUPeriod = 2000000 }, "cpu_period"},
		{"cpus with a small period", func(r *api.CreateRequest) { r.CPUs, r.CPUPeriod = 0.5, 1000 }, "cpus"},
		{"cpuset", func(r *api.CreateRequest) { r.CpusetCpus = "0-1" }, ""},
		{"cpuset list", func(r *api.CreateRequest) { r.CpusetCpus = "0,1" }, ""},
		{"cpuset offline", func(r *api.CreateRequest) { r.CpusetCpus = "0-3,5" }, "cpuset_cpus"},
		{"cpuset reversed", func(r *api.CreateRequest) { r.CpusetCpus = "1-0" }, "cpuset_cpus"},
		{"cpuset trailing comma", func(r *api.CreateRequest) { r.CpusetCpus = "0," }, "cpuset_cpus"},
		{"cpuset negative", func(r *api.CreateRequest) { r.CpusetCpus = "-1" }, "cpuset_cpus"},

		// Other limits.
		{"pids", func(r *api.CreateRequest) { r.PidsLimit = 100 }, ""},
		{"pids unlimited", func(r *api.CreateRequest) { r.PidsLimit = -1 }, ""},
		{"pids negative", func(r *api.CreateRequest) { r.PidsLimit = -5 }, "pids_limit"},
		{"pids overflow", func(r *api.CreateRequest) { r.PidsLimit = math.MaxInt64 }, "pids_limit"},
		{"blkio", func(r *api.CreateRequest) { r.BlkioWeight = 500 }, ""},
		{"blkio low", func(r *api.CreateRequest) { r.BlkioWeight = 5 }, "blkio_weight"},
		{"blkio high", func(r *api.CreateRequest) { r.BlkioWeight = 1001 }, "blkio_weight"},
		{"io weight", func(r *api.CreateRequest) { r.IOWeight = 10001 }, "io_weight"},
		{"oom", func(r *api.CreateRequest) { r.OOMScoreAdj = intp(-1000) }, ""},
		{"oom low", func(r *api.CreateRequest) { r.OOMScoreAdj = intp(-1001) }, "oom_score_adj"},
		{"oom high", func(r *api.CreateRequest) { r.OOMScoreAdj = intp(1001) }, "oom_score_adj"},
		{"ulimits", func(r *api.CreateRequest) {
			r.Ulimits = []string{"nofile=1024:2048", "core=-1", "memlock=unlimited:unlimited"}
		}, ""},
		{"ulimit unknown", func(r *api.CreateRequest) { r.Ulimits = []string{"nofile=1", "bogus=1"} }, "ulimits[1]"},
		{"ulimit soft > hard", func(r *api.CreateRequest) { r.Ulimits = []string{"nofile=2048:1024"} }, "ulimits[0]"},
		{"ulimit garbage", func(r *api.CreateRequest) { r.Ulimits = []string{"nofile=lots"} }, "ulimits[0]"},
		{"ulimit negative", func(r *api.CreateRequest) { r.Ulimits = []string{"nofile=-5"} }, "ulimits[0]"},

		// Network.
		{"network", func(r *api.CreateRequest) { r.Network = "none" }, ""},
		{"network by name", func(r *api.CreateRequest) { r.Network = "backend" }, ""},
		{"network share", func(r *api.CreateRequest) { r.Network = "container:db" }, ""},
		{"network bad", func(r *api.CreateRequest) { r.Network = "not/a-name" }, "network"},
		{"network share nobody", func(r *api.CreateRequest) { r.Network = "container:" }, "network"},
		{"networks bad", func(r *api.CreateRequest) { r.Networks = []string{"ok", "-bad"} }, "networks[1]"},
		{"hostname fqdn", func(r *api.CreateRequest) { r.Hostname = "db-1.example.test" }, ""},
		{"hostname underscore", func(r *api.CreateRequest) { r.Hostname = "a_b" }, "hostname"},
		{"hostname leading hyphen", func(r *api.CreateRequest) { r.Hostname = "-a" }, "hostname"},
		{"hostname too long", func(r *api.CreateRequest) { r.Hostname = strings.Repeat("a", 30) + "." + strings.Repeat("b", 34) }, "hostname"},
		{"hostname space", func(r *api.CreateRequest) { r.Hostname = "a b" }, "hostname"},
		{"alias", func(r *api.CreateRequest) { r.NetworkAlias = []string{"db", "bad alias"} }, "network_aliases[1]"},
		{"dns", func(r *api.CreateRequest) { r.DNS = []string{"1.1.1.1", "2606:4700::1111"} }, ""},
		{"dns newline", func(r *api.CreateRequest) { r.DNS = []string{"1.1.1.1\nsearch evil"} }, "dns[0]"},
		{"dns_search", func(r *api.CreateRequest) { r.DNSSearch = []string{"example.test", "."} }, ""},
		{"dns_search space", func(r *api.CreateRequest) { r.DNSSearch = []string{"a b"} }, "dns_search[0]"},
		{"dns_option", func(r *api.CreateRequest) { r.DNSOption = []string{"ndots:2", "rotate"} }, ""},
		{"dns_option newline", func(r *api.CreateRequest) { r.DNSOption = []string{"ndots:2\nnameserver 6.6.6.6"} }, "dns_option[0]"},
		{"extra_hosts", func(r *api.CreateRequest) {
			r.ExtraHosts = []string{"db:10.0.0.2", "gw:host-gateway", "v6:[::1]", "eq=10.0.0.3"}
		}, ""},
		{"extra_hosts no ip", func(r *api.CreateRequest) { r.ExtraHosts = []string{"nohost"} }, "extra_hosts[0]"},
		{"extra_hosts bad ip", func(r *api.CreateRequest) { r.ExtraHosts = []string{"h:999.1.1.1"} }, "extra_hosts[0]"},
		{"extra_hosts bad name", func(r *api.CreateRequest) { r.ExtraHosts = []string{"a b:1.2.3.4"} }, "extra_hosts[0]"},
		{"publish", func(r *api.CreateRequest) {
			r.Publish = []api.PortBinding{{HostPort: 8080, ContainerPort: 80}, {HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "UDP"}}
		}, ""},
		{"publish proto", func(r *api.CreateRequest) { r.Publish = []api.PortBinding{{ContainerPort: 80, Protocol: "sctp"}} }, "publish[0].protocol"},
		{"publish ctr port 0", func(r *api.CreateRequest) { r.Publish = []api.PortBinding{{ContainerPort: 0}} }, "publish[0].container_port"},
		{"publish host port", func(r *api.CreateRequest) { r.Publish = []api.PortBinding{{HostPort: 70000, ContainerPort: 80}} }, "publish[0].host_port"},
		{"publish v6", func(r *api.CreateRequest) { r.Publish = []api.PortBinding{{HostIP: "::1", ContainerPort: 80}} }, "publish[0].host_ip"},
		{"publish bad ip", func(r *api.CreateRequest) { r.Publish = []api.PortBinding{{HostIP: "localhost", ContainerPort: 80}} }, "publish[0].host_ip"},
		{"ports", func(r *api.CreateRequest) { r.Ports = map[string]int{"8080": 80} }, ""},
		{"ports bad", func(r *api.CreateRequest) { r.Ports = map[string]int{"x": 80} }, `ports["x"]`},
		{"ports ctr", func(r *api.CreateRequest) { r.Ports = map[string]int{"80": 99999} }, `ports["80"]`},

		// Storage.
		{"mounts", func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{{Type: "bind", Source: "/srv", Target: "/srv/"}, {Source: "data", Target: "/d"},
				{Type: "tmpfs", Target: "/t", TmpfsSize: 1 << 20, TmpfsMode: 0o1777}}
		}, ""},
		{"mount relative target", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Type: "volume", Target: "data"}} }, "mounts[0].target"},
		{"mount root target", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Type: "volume", Target: "/.."}} }, "mounts[0].target"},
		{"mount NUL target", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Target: "/a\x00b"}} }, "mounts[0].target"},
		{"mount bad type", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Type: "nfs", Target: "/x"}} }, "mounts[0].type"},
		{"bind relative source", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Type: "bind", Source: "srv", Target: "/x"}} }, "mounts[0].source"},
		{"volume bad name", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Source: "../x", Target: "/x"}} }, "mounts[0].source"},
		{"tmpfs with source", func(r *api.CreateRequest) { r.Mounts = []api.MountRequest{{Type: "tmpfs", Source: "x", Target: "/x"}} }, "mounts[0].source"},
		{"tmpfs negative size", func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{{Type: "tmpfs", Target: "/x", TmpfsSize: -1}}
		}, "mounts[0].tmpfs_size"},
		{"tmpfs bad mode", func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{{Type: "tmpfs", Target: "/x", TmpfsMode: 0o77777}}
		}, "mounts[0].tmpfs_mode"},
		{"bind with tmpfs size", func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{{Type: "bind", Source: "/a", Target: "/x", TmpfsSize: 1}}
		}, "mounts[0]"},
		{"volumes map", func(r *api.CreateRequest) { r.Volumes = map[string]string{"/srv": "/srv:ro"} }, ""},
		{"volumes map relative", func(r *api.CreateRequest) { r.Volumes = map[string]string{"srv": "/srv"} }, `volumes["srv"]`},
		{"named volumes bad target", func(r *api.CreateRequest) { r.NamedVolumes = map[string]string{"v": "rel:ro"} }, `named_volumes["v"]`},
		{"named volumes bad name", func(r *api.CreateRequest) { r.NamedVolumes = map[string]string{"a/b": "/x"} }, `named_volumes["a/b"]`},
		{"tmpfs", func(r *api.CreateRequest) { r.Tmpfs = []string{"/run", "/t:size=64m,mode=1777,noexec,uid=1000"} }, ""},
		{"tmpfs relative", func(r *api.CreateRequest) { r.Tmpfs = []string{"run"} }, "tmpfs[0]"},
		{"tmpfs unknown option", func(r *api.CreateRequest) { r.Tmpfs = []string{"/run:suid"} }, "tmpfs[0]"},
		{"tmpfs bad size", func(r *api.CreateRequest) { r.Tmpfs = []string{"/run:size=lots"} }, "tmpfs[0]"},
		{"tmpfs bad mode", func(r *api.CreateRequest) { r.Tmpfs = []string{"/run:mode=999"} }, "tmpfs[0]"},

		// Security.
		{"caps", func(r *api.CreateRequest) {
			r.CapAdd, r.CapDrop = []string{"net_admin", "CAP_SYS_TIME"}, []string{"ALL"}
		}, ""},
		{"cap unknown", func(r *api.CreateRequest) { r.CapAdd = []string{"NET_ADMIN", "FLY"} }, "cap_add[1]"},
		{"cap drop unknown", func(r *api.CreateRequest) { r.CapDrop = []string{"bogus"} }, "cap_drop[0]"},
		{"security_opt", func(r *api.CreateRequest) {
			r.SecurityOpt = []string{"seccomp=unconfined", "no-new-privileges", "no-new-privileges:false", "label=disable", "apparmor=unconfined"}
		}, ""},
		{"security_opt unknown", func(r *api.CreateRequest) { r.SecurityOpt = []string{"selinux=on"} }, "security_opt[0]"},
		{"security_opt empty seccomp", func(r *api.CreateRequest) { r.SecurityOpt = []string{"seccomp="} }, "security_opt[0]"},
		{"security_opt nnp bad", func(r *api.CreateRequest) { r.SecurityOpt = []string{"no-new-privileges=maybe"} }, "security_opt[0]"},
		{"security_opt newline", func(r *api.CreateRequest) { r.SecurityOpt = []string{"label=a\nb"} }, "security_opt[0]"},
		{"seccomp inline", func(r *api.CreateRequest) { r.SecurityOpt = []string{"seccomp=" + profile} }, ""},
		{"seccomp inline broken", func(r *api.CreateRequest) { r.SecurityOpt = []string{`seccomp={"defaultAction":`} }, "seccomp_profile"},
		{"seccomp inline unknown action", func(r *api.CreateRequest) { r.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_NOPE"}`} }, "seccomp_profile"},
		{"seccomp_profile", func(r *api.CreateRequest) { r.SeccompProfile = json.RawMessage(profile) }, ""},
		{"seccomp_profile not JSON", func(r *api.CreateRequest) { r.SeccompProfile = json.RawMessage(`"/etc/shadow"`) }, "seccomp_profile"},
		{"seccomp twice", func(r *api.CreateRequest) {
			r.SeccompProfile, r.SecurityOpt = json.RawMessage(profile), []string{"seccomp=" + profile}
		}, "security_opt[0]"},
		{"seccomp unconfined and profile", func(r *api.CreateRequest) {
			r.SeccompProfile, r.SecurityOpt = json.RawMessage(profile), []string{"seccomp=unconfined"}
		}, "security_opt"},
		{"sysctls", func(r *api.CreateRequest) {
			r.Sysctls = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000"}
		}, ""},
		{"sysctl not namespaced", func(r *api.CreateRequest) { r.Sysctls = map[string]string{"kernel.panic": "1"} }, `sysctls["kernel.panic"]`},
		{"sysctl net with host network", func(r *api.CreateRequest) {
			r.Network, r.Sysctls = "host", map[string]string{"net.ipv4.ip_forward": "1"}
		}, `sysctls["net.ipv4.ip_forward"]`},
		{"sysctl climbs out of /proc/sys", func(r *api.CreateRequest) { r.Sysctls = map[string]string{"net./../../../etc/x": "1"} }, `sysctls["net./../../../etc/x"]`},
		{"sysctl value newline", func(r *api.CreateRequest) { r.Sysctls = map[string]string{"net.ipv4.ip_forward": "1\n2"} }, `sysctls["net.ipv4.ip_forward"]`},
		{"userns", func(r *api.CreateRequest) { r.UserNS = "auto" }, ""},
		{"userns bad", func(r *api.CreateRequest) { r.UserNS = "private" }, "userns"},

		// Lifecycle.
		{"restart", func(r *api.CreateRequest) { r.Restart = "on-failure:3" }, ""},
		{"restart bad", func(r *api.CreateRequest) { r.Restart = "sometimes" }, "restart"},
		{"restart count on always", func(r *api.CreateRequest) { r.Restart = "always:3" }, "restart"},
		{"restart negative count", func(r *api.CreateRequest) { r.Restart = "on-failure:-1" }, "restart"},
		{"restart with rm", func(r *api.CreateRequest) { r.Restart, r.AutoRemove = "always", true }, "restart"},
		{"restart no with rm", func(r *api.CreateRequest) { r.Restart, r.AutoRemove = "no", true }, ""},
		{"stop signal", func(r *api.CreateRequest) { r.StopSignal = "SIGINT" }, ""},
		{"stop signal number", func(r *api.CreateRequest) { r.StopSignal = "RTMIN+3" }, ""},
		{"stop signal bad", func(r *api.CreateRequest) { r.StopSignal = "SIGBOGUS" }, "stop_signal"},
		{"stop signal 99", func(r *api.CreateRequest) { r.StopSignal = "99" }, "stop_signal"},
		{"stop timeout", func(r *api.CreateRequest) { r.StopTimeout = intp(3) }, ""},
		{"stop timeout negative", func(r *api.CreateRequest) { r.StopTimeout = intp(-5) }, "stop_timeout"},
		{"healthcheck", func(r *api.CreateRequest) {
			r.Healthcheck = &api.Healthcheck{Test: []string{"CMD-SHELL", "true"}, Interval: 1e9, Timeout: 1e9, Retries: 3}
		}, ""},
		{"healthcheck CMD", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Test: []string{"CMD", "/bin/true", "x"}} }, ""},
		{"healthcheck NONE", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Test: []string{"NONE"}, Disable: true} }, ""},
		{"healthcheck tune image's", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Interval: 2e9} }, ""},
		{"healthcheck CMD without program", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Test: []string{"CMD"}} }, "healthcheck.test"},
		{"healthcheck CMD-SHELL two args", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Test: []string{"CMD-SHELL", "a", "b"}} }, "healthcheck.test"},
		{"healthcheck negative interval", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Interval: -1} }, "healthcheck.interval"},
		{"healthcheck tiny timeout", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Timeout: 10} }, "healthcheck.timeout"},
		{"healthcheck negative start", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{StartPeriod: -1} }, "healthcheck.start_period"},
		{"healthcheck negative retries", func(r *api.CreateRequest) { r.Healthcheck = &api.Healthcheck{Retries: -1} }, "healthcheck.retries"},
	}
	opts := ctrconfig.Options{HostCPUs: 2, OnlineCPUs: map[int]bool{0: true, 1: true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api.CreateRequest{Image: "busybox"}
			tt.set(&r)
			_, _, err := Normalize(r, opts)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *ctrconfig.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a ctrconfig.FieldError for %s", err, tt.field)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("err = %q: want an ErrInvalid that starts with the field", err)
			}
		})
	}
}

func TestNormalizeForms(t *testing.T) {
	in := api.CreateRequest{
		Image: "busybox", Name: "/web", Interactive: true, Memory: 64, ShmSize: 128, Cpuset: "0",
		Ports:       map[string]int{"8080": 80},
		Publish:     []api.PortBinding{{ContainerPort: 53, Protocol: "UDP"}, {HostIP: "0.0.0.0", HostPort: 81, ContainerPort: 80}},
		ExtraHosts:  []string{"a=10.0.0.1", "b:[::1]"},
		SecurityOpt: []string{"no-new-privileges:false", `seccomp:{"defaultAction":"SCMP_ACT_ALLOW"}`},
		Mounts:      []api.MountRequest{{Target: "/data/"}},
	}
	keep := clone(in)
	out, warnings, err := Normalize(in, ctrconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q", warnings)
	}
	want := ctrconfig.Config{
		Image: "busybox", Name: "web", Tty: true, Stdin: true, Network: "bridge",
		Resources: ctrconfig.Resources{Memory: 64 << 20, ShmSize: 128 << 20, CpusetCpus: "0"},
		Publish: []netport.Port{{ContainerPort: 53, Proto: "udp"}, {HostPort: 81, ContainerPort: 80, Proto: "tcp"},
			{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		ExtraHosts:     []string{"a:10.0.0.1", "b:::1"},
		SecurityOpt:    []string{"no-new-privileges=false"},
		SeccompProfile: json.RawMessage(`{"defaultAction":"SCMP_ACT_ALLOW"}`),
		Mounts:         []ctrconfig.Mount{{Type: "volume", Target: "/data"}},
		Restart:        ctrconfig.RestartPolicy{Name: "no"},
	}
	if !reflect.DeepEqual(out, want) {
		g, _ := json.Marshal(out)
		w, _ := json.Marshal(want)
		t.Errorf("Normalize\n got %s\nwant %s", g, w)
	}
	if !reflect.DeepEqual(in, keep) {
		t.Errorf("Normalize changed its argument: %+v", in)
	}

	// Host network drops published ports with a warning; label is ignored with one.
	out, warnings, err = Normalize(api.CreateRequest{Image: "x", Network: "host", Publish: []api.PortBinding{{ContainerPort: 80}},
		SecurityOpt: []string{"label=disable"}}, ctrconfig.Options{})
	if err != nil || out.Publish != nil || len(warnings) != 2 {
		t.Errorf("host network: publish %v, warnings %q, err %v", out.Publish, warnings, err)
	}
}

// Without host figures (the CLI's case) the absolute bounds still hold.
func TestNormalizeUnknownHost(t *testing.T) {
	for _, r := range []api.CreateRequest{
		{Image: "x", CPUs: 1e308},
		{Image: "x", CPU: math.Inf(1)},
	} {
		if _, _, err := Normalize(r, ctrconfig.Options{}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("Normalize(%+v) = %v, want invalid", r, err)
		}
	}
	if _, _, err := Normalize(api.CreateRequest{Image: "x", CPUs: 64, CpusetCpus: "0-63"}, ctrconfig.Options{}); err != nil {
		t.Errorf("64 CPUs on an unknown host: %v", err)
	}
}

func TestParsePublish(t *testing.T) {
	for in, want := range map[string][]api.PortBinding{
		"80":                {{ContainerPort: 80, Protocol: "tcp"}},
		"8080:80/udp":       {{HostPort: 8080, ContainerPort: 80, Protocol: "udp"}},
		"127.0.0.1::53":     {{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "tcp"}},
		"0.0.0.0:81:80/TCP": {{HostIP: "0.0.0.0", HostPort: 81, ContainerPort: 80, Protocol: "tcp"}},
		"8000-8001:80-81":   {{HostPort: 8000, ContainerPort: 80, Protocol: "tcp"}, {HostPort: 8001, ContainerPort: 81, Protocol: "tcp"}},
		"[::1]:8080:80":     {{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
	} {
		got, err := ParsePublish(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "99999", "a:b", "1:2:3:4", "80-79", "8080:80-81", "[::1]:80", "80/"} {
		if _, err := ParsePublish(in); err == nil {
			t.Errorf("ParsePublish(%q) accepted", in)
		}
	}
}

func TestExpose(t *testing.T) {
	r, _, err := Normalize(api.CreateRequest{Image: "x", Expose: []string{"80", "53/udp", "8000-8002/tcp", "80/tcp"}}, ctrconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Expose, " "); got != "80/tcp 53/udp 8000/tcp 8001/tcp 8002/tcp" {
		t.Errorf("expose = %q", got)
	}
	for _, bad := range []string{"0", "80/sctp", "9-1", "x", "1-65535"} {
		_, _, err := Normalize(api.CreateRequest{Image: "x", Expose: []string{bad}}, ctrconfig.Options{})
		var fe *ctrconfig.FieldError
		if !errors.As(err, &fe) || fe.Field != "expose[0]" {
			t.Errorf("--expose %s: %v, want a refusal of expose[0]", bad, err)
		}
	}
}
