package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// PodmanArgs are podman's global flags for a podman whose state all lives under dir
// (storage, run state, network configurations, libpod's temporary files, runc's state),
// so that nothing it makes outlives the test or benchmark and `system reset` there
// touches nothing of the host's. The runtime is runc (crun refuses cgroup v1 hybrid
// hosts) through a wrapper in dir that gives it its state directory: a flag for it
// (--runtime-flag) would not reach the `podman container cleanup` that conmon runs after
// a `run --rm`, whose runc would then make /run/runc.
func PodmanArgs(t testing.TB, dir string) []string {
	t.Helper()
	runc := filepath.Join(dir, "runc")
	script := "#!/bin/sh\nexec runc --root '" + filepath.Join(dir, "runc-state") + "' \"$@\"\n"
	if err := os.WriteFile(runc, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--network-config-dir", filepath.Join(dir, "networks"), "--tmpdir", filepath.Join(dir, "tmp"),
		"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--log-level", "error", "--runtime", runc}
}
