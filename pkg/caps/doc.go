// Package caps names Linux capabilities and turns a container's capability set into
// the calling thread's credentials: bounding set, groups, gid, uid and capset, in the order
// the kernel needs them. Merge resolves --cap-add/--cap-drop against Docker's default set.
//
// It leaves out file capabilities and ambient raising (containers get none, as in Docker)
// and no_new_privs, which init sets separately so --security-opt can turn it off.
package caps
