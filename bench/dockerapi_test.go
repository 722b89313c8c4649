package bench

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/testutil"
)

// dockerCLI is Debian's docker.io client (scripts/install-deps.sh).
const dockerCLI = "/usr/bin/docker"

// startDockerDaemon is startDaemon with Docker's API on a socket of the data root.
func startDockerDaemon(b *testing.B) (*daemonProc, string) {
	root := b.TempDir()
	sock := filepath.Join(root, "docker.sock")
	d, _ := startDaemon(b, root, "MINIBOX_BRIDGE_ON_STARTUP=0", "MINIBOX_DOCKER_API=unix://"+sock)
	importBusybox(b, d)
	return d, sock
}

// BenchmarkDockerRunTrue: `docker run --rm --network none busybox true` through miniboxd's
// Docker API against `minibox run --rm --network none busybox true`, and the same docker
// command against a private dockerd, alternated in the same run (goal: at most 1.5x of
// minibox's own run). `docker --version`, timed in the same loop, is the CLI's own start,
// which no daemon can shorten.
func BenchmarkDockerRunTrue(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	if _, err := os.Stat(dockerCLI); err != nil {
		b.Fatalf("%s: run scripts/install-deps.sh (docker.io)", dockerCLI)
	}
	d, sock := startDockerDaemon(b)
	bin := minibox(b)
	cfg := b.TempDir()
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr, "DOCKER_HOST=unix://"+sock, "DOCKER_CONFIG="+cfg)
		t := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v %s", name, args, err, out)
		}
		return time.Since(t)
	}
	mbArgs := []string{"run", "--rm", "--network", "none", "busybox", "true"}
	run(bin, mbArgs...) // unpack the layer once
	run(dockerCLI, mbArgs...)
	peer, err := startDockerdPeer(b)
	if err != nil {
		b.Fatalf("the dockerd peer cannot run here: %v", err)
	}
	peerRun := func() time.Duration {
		t := time.Now()
		if out, err := peer.docker(mbArgs...); err != nil {
			b.Fatalf("docker %v on dockerd: %v %s", mbArgs, err, out)
		}
		return time.Since(t)
	}
	peerRun()
	for i := 0; i < b.N; i++ {
		var mb, dk, floor, dockerd []time.Duration
		for j := 0; j < 15; j++ {
			mb = append(mb, run(bin, mbArgs...))
			dk = append(dk, run(dockerCLI, mbArgs...))
			floor = append(floor, run(dockerCLI, "--version"))
			dockerd = append(dockerd, peerRun())
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(median(dk)), "ms-docker-run")
		b.ReportMetric(ms(median(mb)), "ms-minibox-run")
		b.ReportMetric(ms(median(dk))/ms(median(mb)), "ratio-docker-vs-minibox")
		b.ReportMetric(ms(median(dockerd)), "ms-docker-run-on-dockerd")
		b.ReportMetric(ms(median(dk))/ms(median(dockerd)), "ratio-vs-dockerd")
		// The docker CLI's own start (a 50 MB binary) is no part of the daemon: what is
		// left of its run once that is taken off is what miniboxd's Docker edge costs.
		b.ReportMetric(ms(median(floor)), "ms-docker-version")
		b.ReportMetric((ms(median(dk))-ms(median(floor)))/ms(median(mb)), "ratio-net-of-cli-start")
	}
}

// BenchmarkDockerContainerList: GET /v1.41/containers/json?all=1 with 50 containers
// through the Docker API on its unix socket (goal: above 20k req/s), beside the native
// GET /containers of the same daemon and the same request to a private dockerd holding
// 50, on its unix socket too, in the same run.
func BenchmarkDockerContainerList(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d, sock := startDockerDaemon(b)
	for i := 0; i < 50; i++ {
		var out struct{ ID string }
		if err := d.api.JSON(context.Background(), "POST", "/containers/create", nil,
			map[string]any{"image": "busybox", "command": []string{"true"}, "network": "none"}, &out); err != nil {
			b.Fatal(err)
		}
	}
	peer, err := startDockerdPeer(b)
	if err != nil {
		b.Fatalf("the dockerd peer cannot run here: %v", err)
	}
	peer.createContainers(b, 50)
	for i := 0; i < b.N; i++ {
		rps, p99 := loadUnix(sock, "/v1.41/containers/json?all=1", 16, 3*time.Second)
		native, _ := load(d.addr, "/containers", 16, 3*time.Second)
		dockerd, dockerdP99 := loadUnix(peer.sock, "/v1.41/containers/json?all=1", 16, 3*time.Second)
		b.ReportMetric(rps, "docker-list-req/s")
		b.ReportMetric(float64(p99.Microseconds()), "docker-p99-µs")
		b.ReportMetric(rps/native, "ratio-vs-native-list")
		b.ReportMetric(dockerd, "dockerd-list-req/s")
		b.ReportMetric(rps/dockerd, "ratio-vs-dockerd")
		b.Logf("GET /containers/json with 50 containers: %.0f req/s (native API %.0f), p99 %v; dockerd, same run: %.0f req/s, p99 %v",
			rps, native, p99, dockerd, dockerdP99)
	}
}

// loadUnix is load over a unix socket: conns clients, each one request at a time.
func loadUnix(sock, path string, conns int, dur time.Duration) (float64, time.Duration) {
	client := func() *fasthttp.HostClient {
		return &fasthttp.HostClient{Addr: "docker", MaxConns: 1, Dial: func(string) (net.Conn, error) { return net.Dial("unix", sock) }}
	}
	return loadClients(client, "http://docker"+path, nil, conns, dur)
}
