package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

// parallelDockerfile has two independent stages of `RUN sleep 2` and a final stage that
// copies from both: run one after the other they take 4 s, at once 2 s. The final stage
// also copies app.txt from the context: changing it rebuilds that step alone.
const parallelDockerfile = `FROM busybox AS one
RUN sleep 2 && echo one > /one.txt

FROM busybox AS two
RUN sleep 2 && echo two > /two.txt

FROM busybox
COPY --from=one /one.txt /one.txt
COPY --from=two /two.txt /two.txt
COPY app.txt /app.txt
`

// BenchmarkBuildDockerfile: a cold build of parallelDockerfile (the serial time of its
// RUN steps is 4 s, reported beside it), the cached rebuild of the same file, and the
// rebuild after one context file changes (only the COPY of it runs again).
func BenchmarkBuildDockerfile(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	bin := minibox(b)
	ctxDir := b.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(parallelDockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	var cold, cached, oneFile time.Duration
	for i := 0; i < b.N; i++ {
		if err := os.WriteFile(filepath.Join(ctxDir, "app.txt"), []byte("v1\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		d, _ := startDaemon(b, b.TempDir())
		importBusybox(b, d)
		build := func(wantSummary string) time.Duration {
			cmd := exec.Command(bin, "build", "-t", "bench-df", "--progress", "plain", ctxDir)
			cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+d.addr)
			t := time.Now()
			out, err := cmd.CombinedOutput()
			el := time.Since(t)
			if err != nil {
				b.Fatalf("build: %v %s", err, out)
			}
			if !strings.Contains(string(out), wantSummary) {
				b.Fatalf("build: want %q in its summary:\n%s", wantSummary, out)
			}
			return el
		}
		cold += build("blocks=5 cached=0 built=5")
		cached += build("blocks=5 cached=5 built=0")
		if err := os.WriteFile(filepath.Join(ctxDir, "app.txt"), []byte("v2\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		oneFile += build("blocks=5 cached=4 built=1")
		d.stop()
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((cold / n).Milliseconds()), "cold-ms")
	b.ReportMetric(float64((cached / n).Milliseconds()), "cached-ms")
	b.ReportMetric(float64((oneFile / n).Milliseconds()), "one-file-ms")
	b.ReportMetric(4000/float64((cold/n).Milliseconds()), "speedup-vs-serial-runs")
	b.Logf("cold build %v (the two 2 s RUNs one after the other: 4 s), cached rebuild %v, one changed file %v", cold/n, cached/n, oneFile/n)
}
