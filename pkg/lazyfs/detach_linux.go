package lazyfs

import "syscall"

// detached puts the server in its own session: a daemon crash or restart, or a signal to
// the daemon's process group, must not take the mounts down.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
