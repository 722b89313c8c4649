package lazyfs

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/testutil"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
)

// writeBigLayer writes a layer of files×size bytes (text-like data, about 4:1 compressible),
// one gzip member per file as minibox's layer writer does, and returns its digest.
func writeBigLayer(tb testing.TB, path string, files, size int) digest.Digest {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	dg := digest.SHA256.Digester()
	bw := bufio.NewWriterSize(io.MultiWriter(f, dg.Hash()), 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnop \n"
	data := make([]byte, size)
	var raw strings.Builder
	tw := tar.NewWriter(&raw)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	member := func() {
		zw.Reset(bw)
		io.WriteString(zw, raw.String())
		zw.Close()
		raw.Reset()
	}
	for i := range files {
		if i%100 == 0 {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/d%03d/", i/100), Typeflag: tar.TypeDir, Mode: 0o755})
		}
		for j := range data {
			data[j] = alphabet[rng.IntN(len(alphabet))]
		}
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/d%03d/f%05d", i/100, i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)})
		tw.Write(data)
		tw.Flush()
		member()
	}
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 6})
	io.WriteString(tw, "hello\n")
	tw.Close()
	member()
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return dg.Digest()
}

// BenchmarkLazyVsUnpack500MB: a 500 MiB layer of 10,000 files, read one file lazily (index,
// start the server, mount, read) against unpacking it first (what a non-lazy start does
// before the container's first output).
func BenchmarkLazyVsUnpack500MB(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.FUSE)
	root := b.TempDir()
	p := Paths{root}
	os.MkdirAll(filepath.Join(root, "blobs", "sha256"), 0o755)
	tmp := filepath.Join(root, "layer.tmp")
	start := time.Now()
	d := writeBigLayer(b, tmp, 10000, 50<<10)
	os.Rename(tmp, p.Blob(d))
	st, _ := os.Stat(p.Blob(d))
	b.Logf("generated %d MiB blob (500 MiB of files) in %v", st.Size()>>20, time.Since(start).Round(time.Millisecond))
	c := &Client{Paths: p, Command: func() *execCmd { return serverCmd(root) }}
	b.Cleanup(func() { killServer(c) })
	ctx := context.Background()

	var index, mount, read, unpack time.Duration
	for i := 0; i < b.N; i++ {
		os.Remove(toc.Path(p.Blob(d)))
		os.RemoveAll(p.Cache(d))
		t0 := time.Now()
		x, err := toc.BuildFile(p.Blob(d), d)
		if err != nil {
			b.Fatal(err)
		}
		toc.Write(toc.Path(p.Blob(d)), x)
		t1 := time.Now()
		dir, err := c.Mount(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if got, err := os.ReadFile(filepath.Join(dir, "usr/share/d042/f04242")); err != nil || len(got) != 50<<10 {
			b.Fatalf("lazy read: %d bytes %v", len(got), err)
		}
		t3 := time.Now()
		index, mount, read = index+t1.Sub(t0), mount+t2.Sub(t1), read+t3.Sub(t2)
		if pid, err := c.Ping(ctx); err == nil {
			b.ReportMetric(float64(rssKB(pid)), "server-rss-KiB")
		}
		if st, err := os.Stat(toc.Path(p.Blob(d))); err == nil {
			b.ReportMetric(float64(st.Size()>>10), "index-KiB")
		}
		c.Unmount(ctx, d)
		killServer(c)

		ex := filepath.Join(root, "extracted-"+strconv.Itoa(i))
		os.Mkdir(ex, 0o755)
		t4 := time.Now()
		f, _ := os.Open(p.Blob(d))
		zr, _ := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err := image.Extract(ctx, zr, ex, image.ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if got, err := os.ReadFile(filepath.Join(ex, "usr/share/d042/f04242")); err != nil || len(got) != 50<<10 {
			b.Fatalf("unpacked read: %d bytes %v", len(got), err)
		}
		unpack += time.Since(t4)
		os.RemoveAll(ex)
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(mount+read), "lazy-ms(indexed)")
	b.ReportMetric(ms(index), "index-ms")
	b.ReportMetric(ms(mount), "mount-ms")
	b.ReportMetric(ms(read), "first-read-ms")
	b.ReportMetric(ms(unpack), "unpack-then-read-ms")
}

// BenchmarkServerMemory measures the one-per-data-root server: start latency (spawn to
// first answer), mount latency, and RSS with 1 and with 20 mounted layers. One process per
// mount would cost the 1-layer RSS per layer per container.
func BenchmarkServerMemory(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.FUSE)
	for i := 0; i < b.N; i++ {
		root := b.TempDir()
		p := Paths{root}
		var layers []digest.Digest
		for j := range 20 {
			files := sample()
			files = append(files, file{h: tar.Header{Name: "id", Typeflag: tar.TypeReg, Mode: 0o644}, data: strconv.Itoa(j)})
			blob := gzipLayer(b, files)
			d := digest.FromBytes(blob)
			os.MkdirAll(filepath.Dir(p.Blob(d)), 0o755)
			os.WriteFile(p.Blob(d), blob, 0o644)
			layers = append(layers, d)
		}
		c := &Client{Paths: p, Command: func() *execCmd { return serverCmd(root) }}
		ctx := context.Background()
		t0 := time.Now()
		if err := c.Ensure(ctx); err != nil {
			b.Fatal(err)
		}
		spawn := time.Since(t0)
		pid, _ := c.Ping(ctx)
		b.Cleanup(func() { killServer(c) })
		t1 := time.Now()
		dir, err := c.Mount(ctx, layers[0])
		if err != nil {
			b.Fatal(err)
		}
		mount1 := time.Since(t1)
		os.ReadFile(filepath.Join(dir, "usr/bin/big"))
		rss1 := rssKB(pid)
		for _, d := range layers[1:] {
			dir, err := c.Mount(ctx, d)
			if err != nil {
				b.Fatal(err)
			}
			os.ReadFile(filepath.Join(dir, "usr/bin/big"))
		}
		rss20 := rssKB(pid)
		for _, d := range layers {
			c.Unmount(ctx, d)
		}
		killServer(c)
		b.ReportMetric(float64(spawn.Microseconds())/1000, "spawn-ms")
		b.ReportMetric(float64(mount1.Microseconds())/1000, "mount-ms")
		b.ReportMetric(float64(rss1), "rss-1-mount-KiB")
		b.ReportMetric(float64(rss20), "rss-20-mounts-KiB")
	}
}

func rssKB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// killServer stops the root's server by its PID and waits for it to go.
func killServer(c *Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pid, err := c.Ping(ctx)
	if err != nil {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Ping(ctx); err != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
