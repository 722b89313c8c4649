package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/testutil"
)

// dockerdBin and containerdBin are Debian's docker.io and containerd (scripts/install-deps.sh
// installs them and keeps their services from starting).
const (
	dockerdBin    = "/usr/sbin/dockerd"
	containerdBin = "/usr/bin/containerd"
)

// dockerdPeer is a private dockerd 20.10 (BuildKit is built into it) over a private
// containerd, everything under one temporary directory: it touches neither the host's
// firewall, nor /run/containerd, nor /var/lib/docker. The benchmarks measure Docker's
// figures on it in the same run as minibox's: builds, idle memory, container lists.
type dockerdPeer struct {
	dir        string
	sock       string
	containerd *exec.Cmd
	dockerd    *exec.Cmd
	ctdLog     bytes.Buffer
	dockerLog  bytes.Buffer
	forward    string   // the iptables FORWARD policy before the start ("" without iptables)
	made       []string // host directories dockerd or runc create that did not exist before
	cgroup     string   // the cgroup parent of BuildKit's steps, a name of this run's own
	stopped    bool
	containers int          // created by createContainers
	client     *http.Client // the Engine API over sock, its connections kept between requests
}

// iptablesForward returns the FORWARD chain's policy, "" when iptables is not installed.
func iptablesForward() (string, error) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return "", nil
	}
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if err != nil {
		return "", fmt.Errorf("iptables -S FORWARD: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "-P" && f[1] == "FORWARD" {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("iptables -S FORWARD printed no policy: %q", out)
}

// waitSocket waits until a unix socket accepts, or the process exits or 60 s pass.
func waitSocket(path string, cmd *exec.Cmd, exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited: %v", filepath.Base(cmd.Path), cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not listen on %s within 60 s", filepath.Base(cmd.Path), path)
}

// startDockerdPeer starts containerd and dockerd on dir and imports testdata/busybox.tar
// as busybox (a root filesystem tar: `docker import`, the peer of `minibox import`). The
// error says why the peer cannot run here, with the daemons' last log lines.
func startDockerdPeer(b *testing.B) (*dockerdPeer, error) {
	for _, p := range []string{dockerdBin, containerdBin, dockerCLI} {
		if _, err := os.Stat(p); err != nil {
			testutil.Unavailable(b, "%s: run scripts/install-deps.sh (docker.io, containerd)", p)
		}
	}
	// A short directory: containerd's and dockerd's sockets live in it (108-byte limit).
	dir, err := os.MkdirTemp("", "mbbk")
	if err != nil {
		return nil, err
	}
	p := &dockerdPeer{dir: dir, sock: filepath.Join(dir, "docker.sock"), cgroup: filepath.Base(dir)}
	p.client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", p.sock)
	}}}
	b.Cleanup(func() { p.stop(b) })
	if p.forward, err = iptablesForward(); err != nil {
		return nil, err
	}
	for _, d := range []string{"/run/docker", "/run/runc"} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			p.made = append(p.made, d)
		}
	}
	ctd := filepath.Join(dir, "containerd")
	if err := os.MkdirAll(ctd, 0o700); err != nil {
		return nil, err
	}
	ctdSock := filepath.Join(ctd, "containerd.sock")
	// The CRI plugin is off: it would look for CNI and set up networking of its own.
	ctdConfig := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(ctd, "root"), filepath.Join(ctd, "state"), ctdSock, ctdSock+".ttrpc",
		filepath.Join(ctd, "debug.sock"), filepath.Join(ctd, "opt"))
	if err := os.WriteFile(filepath.Join(ctd, "config.toml"), []byte(ctdConfig), 0o600); err != nil {
		return nil, err
	}
	p.containerd = exec.Command(containerdBin, "--config", filepath.Join(ctd, "config.toml"), "--log-level", "warn")
	p.containerd.Stdout, p.containerd.Stderr = &p.ctdLog, &p.ctdLog
	if err := p.containerd.Start(); err != nil {
		return nil, err
	}
	ctdExited := make(chan struct{})
	go func() { p.containerd.Wait(); close(ctdExited) }()
	if err := waitSocket(ctdSock, p.containerd, ctdExited); err != nil {
		return nil, fmt.Errorf("%v\ncontainerd log:\n%s", err, tail(p.ctdLog.String(), 20))
	}
	// The daemon's identity key would go to /etc/docker/key.json: keep it here too.
	cfg := fmt.Sprintf(`{"deprecated-key-path": %q}`, filepath.Join(dir, "key.json"))
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	p.dockerd = exec.Command(dockerdBin, "--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", "unix://"+p.sock,
		"--containerd", ctdSock, "--iptables=false", "--ip-forward=false", "--ip-masq=false",
		"--bridge=none", "--cgroup-parent", "/"+p.cgroup, "--log-level", "warn")
	p.dockerd.Stdout, p.dockerd.Stderr = &p.dockerLog, &p.dockerLog
	if err := p.dockerd.Start(); err != nil {
		return nil, err
	}
	dockerdExited := make(chan struct{})
	go func() { p.dockerd.Wait(); close(dockerdExited) }()
	if err := waitSocket(p.sock, p.dockerd, dockerdExited); err != nil {
		return nil, fmt.Errorf("%v\ndockerd log:\n%s", err, tail(p.dockerLog.String(), 20))
	}
	tarball, _ := filepath.Abs("../testdata/busybox.tar")
	if out, err := p.docker("import", tarball, "busybox"); err != nil {
		return nil, fmt.Errorf("docker import %s: %v %s", tarball, err, out)
	}
	return p, nil
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// docker runs the 20.10 CLI against the peer, with BuildKit on (no buildx needed).
func (p *dockerdPeer) docker(args ...string) ([]byte, error) {
	cmd := exec.Command(dockerCLI, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+p.sock, "DOCKER_CONFIG="+filepath.Join(p.dir, "cli"), "DOCKER_BUILDKIT=1")
	return cmd.CombinedOutput()
}

// stopPID sends SIGTERM to cmd's process and waits for its exit (SIGKILL after 30 s).
func stopPID(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; i < 3000; i++ {
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
}

// stop ends dockerd then containerd by their PIDs, removes their directories and what
// they left on the host, and puts the FORWARD policy back if it changed. Once is enough:
// a benchmark that is done with the peer early stops it then, and the cleanup does nothing.
func (p *dockerdPeer) stop(b *testing.B) {
	if p.stopped {
		return
	}
	p.stopped = true
	p.client.CloseIdleConnections()
	stopPID(p.dockerd)
	stopPID(p.containerd)
	if err := os.RemoveAll(p.dir); err != nil {
		b.Errorf("remove the dockerd peer's directory: %v", err)
	}
	// dockerd makes /run/docker/plugins, runc /run/runc: remove them when they did not
	// exist before and are empty (Remove refuses a non-empty directory).
	for _, d := range p.made {
		os.Remove(filepath.Join(d, "plugins"))
		os.Remove(d)
	}
	// BuildKit's steps ran in cgroups under p.cgroup (in every v1 hierarchy, or v2's).
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", p.cgroup))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", p.cgroup))
	for _, d := range dirs {
		if err := cgroup.RemoveTree(d, time.Now().Add(5*time.Second)); err != nil {
			b.Errorf("remove BuildKit's cgroup %s: %v", d, err)
		}
	}
	if p.forward == "" {
		return
	}
	now, err := iptablesForward()
	if err != nil {
		b.Errorf("check the FORWARD policy after dockerd: %v", err)
		return
	}
	if now != p.forward {
		out, err := exec.Command("iptables", "-P", "FORWARD", p.forward).CombinedOutput()
		b.Errorf("dockerd changed the iptables FORWARD policy from %s to %s; restored (%v %s)", p.forward, now, err, out)
	}
}

// build times `docker build` of ctxDir on the peer and checks, from BuildKit's plain
// progress, that the steps named in wantCached were cached and those in wantBuilt were not.
func (p *dockerdPeer) build(b *testing.B, ctxDir string, wantCached, wantBuilt []string) time.Duration {
	t := time.Now()
	// RUN steps on the host's network, as minibox's are.
	out, err := p.docker("build", "-t", "bench-df", "--progress", "plain", "--network", "host", ctxDir)
	el := time.Since(t)
	if err != nil {
		b.Fatalf("docker build (BuildKit): %v\n%s", err, out)
	}
	steps := buildkitSteps(string(out))
	for _, s := range wantCached {
		if steps[s] != "CACHED" {
			b.Fatalf("BuildKit: want %q cached, got %q:\n%s", s, steps[s], out)
		}
	}
	for _, s := range wantBuilt {
		if steps[s] != "DONE" {
			b.Fatalf("BuildKit: want %q built, got %q:\n%s", s, steps[s], out)
		}
	}
	return el
}

// buildkitSteps maps each step of BuildKit's plain progress ("#5 [one 2/2] RUN sleep 2
// ...") by its instruction text to how it ended: DONE or CACHED.
func buildkitSteps(out string) map[string]string {
	names, ends := map[string]string{}, map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		id, rest, ok := strings.Cut(l, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "["):
			if _, instr, ok := strings.Cut(rest, "] "); ok {
				names[id] = instr
			}
		case rest == "CACHED" || strings.HasPrefix(rest, "DONE"):
			ends[id] = strings.Fields(rest)[0]
		}
	}
	m := map[string]string{}
	for id, n := range names {
		m[n] = ends[id]
	}
	return m
}

// api sends one request to the peer's Engine API and decodes a JSON answer into out
// (when not nil); a status of 300 or more is an error with the answer's text.
func (p *dockerdPeer) api(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://docker"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// createContainers creates containers of busybox on the peer (not started, as minibox's
// in BenchmarkContainerList) until it has n, a few requests at a time.
func (p *dockerdPeer) createContainers(b *testing.B, n int) {
	var g errgroup.Group
	g.SetLimit(4)
	for ; p.containers < n; p.containers++ {
		g.Go(func() error {
			return p.api("POST", "/v1.41/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "NetworkDisabled": true}, nil)
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatalf("dockerd peer: create containers: %v", err)
	}
}

// idleRSS is dockerd's and containerd's resident sets, in KiB.
func (p *dockerdPeer) idleRSS() (dockerd, containerd int) {
	return rssKB(p.dockerd.Process.Pid), rssKB(p.containerd.Process.Pid)
}
