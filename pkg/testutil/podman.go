package testutil

import "path/filepath"

// PodmanArgs are podman's global flags for a podman whose state all lives under dir
// (storage, run state, runc's state, network configurations, libpod's temporary files),
// so that nothing it makes outlives the test or benchmark and `system reset` there
// touches nothing of the host's. runc, because crun refuses cgroup v1 hybrid hosts; no
// systemd here; file events.
func PodmanArgs(dir string) []string {
	return []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--network-config-dir", filepath.Join(dir, "networks"), "--tmpdir", filepath.Join(dir, "tmp"),
		"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--log-level", "error",
		"--runtime", "runc", "--runtime-flag", "root=" + filepath.Join(dir, "runc")}
}
