// Package shimclient is the daemon's client of a container's shim, its handle on one
// running container: it starts the container's shim (detached, in its own session, so the
// container outlives the daemon), reconnects to a live shim after a daemon restart, and
// talks to it over shim.sock: start (after the daemon's cgroup and network setup),
// signals, attach, resize, exec, wait. It also reads container.log (tail, since/until,
// follow without polling) and exit.json.
//
// It leaves out the daemon's records (state.json), cgroups, networking and the spec's
// contents: the engine writes config.json first and owns the container's lifecycle.
// The shim and init run the small program pkg/shimexe carries (cmd/minibox-shim: applets/shim,
// applets/boxinit), from one sealed in-memory copy made once per daemon, so no container
// can reach a host file (the runc CVE-2019-5736 class).
package shimclient
