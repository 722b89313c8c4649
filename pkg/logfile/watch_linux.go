package logfile

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// watcher wakes a follower when the log grows or the container directory changes (exit.json).
type watcher struct {
	f    *os.File
	buf  []byte
	stop func() bool
}

func watch(path string, done <-chan struct{}) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	// Non-blocking: the runtime's poller waits on it, no thread is held.
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), buf: make([]byte, 4096)}
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_MODIFY); err != nil {
		w.f.Close()
		return nil, os.NewSyscallError("inotify_add_watch", err)
	}
	if done != nil {
		stopc := make(chan struct{})
		go func() {
			select {
			case <-done:
				w.f.SetReadDeadline(time.Now())
			case <-stopc:
			}
		}()
		w.stop = func() bool { close(stopc); return true }
	}
	return w, nil
}

// wait blocks until something changed in the directory; false once done is closed.
func (w *watcher) wait() bool {
	_, err := w.f.Read(w.buf)
	return err == nil
}

func (w *watcher) close() {
	if w.stop != nil {
		w.stop()
	}
	w.f.Close()
}
