package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkComposeUp: `compose up -d` of five independent services (started at once)
// against five `run -d` one after the other, each on the same images; then `compose down`
// against five `rm -f`.
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
	for i := 0; i < b.N; i++ {
		d, _ := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_SUBNET="+bridge, "MINIBOX_NETWORK_POOL="+pool)
		importBusybox(b, d)
		mb := func(args ...string) time.Duration {
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
			t := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %v %s", args, err, out)
			}
			return time.Since(t)
		}
		// One container first, measured by neither: the image's layer is unpacked and the
		// warm shim pool is wanted, so whichever side goes first pays neither one-off.
		mb("run", "--rm", "busybox", "true")
		up += mb("compose", "up", "-d")
		down += mb("compose", "down", "-t", "1")
		t := time.Now()
		for j := range 5 {
			mb("run", "-d", "--name", fmt.Sprintf("seq%d", j), "busybox", "sleep", "1000")
		}
		runs += time.Since(t)
		t = time.Now()
		for j := range 5 {
			mb("rm", "-f", fmt.Sprintf("seq%d", j))
		}
		rms += time.Since(t)
		d.stop()
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((up / n).Milliseconds()), "up-ms")
	b.ReportMetric(float64((runs / n).Milliseconds()), "5-runs-ms")
	b.ReportMetric(float64((down / n).Milliseconds()), "down-ms")
	b.ReportMetric(float64((rms / n).Milliseconds()), "5-rm-ms")
	b.ReportMetric(float64(up)/float64(runs), "up/runs")
	b.ReportMetric(float64(down)/float64(rms), "down/rms")
	b.Logf("compose up -d %v vs 5 run -d %v; compose down %v vs 5 rm -f %v", up/n, runs/n, down/n, rms/n)
}
