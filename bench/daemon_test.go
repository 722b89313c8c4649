package bench

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/testutil"
)

// The figures measured on this machine for the peers (issue texts), for context only:
// ratios below are against baselines measured in the same run.
const (
	dockerdPingRPS  = 45000
	podmanRunMs     = 180
	runcRunMs       = 24
	containerdShimK = 13 * 1024
)

// binary builds the multicall binary once per run (removed by TestMain).
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	leaveHost := testutil.LeaveHostAsFound()
	code := m.Run()
	leaveHost()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func minibox(b *testing.B) string {
	b.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("MINIBOX_BENCH_BIN"); p != "" { // a binary already built (make bench)
			binPath, binErr = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "minibox-bench-bin")
		if err != nil {
			binErr = err
			return
		}
		binDir, binPath = dir, filepath.Join(dir, "minibox")
		// Static and stripped, as shipped (make build): a cgo build maps libc into every shim.
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
		// The fresh binary's pages are still being written back: let the disk settle so
		// the first measurements do not share it with that.
		syscall.Sync()
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binPath
}

type daemonProc struct {
	cmd  *exec.Cmd
	addr string
	root string
	api  *client.Client
	// url is MINIBOX_API for a CLI: http://addr, or unix:///path with
	// MINIBOX_HTTP_ADDR=unix:/path among startDaemon's env.
	url string
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon execs miniboxd on a fresh data root and returns once /ping answers, with
// the time from exec to that first answer.
func startDaemon(b *testing.B, root string, env ...string) (*daemonProc, time.Duration) {
	b.Helper()
	bin := minibox(b)
	addr := freeAddr(b)
	cmd := exec.Command(bin, "daemon")
	cmd.Env = append(os.Environ(), "MINIBOX_DATA_ROOT="+root, "MINIBOX_HTTP_ADDR="+addr, "MINIBOX_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	url := "http://" + addr
	for _, kv := range env {
		if sock, ok := strings.CutPrefix(kv, "MINIBOX_HTTP_ADDR=unix:"); ok {
			url = "unix://" + sock
		}
	}
	c, _ := client.New(url, "")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, addr: addr, root: root, api: c, url: url}
	b.Cleanup(func() { d.stop() })
	hc := &fasthttp.HostClient{Addr: addr}
	for {
		code, _, err := hc.Get(nil, "http://"+addr+"/ping")
		if url != "http://"+addr {
			_, err = c.Ping(context.Background())
			code = 200
		}
		if err == nil && code == 200 {
			return d, time.Since(start)
		}
		if time.Since(start) > 20*time.Second {
			b.Fatalf("daemon did not answer within 20 s: %s", logs.String())
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func (d *daemonProc) stop() {
	if d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	var list map[string]any
	if d.api.JSON(context.Background(), "GET", "/containers", nil, nil, &list) == nil {
		for id := range list {
			d.api.JSON(context.Background(), "POST", "/containers/remove", map[string][]string{"id": {id}, "force": {"1"}, "volumes": {"1"}}, nil, nil)
		}
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.cmd.Wait()
}

// load sends GETs of path over conns keep-alive connections for dur and returns the rate
// and the 99th percentile latency.
func load(addr, path string, conns int, dur time.Duration) (rps float64, p99 time.Duration) {
	return loadWith(addr, path, nil, conns, dur)
}

// loadWith is load with request headers (key, value pairs).
func loadWith(addr, path string, header []string, conns int, dur time.Duration) (rps float64, p99 time.Duration) {
	client := func() *fasthttp.HostClient { return &fasthttp.HostClient{Addr: addr, MaxConns: 1} }
	return loadClients(client, "http://"+addr+path, header, conns, dur)
}

// loadClients runs conns clients made by client, each one GET of uri at a time, for dur.
func loadClients(client func() *fasthttp.HostClient, uri string, header []string, conns int, dur time.Duration) (rps float64, p99 time.Duration) {
	var total atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hc := client()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI(uri)
			for h := 0; h+1 < len(header); h += 2 {
				req.Header.Set(header[h], header[h+1])
			}
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
					continue
				}
				lat[i] = append(lat[i], time.Since(t))
				total.Add(1)
			}
		}(i)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	if len(all) > 0 {
		p99 = all[len(all)*99/100]
	}
	return float64(total.Load()) / dur.Seconds(), p99
}

// loadTool uses wrk (-t2 -c16, as dockerd's 45k req/s was measured here) when it is
// installed, else the Go load generator above.
func loadTool(addr, path string, conns int, dur time.Duration) (float64, time.Duration) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return load(addr, path, conns, dur)
	}
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(dur.Seconds())), "--latency", "http://"+addr+path).Output()
	if err != nil {
		return load(addr, path, conns, dur)
	}
	var rps float64
	var p99 time.Duration
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "99%":
			p99, _ = time.ParseDuration(strings.Replace(f[1], "us", "µs", 1))
		}
	}
	return rps, p99
}

// listSizes is the size of GET /containers' answer, plain and gzipped.
func listSizes(b *testing.B, addr string) (plain, gz int) {
	for i, enc := range []string{"", "gzip"} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + "/containers")
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		if err := fasthttp.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			plain = len(resp.Body())
		} else {
			gz = len(resp.Body())
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	return plain, gz
}

// bareBody serves size bytes on /: what the machine can move for an answer that large.
func bareBody(b *testing.B, size int) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), size)
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.Response.SetBodyRaw(body) }}
	go s.Serve(ln)
	b.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}

// bareServer is the baseline for /ping: the least an HTTP server on this machine does.
func bareServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("Daemon is running") }}
	go s.Serve(ln)
	b.Cleanup(func() { s.Shutdown() })
	return ln.Addr().String()
}

// median is the middle value of v (the upper of the two middle ones for an even count).
func median[T cmp.Ordered](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkDaemonPing: /ping rate and p99 with 16 connections, beside a bare fasthttp
// server in this process, and the time from exec of miniboxd to its first answered ping
// on an empty data root.
func BenchmarkDaemonPing(b *testing.B) {
	testutil.RequirePrivileged(b)
	var firsts []time.Duration
	for i := 0; i < 7; i++ {
		d, first := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_ON_STARTUP=0")
		firsts = append(firsts, first)
		if i < 6 {
			d.stop()
		}
	}
	d, _ := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_ON_STARTUP=0")
	const conns, dur = 16, 3 * time.Second
	base := bareServer(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rps, p99 := loadTool(d.addr, "/ping", conns, dur)
		brps, bp99 := loadTool(base, "/ping", conns, dur)
		b.ReportMetric(rps, "ping-req/s")
		b.ReportMetric(float64(p99.Microseconds()), "ping-p99-µs")
		b.ReportMetric(rps/brps, "ratio-vs-bare-fasthttp")
		b.ReportMetric(rps/dockerdPingRPS, "ratio-vs-dockerd-45k")
		b.ReportMetric(float64(median(firsts).Microseconds())/1000, "ms-exec-to-first-ping")
		b.Logf("/ping: %.0f req/s p99 %v (bare fasthttp %.0f req/s p99 %v; dockerd measured 45k); exec to first ping: median %v of %v",
			rps, p99, brps, bp99, median(firsts), firsts)
	}
}

// BenchmarkContainerList: GET /containers with 50 and 1000 containers, beside GET
// /containers/json?all=1 of a private dockerd holding as many, in the same run.
func BenchmarkContainerList(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d, _ := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_ON_STARTUP=0")
	importBusybox(b, d)
	peer, err := startDockerdPeer(b)
	if err != nil {
		b.Fatalf("the dockerd peer cannot run here: %v", err)
	}
	created := 0
	for _, n := range []int{50, 1000} {
		for ; created < n; created++ {
			var out struct{ ID string }
			if err := d.api.JSON(context.Background(), "POST", "/containers/create", nil,
				map[string]any{"image": "busybox", "command": []string{"true"}, "network": "none"}, &out); err != nil {
				b.Fatal(err)
			}
		}
		peer.createContainers(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rps, p99 := load(d.addr, "/containers", 16, 3*time.Second)
				b.ReportMetric(rps, "list-req/s")
				b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
				// dockerd on its unix socket (no TCP to cross, which minibox's figure
				// pays); it compresses no answer.
				dockerd, dockerdP99 := loadUnix(peer.sock, "/v1.41/containers/json?all=1", 16, 3*time.Second)
				b.ReportMetric(dockerd, "dockerd-list-req/s")
				b.ReportMetric(rps/dockerd, "ratio-vs-dockerd")
				// The ceiling on this machine: a bare server answering a body of the same
				// size, measured right after.
				size, gzSize := listSizes(b, d.addr)
				bare, _ := load(bareBody(b, size), "/", 16, 3*time.Second)
				b.ReportMetric(rps/bare, "ratio-vs-bare-same-size")
				// Clients that accept gzip (Go's net/http, the docker CLI) get the compressed answer.
				gzRPS, gzP99 := loadWith(d.addr, "/containers", []string{"Accept-Encoding", "gzip"}, 16, 3*time.Second)
				b.ReportMetric(gzRPS, "gzip-list-req/s")
				b.ReportMetric(gzRPS/dockerd, "gzip-ratio-vs-dockerd")
				b.Logf("GET /containers with %d containers (%d bytes, %d gzipped): %.0f req/s, p99 %v; bare server with the same body %.0f req/s; with gzip %.0f req/s, p99 %v; dockerd with as many, same run: %.0f req/s, p99 %v",
					n, size, gzSize, rps, p99, bare, gzRPS, gzP99, dockerd, dockerdP99)
			}
		})
	}
}

func importBusybox(b *testing.B, d *daemonProc) {
	tarball, _ := filepath.Abs("../testdata/busybox.tar")
	if _, err := os.Stat(tarball); err != nil {
		b.Fatalf("%s: run `make testdata` first", tarball)
	}
	cmd := exec.Command(minibox(b), "import", tarball, "busybox")
	cmd.Env = append(os.Environ(), "MINIBOX_API="+d.url)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("import: %v %s", err, out)
	}
}

// BenchmarkRunTrue: `minibox run --rm --network none busybox true`, CLI and daemon
// included, beside bare `runc run` of the same rootfs (when runc is installed) and
// unshare+chroot, in the same run; and the shim's resident memory per running container.
func BenchmarkRunTrue(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d, _ := startDaemon(b, b.TempDir())
	importBusybox(b, d)
	bin := minibox(b)
	run := func(args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
		t := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("minibox %v: %v %s", args, err, out)
		}
		return time.Since(t)
	}
	run("run", "--rm", "--network", "none", "busybox", "true") // unpack the layer once
	const n = 30
	var mb, mbBridge, rc, ns []time.Duration
	rootfs := b.TempDir()
	if err := exec.Command("tar", "-xf", "../testdata/busybox.tar", "-C", rootfs).Run(); err != nil {
		b.Fatal(err)
	}
	runcBundle := ""
	if _, err := exec.LookPath("runc"); err == nil {
		runcBundle = makeRuncBundle(b, rootfs)
	}
	settleDisk()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			mb = append(mb, run("run", "--rm", "--network", "none", "busybox", "true"))
			mbBridge = append(mbBridge, run("run", "--rm", "busybox", "true"))
			if runcBundle != "" {
				t := time.Now()
				cmd := runcRunCmd(runcBundle, fmt.Sprintf("mbbench-%d-%d", i, j))
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("runc: %v %s", err, out)
				}
				rc = append(rc, time.Since(t))
			}
			t := time.Now()
			if out, err := exec.Command("unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "chroot", rootfs, "/bin/true").CombinedOutput(); err != nil {
				b.Fatalf("unshare: %v %s", err, out)
			}
			ns = append(ns, time.Since(t))
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(mb)), "ms-run-none")
	b.ReportMetric(ms(median(mbBridge)), "ms-run-bridge")
	b.ReportMetric(ms(median(ns)), "ms-unshare-chroot")
	if len(rc) > 0 {
		b.ReportMetric(ms(median(mb))/ms(median(rc)), "ratio-vs-runc")
		b.Logf("run --rm --network none true: median %v; bridged %v; runc run %v; unshare+chroot %v", median(mb), median(mbBridge), median(rc), median(ns))
	} else {
		b.ReportMetric(ms(median(mb))/runcRunMs, "ratio-vs-runc-24ms-measured-earlier")
		b.Logf("run --rm --network none true: median %v; bridged %v; unshare+chroot %v (runc not installed: 24 ms measured here before)", median(mb), median(mbBridge), median(ns))
	}
	b.ReportMetric(float64(shimRSS(b, d, bin))/1024, "MiB-shim-rss")
}

// runcRunCmd is `runc run` of bundle as id, its state kept in the bundle's directory
// (removed with it) rather than in /run/runc, which would outlive the benchmark.
func runcRunCmd(bundle, id string) *exec.Cmd {
	return exec.Command("runc", "--root", filepath.Join(bundle, "runc-state"), "run", "--bundle", bundle, id)
}

func makeRuncBundle(b *testing.B, rootfs string) string {
	dir := b.TempDir()
	cmd := exec.Command("runc", "spec")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v %s", err, out)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	cfg = bytes.Replace(cfg, []byte(`"terminal": true`), []byte(`"terminal": false`), 1)
	cfg = bytes.Replace(cfg, []byte(`"sh"`), []byte(`"true"`), 1)
	cfg = bytes.Replace(cfg, []byte(`"path": "rootfs"`), []byte(`"path": "`+rootfs+`"`), 1)
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	return dir
}

// shimRSS starts 10 sleeping containers and returns the median VmRSS (KiB) of their shims.
func shimRSS(b *testing.B, d *daemonProc, bin string) int {
	var ids []string
	for i := 0; i < 10; i++ {
		cmd := exec.Command(bin, "run", "-d", "--network", "none", "busybox", "sleep", "600")
		cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("run -d: %v", err)
		}
		ids = append(ids, strings.TrimSpace(string(out)))
	}
	// Let the shims settle after start: each trims once quiet for twice rsstrim.PairQuiet.
	// Before, its resident set still counts the pages of the executable start-up mapped
	// (about 3 MB of text shared by every shim and init, PSS a tenth of it).
	time.Sleep(1500 * time.Millisecond)
	var rss []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		// A shim works in its container's directory (a warm one waiting for a container
		// has not chdir'd there yet, and is not counted).
		if !bytes.HasPrefix(cmdline, []byte("minibox-shim\x00")) || !slices.Contains(ids, filepath.Base(cwd)) {
			continue
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.Atoi(f[1])
				rss = append(rss, n)
			}
		}
	}
	for _, id := range ids {
		d.api.JSON(context.Background(), "POST", "/containers/remove", map[string][]string{"id": {id}, "force": {"1"}}, nil, nil)
	}
	if len(rss) == 0 {
		b.Fatal("no shim found")
	}
	sort.Ints(rss)
	b.Logf("shim VmRSS per container: median %d KiB of %v (containerd shim: 13 MB)", rss[len(rss)/2], rss)
	return rss[len(rss)/2]
}

// settleDisk writes back what earlier benchmarks left (ContainerList removes 1000
// container directories) before a latency is measured: on a disk mounted with discard,
// that backlog otherwise lands on the first runs of both minibox and its baselines.
func settleDisk() {
	syscall.Sync()
	time.Sleep(time.Second)
	syscall.Sync()
}
