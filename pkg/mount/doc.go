// Package mount builds a container's filesystem as a plan and applies it: the overlay
// rootfs, /proc, /dev, /sys, /dev/shm, /dev/mqueue, devpts, volumes, binds, tmpfs, the
// /etc files, Docker's masked and read-only paths, and pivot_root (MS_MOVE + chroot where the
// root is a ramfs). A plan is data (a Mount is one step, usually one mount(2) call) built
// without root and unit-tested; only Apply, in apply_linux.go, touches the kernel.
//
// Everything is applied by init inside the container's new mount namespace after the
// propagation is made private, so nothing is ever left mounted on the host. Targets inside
// the container are resolved with symlinks scoped to the rootfs, so an image cannot point a
// mount out of its root. The cgroup filesystem is left to init: it can only be mounted once
// the daemon has placed init in its cgroup.
package mount
