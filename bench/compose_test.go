package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkComposeUp: `compose up -d` of five independent services (started at once)
// against five `run -d` one after the other, each on the same images; then `compose down`
// against five `rm -f`.
//
// Beside the times, the CPU each side spent: its CLI processes, the daemon, and the
// containers' shims and inits (whose starts dominate). Started at once, the five
// containers cannot take less than that CPU over the machine's cores: cpu-floor is that
// bound as a ratio to the runs, what up/runs could reach at best here.
func BenchmarkComposeUp(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	bin := minibox(b)
	dir := filepath.Join(b.TempDir(), "benchproj")
	var file strings.Builder
	file.WriteString("services:\n")
	for i := range 5 {
		fmt.Fprintf(&file, "  s%d:\n    image: busybox\n    command: sleep 1000\n", i)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(file.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	// The project's network comes from pool, the runs' bridge from bridge: clear of the
	// subnets other runs on this host use when MINIBOX_TEST_SUBNET_BASE says which.
	bridge, pool := "172.30.86.0/24", "172.30.88.0/22"
	if base := os.Getenv("MINIBOX_TEST_SUBNET_BASE"); base != "" {
		bridge, pool = base+".250.0/24", base+".252.0/22"
	}
	var up, down, runs, rms time.Duration
	var ups, runss []time.Duration // each round's, for the medians
	var upCPU, runsCPU, pairsCPU time.Duration
	for i := 0; i < b.N; i++ {
		d, _ := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_SUBNET="+bridge, "MINIBOX_NETWORK_POOL="+pool)
		importBusybox(b, d)
		var cli time.Duration // the CPU of the CLI processes since the last reset
		mb := func(args ...string) time.Duration {
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
			t := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("%v: %v %s", args, err, out)
			}
			took := time.Since(t)
			cli += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			return took
		}
		// pairs is the CPU the shims and inits of the named containers spent so far.
		pairs := func(names ...string) time.Duration {
			var sum time.Duration
			for _, n := range names {
				cmd := exec.Command(bin, "inspect", "-f", "{{.State.Pid}}", n)
				cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
				out, err := cmd.Output()
				pid, perr := strconv.Atoi(strings.TrimSpace(string(out)))
				if err != nil || perr != nil || pid <= 0 {
					b.Fatalf("inspect %s: %v %s", n, err, out)
				}
				sum += taskCPU(b, pid) + taskCPU(b, testutil.ParentPID(b, pid))
			}
			return sum
		}
		// One container first, measured by neither: the image's layer is unpacked and the
		// warm shim pool is wanted, so whichever side goes first pays neither one-off.
		mb("run", "--rm", "busybox", "true")
		// Each side starts from a settled daemon: its warm pairs made, the layer's pages
		// written back, so that neither pays for work the other side left behind.
		settleDisk()
		d0, c0 := taskCPU(b, d.cmd.Process.Pid), cli
		upTook := mb("compose", "up", "-d")
		up += upTook
		var names []string
		for j := range 5 {
			names = append(names, fmt.Sprintf("benchproj-s%d-1", j))
		}
		p := pairs(names...)
		upCPU += cli - c0 + taskCPU(b, d.cmd.Process.Pid) - d0 + p
		pairsCPU += p
		down += mb("compose", "down", "-t", "1")
		settleDisk()
		d0, c0 = taskCPU(b, d.cmd.Process.Pid), cli
		t := time.Now()
		names = names[:0]
		for j := range 5 {
			names = append(names, fmt.Sprintf("seq%d", j))
			mb("run", "-d", "--name", names[j], "busybox", "sleep", "1000")
		}
		runsTook := time.Since(t)
		runs += runsTook
		ups, runss = append(ups, upTook), append(runss, runsTook)
		p = pairs(names...)
		runsCPU += cli - c0 + taskCPU(b, d.cmd.Process.Pid) - d0 + p
		pairsCPU += p
		t = time.Now()
		for j := range 5 {
			mb("rm", "-f", fmt.Sprintf("seq%d", j))
		}
		rms += time.Since(t)
		d.stop()
	}
	n := time.Duration(b.N)
	// Each round's own up/runs, in order: the median, the quartiles and the rounds that
	// met the goal come from it.
	ratios := make([]float64, len(ups))
	for i := range ups {
		ratios[i] = float64(ups[i]) / float64(runss[i])
	}
	slices.Sort(ratios)
	cores := runtime.NumCPU()
	floor := float64(upCPU) / float64(cores) / float64(runs)
	b.ReportMetric(float64((up / n).Milliseconds()), "up-ms")
	b.ReportMetric(float64((runs / n).Milliseconds()), "5-runs-ms")
	b.ReportMetric(float64((down / n).Milliseconds()), "down-ms")
	b.ReportMetric(float64((rms / n).Milliseconds()), "5-rm-ms")
	b.ReportMetric(float64(up)/float64(runs), "up/runs")
	// A VM's noise makes the odd round several milliseconds slower on either side: the
	// median of the rounds' own ratios beside the ratio of the sums.
	b.ReportMetric(median(ratios), "median-up/runs")
	b.ReportMetric(float64(down)/float64(rms), "down/rms")
	b.ReportMetric(float64((upCPU / n).Milliseconds()), "up-cpu-ms")
	b.ReportMetric(float64((runsCPU / n).Milliseconds()), "runs-cpu-ms")
	b.ReportMetric(float64((pairsCPU / n / 10).Milliseconds()), "shim+init-cpu-ms")
	b.ReportMetric(floor, "cpu-floor")
	b.Logf("compose up -d %v vs 5 run -d %v; compose down %v vs 5 rm -f %v", up/n, runs/n, down/n, rms/n)
	// The spread of the rounds' ratios, and how many met the goal (half the runs' time):
	// on a noisy VM the median alone hides how often a round does.
	met := 0
	for _, r := range ratios {
		if r <= 0.5 {
			met++
		}
	}
	b.Logf("medians of %d rounds: up %v, 5 runs %v, a round's up/runs %.3f (quartiles %.3f, %.3f; %d of %d rounds at most 0.5)",
		b.N, median(ups), median(runss), median(ratios), ratios[len(ratios)/4], ratios[len(ratios)*3/4], met, len(ratios))
	b.Logf("CPU: up %v, runs %v (CLI, daemon, shims and inits); a container's shim and init %v; on %d cores up cannot go under %.2fx the runs",
		upCPU/n, runsCPU/n, pairsCPU/n/10, cores, floor)
}

// taskCPU is the CPU time pid's threads ran (their scheduler statistics, in ns).
func taskCPU(b *testing.B, pid int) time.Duration {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(files) == 0 {
		b.Fatalf("pid %d: no threads to read: %v", pid, err)
	}
	var sum time.Duration
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended meanwhile
		}
		ns, err := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		sum += time.Duration(ns)
	}
	return sum
}
