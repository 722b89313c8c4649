package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

// logBytes is the output each measurement moves: 100 MiB.
const logBytes = 100 << 20

// BenchmarkLogThroughputRun: 100 MiB of stdout through a foreground `minibox run` (CLI,
// daemon, shim and the container's log) over TCP and over the API's unix socket (where the
// shim writes to the CLI's connection itself), through a detached run (log only), and
// read back by `minibox logs`; beside the peers in the same run: the same kind of program
// on the host writing to /dev/null, and through a pipe into a file (what the shim does for
// a log), and the workload itself inside a container writing to /dev/null (busybox's head
// is far slower than the host's). Two workloads: busybox head (4 KiB writes) and dd bs=1M
// (1 MiB writes).
func BenchmarkLogThroughputRun(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	d, _ := startDaemon(b, b.TempDir())
	importBusybox(b, d)
	// The second daemon's bridge keeps clear of the first's (and, with
	// MINIBOX_TEST_SUBNET_BASE, of other runs on this host); its containers use no network.
	bridge := "172.30.84.0/24"
	if base := os.Getenv("MINIBOX_TEST_SUBNET_BASE"); base != "" {
		bridge = base + ".249.0/24"
	}
	du, _ := startDaemon(b, b.TempDir(), "MINIBOX_HTTP_ADDR=unix:"+filepath.Join(b.TempDir(), "api.sock"), "MINIBOX_BRIDGE_SUBNET="+bridge)
	importBusybox(b, du)
	bin := minibox(b)
	tmp := b.TempDir()
	mbps := func(d time.Duration) float64 { return float64(logBytes) / (1 << 20) / d.Seconds() }
	timed := func(name string, args ...string) time.Duration {
		t0 := time.Now()
		if msg, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v %s", name, args, err, msg)
		}
		return time.Since(t0)
	}
	runOn := func(d *daemonProc, stdout string, args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MINIBOX_API="+d.url)
		out, err := os.Create(stdout)
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("minibox %v: %v", args, err)
		}
		return time.Since(t0)
	}
	run := func(stdout string, args ...string) time.Duration { return runOn(d, stdout, args...) }
	size := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		return st.Size()
	}
	workloads := []struct {
		name string
		cmd  string
	}{
		{"head", "head -c 104857600 /dev/zero"},
		{"dd", "dd if=/dev/zero bs=1M count=100 2>/dev/null"},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range workloads {
			settleDisk()
			host := timed("sh", "-c", w.cmd+" >/dev/null")
			file := filepath.Join(tmp, "host.out")
			hostPipe := timed("sh", "-c", w.cmd+" | cat > "+file)
			os.Remove(file)
			settleDisk()
			out := filepath.Join(tmp, "run.out")
			inside := run(os.DevNull, "run", "--rm", "--network", "none", "busybox", "sh", "-c", w.cmd+" >/dev/null")
			settleDisk()
			fg := run(out, "run", "--rm", "--network", "none", "busybox", "sh", "-c", w.cmd)
			if n := size(out); n != logBytes {
				b.Fatalf("run printed %d bytes, want %d", n, logBytes)
			}
			os.Remove(out)
			settleDisk()
			fgUnix := runOn(du, out, "run", "--rm", "--network", "none", "busybox", "sh", "-c", w.cmd)
			if n := size(out); n != logBytes {
				b.Fatalf("run over the unix socket printed %d bytes, want %d", n, logBytes)
			}
			settleDisk()
			name := "logbench-" + w.name
			bg := run(os.DevNull, "run", "-d", "--name", name, "--log-opt", "max-size=1g", "--network", "none", "busybox", "sh", "-c", w.cmd)
			bg += run(os.DevNull, "wait", name)
			logs := run(out, "logs", name)
			if n := size(out); n != logBytes {
				b.Fatalf("logs printed %d bytes, want %d", n, logBytes)
			}
			run(os.DevNull, "rm", "-f", name)
			os.Remove(out)
			b.ReportMetric(mbps(host), w.name+"-host-devnull-MB/s")
			b.ReportMetric(mbps(hostPipe), w.name+"-host-pipe-file-MB/s")
			b.ReportMetric(mbps(inside), w.name+"-in-container-devnull-MB/s")
			b.ReportMetric(mbps(fg), w.name+"-run-fg-MB/s")
			b.ReportMetric(mbps(fgUnix), w.name+"-run-fg-unix-MB/s")
			b.ReportMetric(mbps(bg), w.name+"-run-d-log-MB/s")
			b.ReportMetric(mbps(logs), w.name+"-logs-MB/s")
			b.ReportMetric(hostPipe.Seconds()/fg.Seconds(), w.name+"-fg/host-pipe")
			b.ReportMetric(hostPipe.Seconds()/fgUnix.Seconds(), w.name+"-fg-unix/host-pipe")
		}
	}
}
