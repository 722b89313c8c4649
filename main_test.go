package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/minibox/minibox/applets"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/testutil"
)

// TestMain turns the test binary into the multicall binary, so scripts and re-executed
// shims and inits run the real code.
func TestMain(m *testing.M) {
	run := func() { os.Exit(applets.Main(os.Args)) }
	testscript.Main(m, map[string]func(){
		"minibox": run, "miniboxd": run, "minibox-lazyfs": run, "minibox-dns": run,
	})
}

// TestScripts runs testdata/script/*.txtar. Scripts that start a daemon need root.
func TestScripts(t *testing.T) {
	busybox, _ := filepath.Abs("testdata/busybox.tar")
	// Runs once every script is done: the scripts' daemons leave minibox0 and its table.
	t.Cleanup(testutil.LeaveHostAsFound())
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// testscript leaves its own root directory behind; the test's temp dir does not.
		WorkdirRoot:         t.TempDir(),
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("BUSYBOX_TAR", busybox)
			env.Setenv("MINIBOX_CONFIG", filepath.Join(env.WorkDir, ".minibox"))
			env.Setenv("NO_COLOR", "1")
			scripts, _ := filepath.Abs("scripts")
			env.Setenv("SCRIPTS", scripts)
			// This run's /16: the daemons' own /24s are .0 to .127; networks made without a
			// subnet (compose's) come from a /22 of the script's own in .128 to .191 (a
			// shared one ran out when two compose projects ran at once, and each script's
			// check for leftovers saw the other's); scripts that name their subnets take
			// them from .230 to .252. Two runs on one host keep apart by their bases.
			env.Setenv("NETWORK_POOL", fmt.Sprintf("%s.%d.0/22", testSubnetBase(), 128+4*(poolSeq.Add(1)%16)))
			env.Setenv("SUBNET_BASE", testSubnetBase())
			port, err := unusedHostPort()
			if err != nil {
				return err
			}
			env.Setenv("HOST_PORT", strconv.Itoa(port))
			// Debian's docker.io CLI (scripts/install-deps.sh), not another one on PATH;
			// its config (HttpHeaders) stays in the script's directory.
			env.Setenv("DOCKER", "/usr/bin/docker")
			env.Setenv("DOCKER_CONFIG", filepath.Join(env.WorkDir, ".docker"))
			ds := map[string]*daemon{}
			env.Values["daemons"] = ds
			// The Docker API sockets' directories go after the daemons: the cleanup starts
			// a stopped daemon again, which makes its socket's directory anew.
			sockDirs := &[]string{}
			env.Values["dockerSockDirs"] = sockDirs
			env.Defer(func() {
				cleanupDaemons(env.Getenv("MINIBOX_API_TOKEN"), ds)
				for _, dir := range *sockDirs {
					os.RemoveAll(dir)
				}
			})
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"daemon-start":       daemonStart,
			"daemon-stop":        daemonStop,
			"daemon-kill":        daemonKill,
			"wait-for":           waitFor,
			"registry-start":     registryStart,
			"net":                netCmd,
			"cp-loop":            cpLoop,
			"build-procs":        buildProcsCmd,
			"http-serve":         httpServe,
			"procs-gone":         procsGoneCmd,
			"warm-procs":         warmProcsCmd,
			"api":                apiCall,
			"raw-upload":         rawUpload,
			"abandon-import":     abandonImport,
			"docker-go-client":   dockerGoClient,
			"testcontainers-go":  testcontainersGo,
			"docker-attach-list": dockerAttachList,
		},
		Condition: func(cond string) (bool, error) {
			// [tool:prog]: like testscript's [exec:prog], but a tool missing under
			// MINIBOX_TEST_PRIVILEGED=1 fails the script instead of skipping it.
			if prog, ok := strings.CutPrefix(cond, "tool:"); ok {
				if _, err := exec.LookPath(prog); err == nil {
					return true, nil
				}
				if testutil.Privileged() {
					return false, fmt.Errorf("needs %s (scripts/install-deps.sh installs it), and MINIBOX_TEST_PRIVILEGED=1 makes a missing prerequisite fail", prog)
				}
				return false, nil
			}
			switch cond {
			case "privileged":
				return testutil.Condition(testutil.Missing, testutil.Root, testutil.Overlay)
			case "ioweight":
				// The host probe's answer: scripts assert the weight where the I/O
				// scheduler has one, and the warning (and a start without it) elsewhere.
				cg, err := cgroup.Open(slog.New(slog.DiscardHandler))
				if err != nil {
					return false, err
				}
				return cg.Features().Weight(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

var subnetSeq, poolSeq atomic.Int32

// testSubnetBase is the /16 the scripts' subnets come from; MINIBOX_TEST_SUBNET_BASE
// ("172.28") lets two test runs on one host keep apart.
func testSubnetBase() string {
	if b := os.Getenv("MINIBOX_TEST_SUBNET_BASE"); b != "" {
		return b
	}
	return "172.29"
}

type daemon struct {
	cmd     *exec.Cmd
	done    chan error
	sockDir string // the API socket's directory (MINIBOX_HTTP_ADDR=unix:), removed last
}

func daemons(ts *testscript.TestScript) map[string]*daemon {
	if d, ok := ts.Value("daemons").(map[string]*daemon); ok {
		return d
	}
	return nil
}

// daemonStart [name] [VAR=value...] starts miniboxd on a free port with data root
// $WORK/root (or $WORK/<name>), waits for /ping and points MINIBOX_API at it.
func daemonStart(ts *testscript.TestScript, neg bool, args []string) {
	if testutil.Missing(testutil.Root, testutil.Overlay) != "" {
		if testutil.Privileged() {
			ts.Fatalf("daemon-start needs root and overlayfs")
		}
		ts.Fatalf("daemon-start needs root (use [privileged] in the script)")
	}
	root := ts.MkAbs("root")
	var extra []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			extra = append(extra, a)
		} else {
			root = ts.MkAbs(a)
		}
	}
	port := freePort(ts)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	api, sockDir := "http://"+addr, ""
	// MINIBOX_HTTP_ADDR=unix: serves the API on a unix socket (in a short directory, as
	// Docker's below) instead of TCP, and points MINIBOX_API at it.
	for i, a := range extra {
		if a == "MINIBOX_HTTP_ADDR=unix:" {
			dir, err := os.MkdirTemp("", "mba")
			ts.Check(err)
			sockDir = dir
			sock := filepath.Join(dir, "minibox.sock")
			addr, api = "unix:"+sock, "unix://"+sock
			extra = append(extra[:i:i], extra[i+1:]...)
			break
		}
	}
	bin, err := exec.LookPath("miniboxd")
	if err != nil {
		// testscript puts its commands on the script's PATH, not ours.
		bin = filepath.Join(filepath.SplitList(ts.Getenv("PATH"))[0], "miniboxd")
	}
	logf, err := os.OpenFile(ts.MkAbs("daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	ts.Check(err)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "MINIBOX_DATA_ROOT="+root, "MINIBOX_HTTP_ADDR="+addr, "MINIBOX_LOG_LEVEL=debug")
	for _, k := range []string{"MINIBOX_API_TOKEN"} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// Scripts run in parallel and their daemons share minibox0: each script gets its own
	// subnet (kept across its daemon restarts) unless it names one.
	// Each data root has its own: daemons of two roots never share a subnet.
	key := "BRIDGE_SUBNET_" + strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, filepath.Base(root))
	subnet := ts.Getenv(key)
	if subnet == "" {
		subnet = fmt.Sprintf("%s.%d.0/24", testSubnetBase(), subnetSeq.Add(1)%128)
		ts.Setenv(key, subnet)
	}
	ts.Setenv("BRIDGE_SUBNET", subnet)
	cmd.Env = append(cmd.Env, "MINIBOX_BRIDGE_SUBNET="+subnet)
	// Docker's API on a socket of its own, in a short directory (a socket path holds 107
	// bytes; $WORK is longer): the docker CLI finds it through DOCKER_HOST.
	dockerSock := ts.Getenv("DOCKER_SOCK")
	if dockerSock == "" {
		dir, err := os.MkdirTemp("", "mbd")
		ts.Check(err)
		if dirs, ok := ts.Value("dockerSockDirs").(*[]string); ok {
			*dirs = append(*dirs, dir)
		}
		dockerSock = filepath.Join(dir, "docker.sock")
		ts.Setenv("DOCKER_SOCK", dockerSock)
	}
	cmd.Env = append(cmd.Env, "MINIBOX_DOCKER_API=unix://"+dockerSock)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if neg {
		err := cmd.Run()
		logf.Close()
		if err == nil {
			ts.Fatalf("daemon started but should have failed")
		}
		return
	}
	ts.Check(cmd.Start())
	d := &daemon{cmd: cmd, done: make(chan error, 1), sockDir: sockDir}
	go func() { d.done <- cmd.Wait(); logf.Close() }()
	daemons(ts)[root] = d
	ts.Setenv("MINIBOX_API", api)
	ts.Setenv("DATA_ROOT", root)
	ts.Setenv("MINIBOX_DATA_ROOT", root)
	ts.Setenv("MINIBOX_HTTP_ADDR", addr)
	ts.Setenv("DAEMON_PID", fmt.Sprint(cmd.Process.Pid))
	ts.Setenv("MINIBOX_DOCKER_API", lastEnv(cmd.Env, "MINIBOX_DOCKER_API"))
	if v := lastEnv(cmd.Env, "MINIBOX_DOCKER_API"); strings.HasPrefix(v, "unix://") {
		ts.Setenv("DOCKER_HOST", v)
	} else if v != "" && v != "off" {
		ts.Setenv("DOCKER_HOST", "tcp://"+v)
	}
	c, _ := client.New(api, ts.Getenv("MINIBOX_API_TOKEN"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := c.Ping(context.Background()); err == nil {
			return
		}
		select {
		case err := <-d.done:
			log, _ := os.ReadFile(ts.MkAbs("daemon.log"))
			ts.Fatalf("miniboxd exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("miniboxd did not answer /ping within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// unusedHostPort is a TCP port free on every address (and the one after it), below the kernel's range of ports for
// outgoing connections: a fixed port in that range was once taken by another test's
// connection just as a script published it.
func unusedHostPort() (int, error) {
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 20000 {
				lo = n
			}
		}
	}
	free := func(port int) bool {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err == nil {
			ln.Close()
		}
		return err == nil
	}
	for range 100 {
		// The port after it is free too: a script may publish a range of two.
		if port := 20000 + rand.IntN(lo-20001); free(port) && free(port+1) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free TCP port between 20000 and %d", lo)
}

func freePort(ts *testscript.TestScript) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func current(ts *testscript.TestScript) *daemon {
	ds := daemons(ts)
	d := ds[ts.Getenv("DATA_ROOT")]
	if d == nil {
		ts.Fatalf("no daemon started")
	}
	return d
}

// daemonStop sends SIGTERM and waits for a clean exit.
func daemonStop(ts *testscript.TestScript, neg bool, args []string) {
	d := current(ts)
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil && !neg {
			ts.Fatalf("miniboxd exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		ts.Fatalf("miniboxd did not stop within 20s of SIGTERM")
	}
}

// daemonKill sends SIGKILL (a crash) and waits for the process to be gone.
func daemonKill(ts *testscript.TestScript, neg bool, args []string) {
	d := current(ts)
	d.cmd.Process.Signal(syscall.SIGKILL)
	err := <-d.done
	d.done <- err
}

// waitFor <seconds> <command...>: retries a minibox command until it succeeds.
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: wait-for <seconds> <minibox args...>")
	}
	var secs float64
	fmt.Sscan(args[0], &secs)
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for {
		err := ts.Exec("minibox", args[1:]...)
		if (err == nil) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("wait-for %v: still %v", args[1:], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanupDaemons removes every container the script left (their shims are detached
// from the daemon by design), stops each daemon, and unmounts anything left under
// the data roots.
func cleanupDaemons(token string, ds map[string]*daemon) {
	for root, d := range ds {
		if d.sockDir != "" {
			defer os.RemoveAll(d.sockDir)
		}
		select {
		case err := <-d.done:
			d.done <- err
			// Stopped by the script: start it again to remove containers.
			restart := exec.Command(d.cmd.Path)
			restart.Env = d.cmd.Env
			if restart.Start() == nil {
				d = &daemon{cmd: restart, done: make(chan error, 1)}
				go func() { d.done <- restart.Wait() }()
			} else {
				continue
			}
		default:
		}
		api := ""
		for _, kv := range d.cmd.Env {
			if v, ok := strings.CutPrefix(kv, "MINIBOX_HTTP_ADDR="); ok {
				api = "http://" + v
				if sock, ok := strings.CutPrefix(v, "unix:"); ok {
					api = "unix://" + sock
				}
			}
		}
		c, _ := client.New(api, token)
		ctx := context.Background()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := c.Ping(ctx); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		var list map[string]any
		if err := c.JSON(ctx, "GET", "/containers", nil, nil, &list); err == nil {
			for id := range list {
				c.JSON(ctx, "POST", "/containers/remove", map[string][]string{"id": {id}, "force": {"1"}, "volumes": {"1"}}, nil, nil)
			}
		}
		// Networks are bridges and rules on the host: they go with the script.
		c.JSON(ctx, "POST", "/networks/prune", nil, nil, nil)
		stopResolver(root)
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
		unmountUnder(root)
		// The daemon leaves its bridge address and NAT rules by design; the script's own
		// subnet goes with the script.
		if pfx, err := netip.ParsePrefix(lastEnv(d.cmd.Env, "MINIBOX_BRIDGE_SUBNET")); err == nil && strings.HasPrefix(pfx.String(), testSubnetBase()+".") {
			forgetSubnet(pfx.Masked())
		}
	}
}

// lastEnv is the value exec would use: the last one for key.
func lastEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if val, ok := strings.CutPrefix(kv, key+"="); ok {
			v = val
		}
	}
	return v
}

func unmountUnder(root string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 4 && strings.HasPrefix(f[4], root+"/") {
			syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
	}
}

// stopResolver ends the data root's minibox-dns, found by its pid file (it outlives the
// daemon by design, and exits on its own once no network is left).
func stopResolver(root string) {
	b, err := os.ReadFile(filepath.Join(root, "networks", "dns.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cmd), "minibox-dns\x00") {
		syscall.Kill(pid, syscall.SIGTERM)
	}
}
