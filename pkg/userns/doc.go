// Package userns supports --userns auto: it writes a container's uid and gid maps, makes
// user-namespace fds for a mapping, and makes a host directory (an image layer, a volume)
// appear owned by the container's IDs: an idmapped mount (mount_setattr MOUNT_ATTR_IDMAP)
// where the kernel and filesystem support one, else a copy whose owners are shifted into
// the container's range.
//
// It leaves out choosing the range (the daemon's MINIBOX_SUBUID_BASE/_COUNT) and creating
// the container's namespace (the shim clones init with CLONE_NEWUSER).
package userns
