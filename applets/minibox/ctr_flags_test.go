package minibox

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/ctrreq"
	"github.com/minibox/minibox/pkg/errdefs"
)

// parseCLI parses args with the real grammar, without exiting or printing.
func parseCLI(t *testing.T, args ...string) (*CLI, *kong.Context, error) {
	t.Helper()
	var cli CLI
	var out bytes.Buffer
	p, err := kong.New(&cli, kong.Name("minibox"), kong.Exit(func(int) { t.Fatalf("kong exited on %q", args) }), kong.Writers(&out, &out))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := p.Parse(args)
	return &cli, kctx, err
}

// runRequest parses a `run` command line into its CreateRequest.
func runRequest(t *testing.T, env map[string]string, args ...string) (*api.CreateRequest, []string, error) {
	t.Helper()
	cli, _, err := parseCLI(t, append([]string{"run"}, args...)...)
	if err != nil {
		return nil, nil, err
	}
	c := cli.ContainerCmds.Run
	image, cmd, err := imageAndCommand(c.Args)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	req, err := c.request(func(k string) string { return env[k] }, image, cmd, func(f string, a ...any) {
		warnings = append(warnings, f)
	})
	return req, warnings, err
}

func intp(n int) *int { return &n }

func TestRunFlagsToRequest(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	seccomp := filepath.Join(dir, "prof.json")
	os.WriteFile(seccomp, []byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), 0o644)
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("# comment\n\nA=1\nFROMENV\nMISSING\nB=x=y\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	env := map[string]string{"FROMENV": "hello", "HOME": "/home/u"}

	tests := []struct {
		name string
		args []string
		want func(r *api.CreateRequest)
	}{
		{"command after image keeps its flags", []string{"-d", "--rm", "img", "ls", "-l", "--rm"}, func(r *api.CreateRequest) {
			r.Detached, r.AutoRemove, r.Command = true, true, []string{"ls", "-l", "--rm"}
		}},
		{"combined booleans", []string{"-dit", "img"}, func(r *api.CreateRequest) {
			r.Detached, r.Stdin, r.Tty = true, true, true
		}},
		{"flags with = and --", []string{"--name=web", "--hostname", "h1", "--", "img", "sh", "-c", "echo a,b"}, func(r *api.CreateRequest) {
			r.Name, r.Hostname, r.Command = "web", "h1", []string{"sh", "-c", "echo a,b"}
		}},
		{"env and env file", []string{"-e", "X=1,2", "-e", "FROMENV", "-e", "UNSET", "--env-file", envFile, "img"}, func(r *api.CreateRequest) {
			r.Env = []string{"A=1", "FROMENV=hello", "B=x=y", "X=1,2", "FROMENV=hello"}
		}},
		{"sizes", []string{"-m", "512", "--memory-swap", "-1", "--shm-size", "1g", "img"}, func(r *api.CreateRequest) {
			r.MemoryBytes, r.MemorySwap, r.ShmSizeBytes = 512<<20, -1, 1<<30
		}},
		{"size suffixes", []string{"-m", "6144k", "--memory-swap", "7340032b", "img"}, func(r *api.CreateRequest) {
			r.MemoryBytes, r.MemorySwap = 6<<20, 7<<20
		}},
		{"cpu", []string{"-c", "50", "--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0-1", "--pids-limit", "20", "img"}, func(r *api.CreateRequest) {
			r.CPU, r.CPUs, r.CPUShares, r.CpusetCpus, r.PidsLimit = 50, 1.5, 512, "0-1", 20
		}},
		{"ports", []string{"-p", "8080:80", "-p", "127.0.0.1::53/udp", "-p", "9000", "-p", "10.0.0.1:81:80/tcp", "img"}, func(r *api.CreateRequest) {
			r.Publish = []api.PortBinding{
				{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
				{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "udp"},
				{ContainerPort: 9000, Protocol: "tcp"},
				{HostIP: "10.0.0.1", HostPort: 81, ContainerPort: 80, Protocol: "tcp"},
			}
		}},
		{"volumes", []string{"-v", "/srv:/srv:ro", "-v", "./data:/data", "-v", "~/x:/x", "-v", "data:/vol", "-v", "/anon", "-v", ".:/cwd", "img"}, func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{
				{Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true},
				{Type: "bind", Source: filepath.Join(dir, "data"), Target: "/data"},
				{Type: "bind", Source: "/home/u/x", Target: "/x"},
				{Type: "volume", Source: "data", Target: "/vol"},
				{Type: "volume", Target: "/anon"},
				{Type: "bind", Source: dir, Target: "/cwd"},
			}
		}},
		{"mount and tmpfs", []string{"--mount", "type=bind,source=/etc,target=/h,readonly", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777", "--mount", "source=v1,target=/v", "--tmpfs", "/run:size=64m", "img"}, func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{
				{Type: "bind", Source: "/etc", Target: "/h", ReadOnly: true},
				{Type: "tmpfs", Target: "/t", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
				{Type: "volume", Source: "v1", Target: "/v"},
			}
			r.Tmpfs = []string{"/run:size=64m"}
		}},
		{"entrypoint cleared", []string{"--entrypoint", "", "img", "true"}, func(r *api.CreateRequest) {
			r.Entrypoint, r.Command = &[]string{}, []string{"true"}
		}},
		{"entrypoint set", []string{"--entrypoint=/bin/echo", "img"}, func(r *api.CreateRequest) {
			r.Entrypoint = &[]string{"/bin/echo"}
		}},
		{"health", []string{"--health-cmd", "test -f /ok", "--health-interval", "2", "--health-timeout", "500ms", "--health-retries", "5", "--health-start-period", "1m30s", "img"}, func(r *api.CreateRequest) {
			r.Healthcheck = &api.Healthcheck{Test: []string{"CMD-SHELL", "test -f /ok"}, Interval: 2e9, Timeout: 5e8, Retries: 5, StartPeriod: 90e9}
		}},
		{"no healthcheck", []string{"--no-healthcheck", "img"}, func(r *api.CreateRequest) {
			r.Healthcheck = &api.Healthcheck{Test: []string{"NONE"}, Disable: true}
		}},
		{"security and limits", []string{"--cap-add", "NET_ADMIN", "--cap-drop", "ALL", "--security-opt", "seccomp=" + seccomp, "--security-opt", "no-new-privileges", "--ulimit", "nofile=1024:2048", "--oom-score-adj", "-500", "--sysctl", "net.ipv4.ip_forward=1", "img"}, func(r *api.CreateRequest) {
			r.CapAdd, r.CapDrop = []string{"NET_ADMIN"}, []string{"ALL"}
			r.SeccompProfile = json.RawMessage(`{"defaultAction":"SCMP_ACT_ERRNO"}`)
			r.SecurityOpt = []string{"no-new-privileges"}
			r.Ulimits = []string{"nofile=1024:2048"}
			r.OOMScoreAdj = intp(-500)
			r.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}},
		{"lifecycle", []string{"--restart", "on-failure:3", "--stop-signal", "SIGINT", "--stop-timeout", "3", "-l", "a=b", "-l", "flag", "--network", "none", "--dns", "1.1.1.1", "--add-host", "db:10.0.0.2", "--pull", "never", "--lazy", "-u", "1000:1000", "-w", "/tmp", "--read-only", "-P", "img"}, func(r *api.CreateRequest) {
			r.Restart, r.StopSignal, r.StopTimeout = "on-failure:3", "SIGINT", intp(3)
			r.Labels = map[string]string{"a": "b", "flag": ""}
			r.Network, r.DNS, r.ExtraHosts, r.Pull = "none", []string{"1.1.1.1"}, []string{"db:10.0.0.2"}, "never"
			t := true
			r.Lazy = &t
			r.User, r.WorkingDir, r.ReadOnly, r.PublishAll = "1000:1000", "/tmp", true, true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := runRequest(t, env, tt.args...)
			if err != nil {
				t.Fatalf("run %q: %v", tt.args, err)
			}
			want := &api.CreateRequest{Image: "img"}
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("run %q\n got %s\nwant %s", tt.args, g, w)
			}
		})
	}
}

func TestRunFlagsVolumeNameWarning(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.Mkdir("data", 0o755)
	_, warnings, err := runRequest(t, nil, "-v", "data:/data", "img")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "write ./%s:%s to bind it") {
		t.Errorf("warnings = %q, want one about ./data", warnings)
	}
}

func TestRunFlagsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--rm", "--restart", "always", "img"},
		{"--restart", "sometimes", "img"},
		{"-m", "lots", "img"},
		{"-p", "80:80/sctp", "img"},
		{"-p", "99999", "img"},
		{"-p", "a:b:c:d", "img"},
		{"-v", "a:b:c:d", "img"},
		{"-v", "data:relative", "img"},
		{"-v", "/a:/b:rx", "img"},
		{"-v", ":/x", "img"},
		{"-v", "/a:", "img"},
		{"--mount", "type=bind,target=/x", "img"},
		{"--mount", "type=nfs,target=/x", "img"},
		{"--ulimit", "nofile", "img"},
		{"--health-interval", "soon", "img"},
		{"--network", "not/a-name", "img"},
		{"--network", "", "img"},
		{"--security-opt", "seccomp=/does/not/exist", "img"},
		{"--add-host", "nohost", "img"},
		{"--env-file", "/does/not/exist", "img"},
		{"--sysctl", "novalue", "img"},
		{},
	} {
		_, _, err := runRequest(t, nil, args...)
		var ee *errdefs.ExitError
		var pe *kong.ParseError
		if !errors.As(err, &pe) && (!errors.As(err, &ee) || ee.Code != 2) {
			t.Errorf("run %q: err = %v, want a usage error (exit 2)", args, err)
		}
	}
}

// The daemon's validator runs in the CLI: a bad value is a usage error (exit 2) that names
// the flag and the API field, before any request.
func TestRunFlagsFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", "1k", "img"}, "--memory: memory_bytes: "},
		{[]string{"--cpus", "1e308", "img"}, "--cpus: cpus: "},
		{[]string{"--cpuset-cpus", "abc", "img"}, "--cpuset-cpus: cpuset_cpus: "},
		{[]string{"--dns", "1.1.1.1", "--dns", "not-an-ip", "img"}, "--dns: dns[1]: "},
		{[]string{"--user=-1", "img"}, "--user: user: "},
		{[]string{"--platform", "windows/amd64", "img"}, "--platform: platform: "},
		{[]string{"--hostname", "a\nb", "img"}, "--hostname: hostname: "},
		{[]string{"--dns-search", "x\nnameserver 1.2.3.4", "img"}, "--dns-search: dns_search[0]: "},
		{[]string{"--add-host", "h:1.2.3.4\n5.6.7.8 evil", "img"}, "--add-host: extra_hosts[0]: "},
		{[]string{"--oom-score-adj", "2000", "img"}, "--oom-score-adj: oom_score_adj: "},
		{[]string{"--blkio-weight", "5", "img"}, "--blkio-weight: blkio_weight: "},
		{[]string{"--ulimit", "nofile=2048:1024", "img"}, "--ulimit: ulimits[0]: "},
		{[]string{"--rm", "--restart", "always", "img"}, "--restart: restart: "},
		{[]string{"--stop-signal", "SIGBOGUS", "img"}, "--stop-signal: stop_signal: "},
		{[]string{"--health-retries=-1", "img"}, "--health-*: healthcheck.retries: "},
		{[]string{"--tmpfs", "/run:suid", "img"}, "--tmpfs: tmpfs[0]: "},
		{[]string{"-v", "data:relative", "img"}, "-v/--mount: mounts[0].target: "},
		{[]string{"--cap-add", "FLY", "img"}, "--cap-add: cap_add[0]: "},
		{[]string{"--sysctl", "kernel.panic=1", "img"}, "--sysctl: sysctls[\"kernel.panic\"]: "},
		{[]string{"--security-opt", "bogus", "img"}, "--security-opt: security_opt[0]: "},
		{[]string{"-p", "[::1]:8080:80", "img"}, "-p: publish[0].host_ip: "},
	} {
		_, _, err := runRequest(t, nil, tc.args...)
		var ee *errdefs.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("run %q: err = %v, want exit 2 with %q", tc.args, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512 << 20, "512m": 512 << 20, "512M": 512 << 20, "512mb": 512 << 20,
		"1g": 1 << 30, "1.5g": 3 << 29, "10k": 10 << 10, "100b": 100, "2GiB": 2 << 30, "0": 0} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "b", "m", "-1", "1x", "abc"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]string{"30": "30s", "500ms": "500ms", "1m30s": "1m30s", "0": "0s"} {
		got, err := parseDuration(in)
		if err != nil || got.String() != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "x", "1y"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q): no error", in)
		}
	}
}

func TestPublishRanges(t *testing.T) {
	got, err := ctrreq.ParsePublish("8000-8001:80-81/udp")
	if err != nil {
		t.Fatal(err)
	}
	want := []api.PortBinding{{HostPort: 8000, ContainerPort: 80, Protocol: "udp"}, {HostPort: 8001, ContainerPort: 81, Protocol: "udp"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("publishFlag = %+v, want %+v", got, want)
	}
	got, err = ctrreq.ParsePublish("[::1]:8080:80")
	if err != nil || len(got) != 1 || got[0].HostIP != "::1" || got[0].HostPort != 8080 {
		t.Errorf("ParsePublish([::1]:8080:80) = %+v, %v", got, err)
	}
	for _, p := range []string{"8000-8002:80-81", "8080:80-81"} {
		if _, err := ctrreq.ParsePublish(p); err == nil {
			t.Errorf("ParsePublish(%s): ranges of different lengths accepted", p)
		}
	}
}

func TestCommandLinesParse(t *testing.T) {
	tests := []struct {
		args []string
		path string
	}{
		{[]string{"exec", "-it", "web", "sh", "-c", "ls -l"}, "exec"},
		{[]string{"container", "ls", "-a"}, "container ls"},
		{[]string{"container", "rm", "-fv", "a", "b"}, "container rm"},
		{[]string{"stop", "-t", "3", "web"}, "stop"},
		{[]string{"stop", "web", "-t", "3"}, "stop"},
		{[]string{"kill", "-s", "TERM", "a"}, "kill"},
		{[]string{"logs", "-f", "--tail", "5", "-t", "web"}, "logs"},
		{[]string{"ps", "-aq", "--filter", "label=a=b", "--filter", "status=exited"}, "ps"},
		{[]string{"inspect", "-f", "{{.State.ExitCode}}", "--type", "container", "web"}, "inspect"},
		{[]string{"cp", "-L", "web:/etc/hosts", "-"}, "cp"},
		{[]string{"volume", "create", "-l", "a=b", "v1"}, "volume create"},
		{[]string{"volume", "ls", "-q"}, "volume ls"},
		{[]string{"volume", "rm", "-f", "v1"}, "volume rm"},
		{[]string{"db", "run", "--data", "/data", "-e", "A=1", "postgres:15"}, "db run"},
		{[]string{"db", "console", "pg"}, "db shell"},
		{[]string{"stats", "--no-stream", "--json"}, "stats"},
		{[]string{"attach", "--no-stdin", "--detach-keys", "ctrl-x", "web"}, "attach"},
		{[]string{"start", "-ai", "web"}, "start"},
		{[]string{"port", "web", "80/tcp"}, "port"},
	}
	for _, tt := range tests {
		cli, kctx, err := parseCLI(t, tt.args...)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if got := strings.Join(strings.Fields(kctx.Command()), " "); !strings.HasPrefix(got, tt.path) {
			t.Errorf("%q selected %q, want %q", tt.args, got, tt.path)
		}
		_ = cli
	}
	cli, _, _ := parseCLI(t, "exec", "-e", "A=1", "web", "sh", "-e", "x")
	if got := cli.ContainerCmds.Exec.Args; !reflect.DeepEqual(got, []string{"web", "sh", "-e", "x"}) {
		t.Errorf("exec args = %q", got)
	}
	if got := cli.ContainerCmds.Exec.Env; !reflect.DeepEqual(got, []string{"A=1"}) {
		t.Errorf("exec -e = %q", got)
	}
	cli, _, _ = parseCLI(t, "stop", "web", "-t", "3")
	if cli.ContainerCmds.Stop.Time == nil || *cli.ContainerCmds.Stop.Time != 3 {
		t.Errorf("stop web -t 3: time = %v", cli.ContainerCmds.Stop.Time)
	}
	cli, _, _ = parseCLI(t, "ps", "-f", "name=a")
	if got := cli.ContainerCmds.Ps.Filter; !reflect.DeepEqual(got, []string{"name=a"}) {
		t.Errorf("ps -f = %q", got)
	}
	if _, _, err := parseCLI(t, "ps", "--bogus"); err == nil {
		t.Error("ps --bogus parsed")
	}
}

func TestDBName(t *testing.T) {
	for in, want := range map[string]string{"postgres:15": "postgres-15", "docker.io/library/redis:7.2": "docker-io-library-redis-7-2",
		"mongo@sha256:ab": "mongo-sha256-ab"} {
		if got := dbName(in); got != want {
			t.Errorf("dbName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDBClient(t *testing.T) {
	env := []string{"MONGO_INITDB_ROOT_USERNAME=root", "MONGO_INITDB_ROOT_PASSWORD=pw"}
	for in, want := range map[string]string{
		"redis:7": "redis-cli", "docker.io/library/postgres:15": "psql -U postgres",
		"mongo": "mongosh -u root -p pw --authenticationDatabase admin", "mariadb:11": "mysql -uroot",
		"mysql:8": "mysql -uroot", "busybox": "/bin/sh",
	} {
		if got := strings.Join(dbClient(in, env), " "); got != want {
			t.Errorf("dbClient(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDBRunDefaults(t *testing.T) {
	cli, _, err := parseCLI(t, "db", "run", "-e", "POSTGRES_PASSWORD=x", "postgres:15")
	if err != nil {
		t.Fatal(err)
	}
	c := cli.ContainerCmds.DB.Run
	if c.Data != "/var/lib/minibox-data" {
		t.Errorf("--data default = %q", c.Data)
	}
	if !strings.Contains(c.Help(), "SYS_NICE") || !strings.Contains(c.Help(), "-900") || !strings.Contains(c.Help(), "256 MiB") {
		t.Errorf("db run help does not list its relaxations:\n%s", c.Help())
	}
}
