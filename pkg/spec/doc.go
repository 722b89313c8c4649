// Package spec is a container's config.json: everything the shim and init need to create
// and run one container, as plain data. The daemon fills it; the shim and init only read it.
// It leaves out how each part is applied (mount, caps, seccomp, cgroup do that).
package spec
