package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxBinary is where Debian's busybox-static installs its static binary.
const BusyboxBinary = "/bin/busybox"

// BusyboxRootfs makes a small rootfs in a temp directory: busybox and its applet links,
// /etc/passwd, /etc/group, /tmp. It fails the test (or skips, unprivileged) without
// busybox-static.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := MakeBusyboxRootfs(dir); err != nil {
		if Privileged() {
			t.Fatalf("busybox rootfs: %v (apt-get install busybox-static)", err)
		}
		t.Skipf("busybox rootfs: %v", err)
	}
	return dir
}

// MakeBusyboxRootfs fills dir with a busybox rootfs (also used by `make testdata`).
func MakeBusyboxRootfs(dir string) error {
	list, err := exec.Command(BusyboxBinary, "--list-full").Output()
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "root", "proc", "sys", "dev", "home", "var/www"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	os.Chmod(filepath.Join(dir, "root"), 0o700)
	bb, err := os.ReadFile(BusyboxBinary)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	for _, l := range strings.Fields(string(list)) {
		if l == "bin/busybox" {
			continue
		}
		target, _ := filepath.Rel(filepath.Dir("/"+l), "/bin/busybox")
		p := filepath.Join(dir, l)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":         "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
		"etc/group":          "root:x:0:\ndaemon:x:1:\ntty:x:5:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n",
		"var/www/index.html": "hello from minibox\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.MkdirAll(filepath.Join(dir, "home/user"), 0o755)
}
