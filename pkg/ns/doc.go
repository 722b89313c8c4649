// Package ns says which namespaces a container's init is cloned into. It leaves joining
// namespaces to init (exec processes are forked by init, which is already inside them) and
// the cgroup namespace to init too: that one must be made after the daemon has moved init
// into the container's cgroup, so it is rooted there.
package ns
