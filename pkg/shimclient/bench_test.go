package shimclient_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/testutil"
)

// BenchmarkStartTrue is Start -> Resume -> Wait of `true` in a fresh container (network
// none), as the engine does for `run --rm`, plus Cleanup. Reports the median too.
func BenchmarkStartTrue(b *testing.B) {
	base := newSpec(b, "true")
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := *base
		s.Dir = filepath.Join(b.TempDir(), "c")
		s.Rootfs.Upper, s.Rootfs.Work = filepath.Join(s.Dir, "upper"), filepath.Join(s.Dir, "work")
		for _, d := range []string{s.Rootfs.Upper, s.Rootfs.Work} {
			os.MkdirAll(d, 0o755)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := s.Save(); err != nil {
			b.Fatal(err)
		}
		c, err := shimclient.Start(context.Background(), &s, shimclient.StartOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Resume(context.Background()); err != nil {
			b.Fatal(err)
		}
		exit, err := c.Wait(context.Background())
		if err != nil || exit.ExitCode != 0 {
			b.Fatalf("exit %+v %v", exit, err)
		}
		shimclient.Cleanup(s.Dir)
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkShimRSS runs 10 idle containers and reports their shims' mean resident memory:
// VmRSS (counts the binary's shared page-cache pages in full, in every shim), RssAnon (the
// shim's own memory) and Pss (shared pages divided among the processes mapping them).
func BenchmarkShimRSS(b *testing.B) {
	const n = 10
	for i := 0; i < b.N; i++ {
		sum := map[string]float64{}
		var cs []*shimclient.Container
		for j := 0; j < n; j++ {
			s := newSpec(b, "sh", "-c", "echo hi; sleep 100")
			c := start(b, s)
			if err := c.Resume(context.Background()); err != nil {
				b.Fatal(err)
			}
			waitLog(b, s.Dir, "hi")
			cs = append(cs, c)
		}
		for _, c := range cs {
			st, err := c.State()
			if err != nil {
				b.Fatal(err)
			}
			for _, file := range []string{"status", "smaps_rollup"} {
				text, err := os.ReadFile("/proc/" + strconv.Itoa(st.ShimPID) + "/" + file)
				if err != nil {
					b.Fatal(err)
				}
				for _, l := range strings.Split(string(text), "\n") {
					f := strings.Fields(l)
					if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "RssAnon:" || f[0] == "RssFile:" || f[0] == "Pss:") {
						v, _ := strconv.ParseFloat(f[1], 64)
						sum[strings.TrimSuffix(f[0], ":")] += v
					}
				}
			}
		}
		for k, v := range sum {
			b.ReportMetric(v/n, k+"-kB")
		}
		for _, c := range cs {
			c.Signal(syscall.SIGKILL)
			c.Wait(context.Background())
		}
	}
}

// BenchmarkRuncTrue is the baseline: bare `runc run` of `true` on the same busybox rootfs,
// in the same run (skipped without runc: apt-get install runc).
func BenchmarkRuncTrue(b *testing.B) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		testutil.Unavailable(b, "runc not installed (apt-get install runc)")
	}
	rootfs := busybox(b)
	bundle := b.TempDir()
	gen := exec.Command(runc, "spec")
	gen.Dir = bundle
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v: %s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cfg map[string]any
	json.Unmarshal(raw, &cfg)
	proc := cfg["process"].(map[string]any)
	proc["terminal"], proc["args"] = false, []string{"true"}
	cfg["root"] = map[string]any{"path": rootfs, "readonly": true}
	raw, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o644)
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		// Its state in the bundle (removed with it), not in /run/runc, which would outlive the run.
		cmd := exec.Command(runc, "--root", filepath.Join(bundle, "runc-state"), "run", "--bundle", bundle, "bench-"+strconv.Itoa(os.Getpid())+"-"+strconv.Itoa(i))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkLogThroughput: a workload writing 64 MiB of text; the shim logs every byte in
// the local format. Reports MB/s of workload output.
func BenchmarkLogThroughput(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		s := newSpec(b, "sh", "-c", "head -c 50331648 /dev/urandom | base64")
		s.Log = logfile.Config{Driver: logfile.DriverLocal}
		c := start(b, s)
		if err := c.Resume(context.Background()); err != nil {
			b.Fatal(err)
		}
		if e, err := c.Wait(context.Background()); err != nil || e.ExitCode != 0 {
			b.Fatalf("%+v %v", e, err)
		}
	}
}
