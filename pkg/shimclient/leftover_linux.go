package shimclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/shimfiles"
)

// EndLeftover ends the processes of a tied container (StartOptions.Tied) whose daemon died,
// for a shim that could not end them itself: the shim and init its shim.pid names, each
// killed through a pidfd only while its PID is still the process recorded, init first (its
// death ends every process of the container's PID namespace, and with it the namespace's
// mounts). It waits up to within for them to exit. A directory without a record (a shim of
// an older daemon) is ended through its shim's socket. Nothing of dir is removed.
func EndLeftover(dir string, within time.Duration) (ended int, err error) {
	recs, err := shimfiles.ReadProcs(dir)
	if errors.Is(err, os.ErrNotExist) {
		return endThroughShim(dir, within)
	}
	if err != nil {
		return 0, err
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Name == "init" && recs[j].Name != "init" })
	type killed struct {
		r  shimfiles.ProcRecord
		fd *os.File
	}
	var ks []killed
	defer func() {
		for _, k := range ks {
			k.fd.Close()
		}
	}()
	var errs []error
	for _, r := range recs {
		f, err := pidfdOf(r)
		if err != nil {
			errs = append(errs, err)
		}
		if f == nil {
			continue
		}
		if err := unix.PidfdSendSignal(int(f.Fd()), unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
			errs = append(errs, fmt.Errorf("kill %s %d: %w", r.Name, r.PID, err))
		}
		ks = append(ks, killed{r, f})
	}
	deadline := time.Now().Add(within)
	for _, k := range ks {
		if !waitPidfd(k.fd, deadline) {
			errs = append(errs, fmt.Errorf("%s %d did not exit within %s", k.r.Name, k.r.PID, within))
		}
	}
	return len(ks), errors.Join(errs...)
}

// pidfdOf opens a pidfd on r's process; nil when that process is gone. The start time is
// read after the pidfd is open: if it matches, the pidfd is r's process (a PID reused in
// between would show its own, later, start time).
func pidfdOf(r shimfiles.ProcRecord) (*os.File, error) {
	fd, err := unix.PidfdOpen(r.PID, 0)
	if err == unix.ESRCH {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd of %s %d: %w", r.Name, r.PID, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	start, err := shimfiles.ProcStart(r.PID)
	if err != nil || start != r.Start {
		f.Close()
		return nil, nil // gone, or another process's PID now
	}
	return f, nil
}

// waitPidfd waits until the pidfd's process has exited (a zombie counts), or deadline.
func waitPidfd(f *os.File, deadline time.Time) bool {
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms < 0 {
			ms = 0
		}
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// endThroughShim kills the container in dir through its shim, if one answers there, and
// waits up to within for init's end: a shim that does not answer in time is left.
func endThroughShim(dir string, within time.Duration) (int, error) {
	sock := filepath.Join(dir, shimfiles.SocketName)
	c, err := shimapi.Dial(sock)
	if err != nil {
		return 0, nil // no shim listens
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	// An exited container refuses the signal: its wait below answers at once.
	shimapi.CallContext(ctx, sock, &shimapi.Request{Op: shimapi.OpSignal, Signal: int(syscall.SIGKILL)})
	_, reaped, err := shimapi.Wait(ctx, sock)
	if err != nil {
		c, derr := shimapi.Dial(sock)
		if derr != nil {
			return 1, nil // the shim has gone meanwhile, its container with it
		}
		c.Close()
		return 1, fmt.Errorf("shim in %s: %w", dir, err)
	}
	select {
	case <-reaped:
	case <-ctx.Done():
	}
	return 1, nil
}
