package shim

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
)

// idmapSources is what init is sent as detached mounts, in MsgIDMapped's order: the
// layers, the container directory (upper, work, the /etc files), each bind or volume
// source; idmapped says which are idmapped (all but the binds not marked IDMap).
func idmapSources(s *spec.Spec) (srcs []string, idmapped []bool) {
	for _, l := range s.Rootfs.Lower {
		srcs, idmapped = append(srcs, l), append(idmapped, true)
	}
	srcs, idmapped = append(srcs, s.Dir), append(idmapped, true)
	for _, m := range s.Mounts {
		if m.Type != "tmpfs" {
			srcs, idmapped = append(srcs, m.Source), append(idmapped, m.IDMap)
		}
	}
	return srcs, idmapped
}

// sendIDMapped gives init, cloned into a new user namespace, idmapped views of its layers,
// directory and volumes: a file owned by host uid k on disk appears owned by the
// container's k, and what the container's root writes lands as host root, so images and
// volumes need no chowned copy. A bind is sent as a plain clone unless it asked for
// idmap: the host's directory keeps the host's ownership, container root is its mapped
// unprivileged uid there and cannot leave root-owned (setuid) files on the host. It is
// still sent, not left to init to mount by path: init could not search the host
// directories above it. Only real root can make them (the superblocks belong to
// the host's user namespace), and only init can attach them in its mount namespace, so
// they travel as detached mounts; nothing is mounted on the host. A source whose
// filesystem refuses idmapping is sent as "" (init uses its path as it is).
func (sh *shim) sendIDMapped(pid int) error {
	nsf, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return err
	}
	defer nsf.Close()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	srcs, idmapped := idmapSources(sh.s)
	if len(srcs) > 253 { // SCM_MAX_FD
		return fmt.Errorf("user namespace: %d layers and volumes, at most 253", len(srcs))
	}
	names := make([]string, len(srcs))
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(nsf.Fd())}
	for i, src := range srcs {
		fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err == nil && idmapped[i] {
			if err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			sh.log.Warn("no idmapped mount; its owners stay as on disk", "path", src, "err", err)
			continue
		}
		names[i] = src
		files = append(files, os.NewFile(uintptr(fd), src))
	}
	return sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgIDMapped, IDMapped: names}, files...)
}
