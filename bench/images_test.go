// Package bench measures whole operations across packages; `make bench` runs it.
package bench

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ggname "github.com/google/go-containerregistry/pkg/name"
	ggregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
	"github.com/minibox/minibox/pkg/testutil"
)

const (
	benchLayers    = 4
	benchLayerSize = 64 << 20 // uncompressed bytes per layer: 256 MiB in all
	benchFileSize  = 2 << 20
)

// writeLayer writes a layer tar of benchLayerSize bytes of files: three quarters random
// (incompressible, like binaries) and one quarter text-like, with a directory per layer.
func writeLayer(path string, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	dir := fmt.Sprintf("layer%d/", seed)
	tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(1700000000, 0)})
	buf := make([]byte, benchFileSize)
	for i := 0; i < benchLayerSize/benchFileSize; i++ {
		for j := 0; j < len(buf); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		if i%4 == 3 {
			for j := range buf {
				buf[j] = "abcdefgh \n"[buf[j]%10]
			}
		}
		hdr := &tar.Header{Name: fmt.Sprintf("%sfile%03d", dir, i), Mode: 0o644, Size: int64(len(buf)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(buf); err != nil {
			return err
		}
	}
	return tw.Close()
}

// bigImage pushes a generated multi-layer image to a registry on loopback and returns its
// reference and compressed and uncompressed sizes.
func bigImage(b *testing.B) (ref string, compressed, uncompressed int64) {
	b.Helper()
	dir := b.TempDir()
	srv := httptest.NewServer(ggregistry.New(ggregistry.Logger(log.New(io.Discard, "", 0))))
	b.Cleanup(srv.Close)
	ref = strings.TrimPrefix(srv.URL, "http://") + "/bench/big:1"
	img := empty.Image
	for i := 0; i < benchLayers; i++ {
		p := filepath.Join(dir, fmt.Sprintf("l%d.tar", i))
		if err := writeLayer(p, uint64(i+1)); err != nil {
			b.Fatal(err)
		}
		l, err := tarball.LayerFromFile(p)
		if err != nil {
			b.Fatal(err)
		}
		sz, _ := l.Size()
		compressed += sz
		uncompressed += benchLayerSize
		if img, err = mutate.AppendLayers(img, l); err != nil {
			b.Fatal(err)
		}
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", oci.HostPlatform().Architecture
	img, _ = mutate.ConfigFile(img, cf)
	tag, _ := ggname.NewTag(ref, ggname.Insecure)
	if err := remote.Write(tag, img); err != nil {
		b.Fatal(err)
	}
	var _ v1.Image = img
	return ref, compressed, uncompressed
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

// BenchmarkPullUnpack pulls a 256 MiB, four-layer image from a registry on loopback and
// unpacks it, reporting MB/s for each; with skopeo and umoci installed, it reports the same
// work done by `skopeo copy docker:// oci:` and `umoci unpack` beside it.
func BenchmarkPullUnpack(b *testing.B) {
	testutil.RequirePrivileged(b)
	ref, compressed, uncompressed := bigImage(b)
	ctx := context.Background()
	c := registry.New(nil)
	var pullT, unpackT, skopeoT, umociT time.Duration
	_, errS := exec.LookPath("skopeo")
	_, errU := exec.LookPath("umoci")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		root := b.TempDir()
		st, err := image.Open(root, nil)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		img, err := c.Pull(ctx, st, ref, oci.HostPlatform(), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := st.LayerDirs(ctx, img); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		pullT += t1.Sub(t0)
		unpackT += t2.Sub(t1)
		os.RemoveAll(root)
		if errS == nil && errU == nil {
			dir := b.TempDir()
			t3 := time.Now()
			out, err := exec.Command("skopeo", "copy", "-q", "--src-tls-verify=false", "docker://"+ref, "oci:"+dir+"/oci:big").CombinedOutput()
			if err != nil {
				b.Fatalf("skopeo copy: %v\n%s", err, out)
			}
			t4 := time.Now()
			out, err = exec.Command("umoci", "unpack", "--image", dir+"/oci:big", dir+"/bundle").CombinedOutput()
			if err != nil {
				b.Fatalf("umoci unpack: %v\n%s", err, out)
			}
			skopeoT += t4.Sub(t3)
			umociT += time.Since(t4)
			os.RemoveAll(dir)
		}
	}
	n := int64(b.N)
	b.ReportMetric(float64(compressed)/(1<<20), "image-MB")
	b.ReportMetric(mbps(n*compressed, pullT), "pull-MB/s")
	b.ReportMetric(mbps(n*uncompressed, unpackT), "unpack-MB/s")
	if skopeoT > 0 {
		b.ReportMetric(mbps(n*compressed, skopeoT), "skopeo-pull-MB/s")
		b.ReportMetric(mbps(n*uncompressed, umociT), "umoci-unpack-MB/s")
	}
}
