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
// rebuild after one context file changes (only the COPY of it runs again); the same three
// by BuildKit (a private dockerd 20.10 with `DOCKER_BUILDKIT=1 docker build`) in the same
// run, and the ratios minibox/BuildKit (below 1: minibox is faster).
func BenchmarkBuildDockerfile(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	bin := minibox(b)
	ctxDir := b.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(parallelDockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	setApp := func(v string) {
		if err := os.WriteFile(filepath.Join(ctxDir, "app.txt"), []byte(v), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	peer, err := startDockerdPeer(b)
	if err != nil {
		b.Fatalf("BuildKit (dockerd 20.10) cannot run here: %v", err)
	}
	runs := []string{"RUN sleep 2 && echo one > /one.txt", "RUN sleep 2 && echo two > /two.txt"}
	fromCopies := []string{"COPY --from=one /one.txt /one.txt", "COPY --from=two /two.txt /two.txt"}
	appCopy := []string{"COPY app.txt /app.txt"}
	all := append(append(append([]string{}, runs...), fromCopies...), appCopy...)
	var cold, cached, oneFile, bkCold, bkCached, bkOneFile time.Duration
	for i := 0; i < b.N; i++ {
		setApp("v1\n")
		// RUN steps use the host's network: the daemon needs no bridge.
		d, _ := startDaemon(b, b.TempDir(), "MINIBOX_BRIDGE_ON_STARTUP=0")
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
		setApp("v2\n")
		oneFile += build("blocks=5 cached=4 built=1")
		d.stop()

		// BuildKit: its cache emptied first, so that the first build is cold.
		setApp("v1\n")
		if out, err := peer.docker("builder", "prune", "-af"); err != nil {
			b.Fatalf("docker builder prune: %v %s", err, out)
		}
		bkCold += peer.build(b, ctxDir, nil, all)
		bkCached += peer.build(b, ctxDir, all, nil)
		setApp("v2\n")
		bkOneFile += peer.build(b, ctxDir, append(runs, fromCopies...), appCopy)
	}
	n := time.Duration(b.N)
	ratio := func(mb, bk time.Duration) float64 { return float64(mb) / float64(bk) }
	b.ReportMetric(float64((cold / n).Milliseconds()), "cold-ms")
	b.ReportMetric(float64((cached / n).Milliseconds()), "cached-ms")
	b.ReportMetric(float64((oneFile / n).Milliseconds()), "one-file-ms")
	b.ReportMetric(float64((bkCold / n).Milliseconds()), "buildkit-cold-ms")
	b.ReportMetric(float64((bkCached / n).Milliseconds()), "buildkit-cached-ms")
	b.ReportMetric(float64((bkOneFile / n).Milliseconds()), "buildkit-one-file-ms")
	b.ReportMetric(ratio(cold, bkCold), "cold-ratio-vs-buildkit")
	b.ReportMetric(ratio(cached, bkCached), "cached-ratio-vs-buildkit")
	b.ReportMetric(ratio(oneFile, bkOneFile), "one-file-ratio-vs-buildkit")
	b.ReportMetric(4000/float64((cold/n).Milliseconds()), "speedup-vs-serial-runs")
	b.Logf("minibox: cold build %v (the two 2 s RUNs one after the other: 4 s), cached rebuild %v, one changed file %v", cold/n, cached/n, oneFile/n)
	b.Logf("BuildKit (dockerd 20.10, docker CLI): cold %v, cached %v, one changed file %v", bkCold/n, bkCached/n, bkOneFile/n)
	b.Logf("minibox/BuildKit: cold %.2f, cached %.2f, one changed file %.2f", ratio(cold, bkCold), ratio(cached, bkCached), ratio(oneFile, bkOneFile))
}
