package imagesvc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/layer"
	"github.com/minibox/minibox/pkg/lazyfs"
	"github.com/minibox/minibox/pkg/testutil"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// bigStore makes a data root holding "big:1": busybox under a 500 MiB layer of 10,000
// files written by the builder's layer writer (one gzip member per file), without indexes.
func bigStore(b *testing.B) (root string, big digest.Digest) {
	b.Helper()
	root = b.TempDir()
	b.Cleanup(func() { stopLazyfs(root) })
	src := filepath.Join(b.TempDir(), "files")
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 50<<10)
	const alphabet = "abcdefghijklmnop \n"
	for i := range 10000 {
		dir := filepath.Join(src, fmt.Sprintf("usr/share/d%03d", i/100))
		os.MkdirAll(dir, 0o755)
		for j := range data {
			data[j] = alphabet[rng.IntN(len(alphabet))]
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), data, 0o644)
	}
	os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello from a 500 MiB image\n"), 0o644)
	st, err := image.Open(root, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bb, err := os.ReadFile("../../../testdata/busybox.tar")
	if err != nil {
		b.Skipf("testdata/busybox.tar: %v (make testdata)", err)
	}
	base, err := st.Import(ctx, bytes.NewReader(bb), "busybox:base")
	if err != nil {
		b.Fatal(err)
	}
	tmp := filepath.Join(root, "tmp", "big.tar.gz")
	start := time.Now()
	res, err := layer.WriteFile(tmp, src, layer.Options{Level: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("500 MiB layer written in %v: %d MiB compressed", time.Since(start).Round(time.Millisecond), res.Size>>20)
	f, _ := os.Open(tmp)
	desc, err := st.Content().Ingest(ctx, f, res.Digest)
	f.Close()
	os.Remove(tmp)
	os.RemoveAll(src)
	if err != nil {
		b.Fatal(err)
	}
	desc.MediaType = layer.MediaType
	cfg := base.Config
	cfg.RootFS.DiffIDs = append(append([]digest.Digest{}, base.Config.RootFS.DiffIDs...), res.DiffID)
	if _, err := st.Commit(ctx, "big:1", cfg, []ocispec.Descriptor{base.Layers[0], desc}); err != nil {
		b.Fatal(err)
	}
	for _, l := range []digest.Digest{base.Layers[0].Digest, desc.Digest} {
		os.Remove(toc.Path(filepath.Join(root, "blobs/sha256", l.Encoded())))
	}
	return root, desc.Digest
}

// BenchmarkDaemonStart500MB measures the real binary: miniboxd's time to answer /ping with
// MINIBOX_INDEX_ON_STARTUP=0 and =1 over a store with a 500 MiB image (and, for =1, when
// the background indexing is done); then, if containers run in this build, a container's
// time to first output with --lazy beside unpack-then-start.
func BenchmarkDaemonStart500MB(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.FUSE, testutil.Overlay)
	root, big := bigStore(b)
	bin := filepath.Join(b.TempDir(), "minibox")
	if out, err := exec.Command("go", "build", "-o", bin, "../../..").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	os.Symlink("minibox", filepath.Join(filepath.Dir(bin), "miniboxd"))
	idx := toc.Path(filepath.Join(root, "blobs/sha256", big.Encoded()))

	for i := 0; i < b.N; i++ {
		for _, on := range []string{"0", "1"} {
			os.Remove(idx)
			addr, stop := startDaemon(b, filepath.Join(filepath.Dir(bin), "miniboxd"), root, "MINIBOX_INDEX_ON_STARTUP="+on)
			start := time.Now()
			waitPing(b, addr)
			ping := time.Since(start)
			b.ReportMetric(float64(ping.Microseconds())/1000, "ping-ms(index="+on+")")
			if on == "1" {
				poll(b, 5*time.Minute, func() bool { _, err := os.Stat(idx); return err == nil })
				b.ReportMetric(float64(time.Since(start).Milliseconds()), "indexed-ms(index=1)")
				runs(b, bin, addr, root, big.Encoded())
			}
			stop()
		}
	}
}

// runs reports time to first output of `run --lazy` and of a plain (unpacking) run.
func runs(b *testing.B, bin, addr, root, bigLayer string) {
	for _, lazy := range []bool{true, false} {
		args := []string{"run", "--rm", "--network", "none"}
		name := "run-unpack-ms"
		if lazy {
			args, name = append(args, "--lazy"), "run-lazy-ms"
		}
		args = append(args, "big:1", "cat", "/hello.txt")
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "MINIBOX_API=http://"+addr)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("hello from a 500 MiB image")) {
			b.Logf("%s: containers do not run in this build yet (%v): %s", name, err, out)
			return
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, name)
		if lazy {
			// The big layer must not have been unpacked by the lazy run.
			if _, err := os.Stat(filepath.Join(root, "extracted", bigLayer)); err == nil {
				b.Errorf("run --lazy unpacked the 500 MiB layer")
			}
		}
	}
}

func startDaemon(b *testing.B, bin, root string, env ...string) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{"MINIBOX_DATA_ROOT=" + root, "MINIBOX_HTTP_ADDR=" + addr,
		"MINIBOX_BRIDGE_ON_STARTUP=0"}, env...)...)
	logf, _ := os.Create(filepath.Join(b.TempDir(), "daemon.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}
	b.Cleanup(stop)
	return addr, stop
}

func waitPing(b *testing.B, addr string) {
	c := &http.Client{Timeout: time.Second}
	poll(b, 20*time.Second, func() bool {
		r, err := c.Get("http://" + addr + "/ping")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
}

func poll(b *testing.B, max time.Duration, ok func() bool) {
	deadline := time.Now().Add(max)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %v", max)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopLazyfs stops the lazyfs server a daemon started for root (its PID is in its lock file)
// and detaches what it mounted.
func stopLazyfs(root string) {
	c := &lazyfs.Client{Paths: lazyfs.Paths{Root: root}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if pid, err := c.Ping(ctx); err == nil {
		syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 500; i++ {
			if _, err := c.Ping(ctx); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(root, "lazy"))
	for _, e := range ents {
		lazyfs.Detach(filepath.Join(root, "lazy", e.Name()))
	}
}
