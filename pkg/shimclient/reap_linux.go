package shimclient

import (
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// reap collects the shim when it exits, without a thread blocked in wait4: a pidfd in the
// runtime's poller. After a daemon restart the shim is no longer our child.
func reap(pid int, log *slog.Logger) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		go func() { // no pidfd (old kernel): a blocked thread per shim
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}()
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return
	}
	go func() {
		defer f.Close()
		err := rc.Read(func(fd uintptr) bool {
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG, nil)
			return err != unix.EAGAIN && (err != nil || info.Signo != 0)
		})
		if err != nil && log != nil {
			log.Warn("reap shim", "pid", pid, "err", err)
		}
	}()
}
