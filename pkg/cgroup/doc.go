// Package cgroup places containers in control groups and reads their usage, behind one
// Manager for both cgroup v1 (a hierarchy per controller, as on this build machine) and
// v2 (the unified hierarchy). Paths are relative to each hierarchy's root ("minibox/<id>").
// A Manager works on any directory tree, so the same code is tested against a fake tree in
// t.TempDir() and against the real /sys/fs/cgroup.
//
// It leaves out the systemd driver (minibox writes cgroupfs directly, like runc's cgroupfs
// driver), cgroup namespaces (the runtime unshares those) and network counters (the network
// package reads them from the container's interfaces).
package cgroup
