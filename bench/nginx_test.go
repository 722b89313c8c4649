package bench

import (
	"archive/tar"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/testutil"
)

const nginxBin = "/usr/sbin/nginx"

// nginxConf serves one static page of nginx's default size (615 bytes) with one worker,
// the same in the container and on the host.
func nginxConf(port int, root string) string {
	return fmt.Sprintf(`worker_processes 1;
user root root;
pid %s/nginx.pid;
error_log stderr;
events { worker_connections 1024; }
http {
	access_log off;
	server { listen %d; root %s; }
}
`, root, port, root)
}

var lddPath = regexp.MustCompile(`(/[^ ]+) \(0x`)

// nginxImage is a tar of a rootfs holding the host's nginx and the libraries it links.
func nginxImage(b *testing.B) string {
	out, err := exec.Command("ldd", nginxBin).Output()
	if err != nil {
		b.Fatalf("ldd %s: %v", nginxBin, err)
	}
	files := []string{nginxBin}
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		files = append(files, m[1])
	}
	tarPath := filepath.Join(b.TempDir(), "nginx.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	dirs := map[string]bool{}
	addDir := func(d string) {
		var parts []string
		for ; d != "/" && d != "."; d = filepath.Dir(d) {
			parts = append(parts, d)
		}
		for i := len(parts) - 1; i >= 0; i-- {
			if !dirs[parts[i]] {
				dirs[parts[i]] = true
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(parts[i], "/") + "/", Mode: 0o755})
			}
		}
	}
	addFile := func(name string, mode int64, body []byte) {
		addDir(filepath.Dir(name))
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(name, "/"), Mode: mode, Size: int64(len(body))})
		tw.Write(body)
	}
	for _, p := range files {
		body, err := os.ReadFile(p) // through symlinks: the image holds the real bytes
		if err != nil {
			b.Fatal(err)
		}
		addFile(p, 0o755, body)
	}
	for _, d := range []string{"/tmp", "/var/lib/nginx", "/var/log/nginx", "/www"} {
		addDir(d)
	}
	addFile("/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"))
	addFile("/etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n"))
	addFile("/etc/nginx.conf", 0o644, []byte(nginxConf(8080, "/www")))
	addFile("/www/index.html", 0o644, []byte(strings.Repeat("x", 615)))
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	return tarPath
}

func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHTTP(b *testing.B, addr string) {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp4", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nothing answers on %s: %v", addr, err)
		}
	}
}

// BenchmarkNginxPublished: wrk against nginx in a container through a published port on
// 127.0.0.1, beside the same nginx binary and configuration on the host, in turn, best of 3.
func BenchmarkNginxPublished(b *testing.B) {
	testutil.RequirePrivileged(b, testutil.Overlay)
	for _, tool := range []string{nginxBin, "wrk", "ldd"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s is missing (scripts/install-deps.sh bench installs it): %v", tool, err)
		}
	}
	d := startNetDaemon(b)
	if out, err := mbCmd(b, d, "import", nginxImage(b), "nginxbench").CombinedOutput(); err != nil {
		b.Fatalf("import: %v %s", err, out)
	}
	port := freePort(b)
	out, err := mbCmd(b, d, "run", "-d", "--ulimit", "nofile=1024:1024", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "nginxbench",
		nginxBin, "-e", "stderr", "-c", "/etc/nginx.conf", "-g", "daemon off;").CombinedOutput()
	if err != nil {
		b.Fatalf("run nginx: %v %s", err, out)
	}
	id := strings.TrimSpace(string(out))
	b.Cleanup(func() { mbCmd(b, d, "rm", "-f", id).Run() })
	ipOut, err := mbCmd(b, d, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", id).Output()
	if err != nil {
		b.Fatalf("inspect: %v", err)
	}
	direct := strings.TrimSpace(string(ipOut)) + ":8080"

	hostDir := b.TempDir()
	hostPort := freePort(b)
	os.WriteFile(filepath.Join(hostDir, "index.html"), []byte(strings.Repeat("x", 615)), 0o644)
	conf := filepath.Join(hostDir, "nginx.conf")
	os.WriteFile(conf, []byte(nginxConf(hostPort, hostDir)), 0o644)
	host := exec.Command(nginxBin, "-e", "stderr", "-c", conf, "-g", "daemon off;")
	host.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its worker goes with it
	host.Stderr = io.Discard
	if err := host.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		syscall.Kill(-host.Process.Pid, syscall.SIGTERM)
		host.Wait()
	})
	published := fmt.Sprintf("127.0.0.1:%d", port)
	hostAddr := fmt.Sprintf("127.0.0.1:%d", hostPort)
	waitHTTP(b, published)
	waitHTTP(b, hostAddr)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ctr, dir, bare float64
		for j := 0; j < 3; j++ {
			c, _ := loadTool(published, "/index.html", 16, 3*time.Second)
			h, _ := loadTool(hostAddr, "/index.html", 16, 3*time.Second)
			a, _ := loadTool(direct, "/index.html", 16, 3*time.Second)
			b.Logf("round %d: published %.0f, host %.0f, container address %.0f req/s", j+1, c, h, a)
			ctr, bare, dir = max(ctr, c), max(bare, h), max(dir, a)
		}
		b.ReportMetric(ctr, "req/s-published")
		b.ReportMetric(dir, "req/s-container-address")
		b.ReportMetric(bare, "req/s-host")
		b.ReportMetric(ctr/bare, "ratio-vs-host")
		b.Logf("nginx (1 worker, 615-byte page, wrk -t2 -c16): %.0f req/s in a container through %s, %.0f straight to %s, %.0f req/s on the host: %.2f (goal 0.9)",
			ctr, published, dir, direct, bare, ctr/bare)
	}
}
