package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

// parallelDockerfile has two independent stages of `RUN sleep 2` and a final stage that
// copies from both: run one after the other they take 4 s, at once 2 s.
const parallelDockerfile = `FROM busybox AS one
RUN sleep 2 && echo one > /one.txt

FROM busybox AS two
RUN sleep 2 && echo two > /two.txt

FROM busybox
COPY --from=one /one.txt /one.txt
COPY --from=two /two.txt /two.txt
`

// BenchmarkBuildDockerfile: a cold build of parallelDockerfile (the serial time of its
// RUN steps is 4 s, reported beside it), then the cached rebuild of the same file.
func BenchmarkBuildDockerfile(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	bin := minibox(b)
	ctxDir := b.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(parallelDockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	var cold, cached time.Duration
	for i := 0; i < b.N; i++ {
		d, _ := startDaemon(b, b.TempDir())
		importBusybox(b, d)
		build := func() time.Duration {
			cmd := exec.Command(bin, "build", "-t", "bench-df", "--progress", "plain", ctxDir)
			cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
			t := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("build: %v %s", err, out)
			}
			return time.Since(t)
		}
		cold += build()
		cached += build()
		d.stop()
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((cold / n).Milliseconds()), "cold-ms")
	b.ReportMetric(float64((cached / n).Milliseconds()), "cached-ms")
	b.ReportMetric(4000/float64((cold/n).Milliseconds()), "speedup-vs-serial-runs")
	b.Logf("cold build %v (the two 2 s RUNs one after the other: 4 s), cached rebuild %v", cold/n, cached/n)
}
