// Package shim is the per-container process (argv[0] minibox-shim) the daemon starts
// detached in its own session, so a container outlives a daemon crash or restart.
//
// It clones init (from the sealed executable the daemon passes as fd 4, which the shim
// runs from too) into the container's new namespaces, holds it until the daemon's start request, reports init's
// PID on fd 3, copies stdout and stderr (or the pty) into container.log (pkg/logfile: binary records,
// rotated as the spec says) and to attached clients, serves shim.sock (state, start, signal, resize, attach, exec, wait),
// writes exit.json atomically when the workload ends, and exits. With a user namespace it
// also makes the idmapped mounts init needs (only real root can) and passes them over.
// init dies with its shim (parent-death signal): a container nobody records never runs on.
//
// Memory matters (one shim per container): the daemon starts it with one P and no
// collection (rsstrim.RuntimeEnv); from its first exec or first worthwhile collection on it
// collects eagerly (rsstrim.Trimmer.CollectFromThenOn). It keeps a handful of
// goroutines and small output buffers (grown for a busy stream), parses nothing it does
// not need, and once quiet gives back what start-up touched (rsstrim.Trim).
package shim
