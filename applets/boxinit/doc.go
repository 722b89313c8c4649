// Package boxinit is PID 1 of a container (argv[0] minibox-init), running from the sealed
// executable the shim was given (pkg/shimexe), never from a file the container can reach.
//
// In two phases, on the shim's word: first, inside its new namespaces, it reads the spec
// from the shim, sets sysctls and the hostname, applies the mount plan (rootfs, /proc, /dev,
// volumes, pivot_root), opens the pty in the container's own devpts and resolves the user
// from the container's /etc/passwd and /etc/group, then reports ready and holds. On "go"
// (the daemon has put it in its cgroup and wired its network meanwhile) it sets rlimits and
// oom_score_adj, makes the cgroup namespace and mounts /sys/fs/cgroup, and forks the workload
// from a throwaway thread that drops capabilities, sets no_new_privs and loads seccomp last,
// so init itself keeps the privileges it needs to start exec processes later. It reaps every
// zombie, forwards every signal but SIGCHLD and SIGURG (its runtime preempts it with SIGURG;
// a user's comes from the shim as a message), starts exec processes on the shim's request
// (stdio passed over the channel), and exits with the workload's status (128+N on signal N).
// Once the workload runs and init has been quiet for a while, it executes itself afresh
// (reexec), leaving start-up's garbage behind: it never collects, and a container's init
// lives as long as the container.
//
// In a user namespace (--userns auto) it first attaches the idmapped mounts the shim sends
// (layers, container directory, volumes) under a tmpfs of its own, so the container's root
// owns the image's files without a chowned copy and nothing is mounted on the host.
//
// It imports only spec, isolation packages and leaves: no HTTP, no FUSE, no CLI.
package boxinit
