package shimclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/shimexe"
	"github.com/minibox/minibox/pkg/shimfiles"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/timerslack"
)

// Exit is how a container's workload (or an exec) ended: exit.json.
type Exit = shimapi.Exit

// State is a container as its shim reports it.
type State = shimapi.State

// ExecSpec is a process to run in a running container; empty User, Cwd use the container's.
type ExecSpec = shimapi.Exec

// StartError is a process that could not run: Code 126 (not runnable, unknown user) or 127
// (not found); other failures have Code 0 (the CLI's 125).
type StartError = shimapi.Error

// StartOptions tune Start.
type StartOptions struct {
	// Log receives the daemon-side messages (the shim logs to containers/<id>/shim.log).
	Log *slog.Logger
	// ShimEnv is added to the shim's environment (tests; rsstrim.RuntimeEnv is set).
	ShimEnv []string
	// Tied makes a container that ends with this daemon process (a build's, which nobody
	// could use after it): its shim ends init once the control channel, kept open until
	// Close, has no daemon at the other end, and records itself and init in the
	// container's shim.pid for a later daemon in case it could not.
	Tied bool
	// Urgent makes a warm shim at the starts' priority: a start is already waiting for it
	// (announced), so it would only be late at warmNice. Otherwise it is made at warmNice.
	Urgent bool
	// Discard takes a warm pair's record away when the pair is given its container
	// (rundir.Trash: at once, deleted later); nil deletes it in place.
	Discard func(dir string) error
}

// Container is a handle on a live shim.
type Container struct {
	dir  string
	sock string
	pid  int
	tty  bool

	ctl      *shimapi.Channel // until init is ready (tied: until Close): the shim reports it there
	tied     bool
	ready    sync.Once
	readyErr error
}

// Start creates the container described by s (config.json already saved in s.Dir): it
// starts the shim detached and returns once init exists in its namespaces, held before
// the workload, and the shim answers. init may still be mounting: the caller sets up the
// cgroup and network on PID() meanwhile, then calls Ready (or just Resume).
func Start(ctx context.Context, s *spec.Spec, opts StartOptions) (*Container, error) {
	shimLog, err := openShimLog(s)
	if err != nil {
		return nil, err
	}
	args := []string{s.Dir}
	if opts.Tied {
		args = []string{"--tied", s.Dir}
	}
	ctl, _, pidfd, err := startShim(opts, shimLog, args...)
	shimLog.Close()
	if err != nil {
		return nil, err
	}
	if pidfd != nil {
		pidfd.Close()
	}
	c, err := created(ctx, s, ctl)
	if err == nil {
		c.tied = opts.Tied
	}
	return c, err
}

// openShimLog opens the container's shim.log, the shim's stderr.
func openShimLog(s *spec.Spec) (*os.File, error) {
	return os.OpenFile(filepath.Join(s.Dir, shimfiles.ShimLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// startShim starts a detached shim with args and returns its control channel and a pidfd
// on it (nil if the kernel has none).
func startShim(opts StartOptions, stderr *os.File, args ...string) (*shimapi.Channel, int, *os.File, error) {
	exe, err := shimexe.Sealed()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("the shim's executable: %w", err)
	}
	ours, theirs, err := shimapi.Socketpair()
	if err != nil {
		return nil, 0, nil, err
	}
	// The shim runs from the sealed executable, which it gets as fd 4 to start init from:
	// by that number, set up in the child before execve, never by the daemon's own.
	cmd := &exec.Cmd{Path: "/proc/self/fd/4", Args: append([]string{"minibox-shim"}, args...), ExtraFiles: []*os.File{theirs, exe}}
	if null, err := devNull(); err == nil {
		// Else exec opens /dev/null afresh for each of the three, every start.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	// A shim is small and mostly idle (rsstrim.RuntimeEnv): no collection until it works
	// (it sets its own GOGC then); the limit leaves room for a busy stream's buffers.
	// The workloads' timer slack rides along: the shim runs with the daemon's wider one.
	cmd.Env = append(append(rsstrim.RuntimeEnv("off", shimMemLimit), timerslack.Env()...), opts.ShimEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives us, and our terminal's signals
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		ours.Close()
		return nil, 0, nil, fmt.Errorf("start shim: %w", err)
	}
	pid := cmd.Process.Pid
	// Opened before reap runs: until then the PID is our unreaped child's, nobody else's.
	var pidfd *os.File
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		pidfd = os.NewFile(uintptr(fd), "pidfd")
	}
	reap(pid, opts.Log)
	cmd.Process.Release()
	ctl, err := shimapi.NewChannel(ours)
	if err != nil {
		ours.Close()
		if pidfd != nil {
			unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0)
			pidfd.Close()
		}
		return nil, 0, nil, err
	}
	return ctl, pid, pidfd, nil
}

// devNull is /dev/null, opened once for the stdio of every shim this process starts.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.OpenFile(os.DevNull, os.O_RDWR, 0) })

// created reads the shim's first report: init's PID.
func created(ctx context.Context, s *spec.Spec, ctl *shimapi.Channel) (*Container, error) {
	resp, err := recv(ctx, ctl)
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("container %s: shim exited before init was created (see %s): %w",
			short(s.ID), filepath.Join(s.Dir, shimfiles.ShimLog), err)
	}
	if err := resp.Err(); err != nil {
		ctl.Close()
		return nil, err
	}
	return &Container{dir: s.Dir, sock: filepath.Join(s.Dir, shimfiles.SocketName), pid: resp.PID, tty: s.Process.Terminal, ctl: ctl}, nil
}

func recv(ctx context.Context, ctl *shimapi.Channel) (*shimapi.Response, error) {
	dl, _ := ctx.Deadline()
	ctl.SetReadDeadline(dl)
	return ctl.RecvResponse()
}

// Ready waits for init's setup (mounts, hostname, pty): nil once the workload can be
// resumed. A failure is the container's end (exit 125, or init's code).
func (c *Container) Ready(ctx context.Context) error {
	c.ready.Do(func() {
		if c.ctl == nil {
			return // reattached: long past
		}
		resp, err := recv(ctx, c.ctl)
		if !c.tied {
			c.ctl.Close()
		}
		if err != nil {
			c.readyErr = fmt.Errorf("container %s: shim exited before init was ready (see %s): %w",
				short(filepath.Base(c.dir)), filepath.Join(c.dir, shimfiles.ShimLog), err)
			return
		}
		c.readyErr = resp.Err()
	})
	return c.readyErr
}

// Close lets go of a tied container's shim: it ends its container if it still runs. It
// does nothing for other containers.
func (c *Container) Close() {
	if c.tied {
		c.ctl.Close()
	}
}

// Warm is a shim started before its container is known, holding an init already cloned
// into the namespaces of any container ns.FitsWarm accepts. Taking it spares a start
// two process starts.
//
// Until it is given a container, the pair is recorded in a directory of its own (the shim
// writes its and init's PIDs there, shimfiles.PIDFile), made before the shim starts: a
// daemon that dies without ending it leaves a record the next daemon ends it by.
type Warm struct {
	ctl     *shimapi.Channel
	pid     int
	shimPID int      // the shim's process group: the pair's priority is set on it
	record  string   // the pair's record directory; "" once handed a container
	shimfd  *os.File // pidfd on the shim, nil without pidfds
	initfd  *os.File // pidfd on init, nil without pidfds
	discard func(dir string) error
	mu      sync.Mutex // orders Close and Start
}

// StartWarm starts a warm shim; containers is the daemon's containers directory (it
// names the daemon in the process list), records the directory the pair's own record
// directory is made in. With a cgroup (v1, made by the caller), init is cloned in it by a
// shim thread that joins it for the clone, so that nothing has to be moved there after. A
// ctx cancelled or past its deadline ends the pair being made (shim and init, by PID) and
// returns once both are gone.
func StartWarm(ctx context.Context, containers, records, cgroup string, opts StartOptions) (*Warm, error) {
	if err := os.MkdirAll(records, 0o700); err != nil {
		return nil, err
	}
	record, err := os.MkdirTemp(records, "pair-")
	if err != nil {
		return nil, err
	}
	args := []string{"--warm", containers, record}
	if cgroup != "" {
		args = append(args, cgroup)
	}
	ctl, pid, shimfd, err := startShim(opts, nil, args...)
	if err != nil {
		os.Remove(record)
		return nil, err
	}
	// The shim records itself too, but only once it runs: one stopped or not yet scheduled
	// by then (a busy machine) would be missing from the record of a daemon killed now.
	// Appended, as the shim's own line is: the same process may be named twice.
	shimfiles.RecordProc(record, "shim", pid, false)
	w := &Warm{ctl: ctl, shimPID: pid, record: record, shimfd: shimfd, discard: opts.Discard}
	if w.discard == nil {
		w.discard = os.RemoveAll
	}
	// Made at low priority, so that it never slows a container's start or exit down: its
	// process group (it has just called setsid) is the shim and, soon, its init. Start
	// restores the priority when it is given a container.
	if !opts.Urgent {
		unix.Setpriority(unix.PRIO_PGRP, pid, warmNice)
	}
	dl, _ := ctx.Deadline()
	ctl.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { ctl.SetReadDeadline(time.Now()) })
	resp, err := ctl.RecvResponse()
	stop()
	if err == nil {
		err = resp.Err()
	}
	if err == nil {
		w.pid = resp.PID
		// The shim recorded init before it reported it.
		if recs, rerr := shimfiles.ReadProcs(record); rerr == nil {
			for _, r := range recs {
				if r.Name == "init" && r.PID == resp.PID {
					w.initfd, _ = pidfdOf(r)
				}
			}
		}
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("warm shim: %w", err)
	}
	return w, nil
}

// shimMemLimit is a shim's GOMEMLIMIT: what the runtime counts at rest (about 6 MiB, most
// of it reserved, not resident) and a busy stream's buffers, with room to spare, so that a
// flood of output that never goes quiet is collected now and then rather than all the
// time, and holds a few MiB of garbage at most. It is also where a shim that has not yet
// collected (it starts with GOGC=off) collects for the first time.
const shimMemLimit = "12MiB"

// warmNice is a warm shim's priority until it is given a container.
const warmNice = 10

// warmEndWithin bounds how long Close waits for a discarded pair's processes to exit.
const warmEndWithin = 10 * time.Second

// PID is the warm init's PID in the host's namespace.
func (w *Warm) PID() int { return w.pid }

// NetNS opens the warm init's network namespace through the pidfd on it: that process's
// (its PID alone may name another once it died), or an error (no pidfd, a kernel before
// 6.11, init gone, or the pair given its container already).
func (w *Warm) NetNS() (*os.File, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.initfd == nil {
		return nil, errors.New("warm shim: no pidfd on init")
	}
	fd, err := unix.IoctlRetInt(int(w.initfd.Fd()), unix.PIDFD_GET_NET_NAMESPACE)
	if err != nil {
		return nil, fmt.Errorf("warm shim: init's network namespace: %w", err)
	}
	return os.NewFile(uintptr(fd), "netns"), nil
}

// Start gives the warm shim the container described by s (ns.FitsWarm(s); config.json
// saved in s.Dir), as Start does; w is used up, even on error.
func (w *Warm) Start(ctx context.Context, s *spec.Spec) (*Container, error) {
	shimLog, err := openShimLog(s)
	if err != nil {
		w.Close()
		return nil, err
	}
	defer shimLog.Close()
	// The record goes before the shim learns of its container: from then on the pair is
	// the container's, which a later daemon must not end. Should we die in between, the
	// shim sees its channel close and ends itself.
	w.mu.Lock()
	err = w.discard(w.record)
	if err == nil {
		w.record = ""
		w.closeFds()
	}
	w.mu.Unlock()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("warm shim: %w", err)
	}
	// The pair runs the container's start from now on, at its priority: set here (the
	// only place) rather than by the shim, which would first have to be scheduled at
	// warmNice to do it.
	unix.Setpriority(unix.PRIO_PGRP, w.shimPID, 0)
	err = w.ctl.Send(&shimapi.InitMsg{Type: shimapi.MsgAssign, ID: s.Dir}, shimLog)
	if err != nil {
		w.ctl.Close()
		return nil, fmt.Errorf("warm shim: %w", err)
	}
	return created(ctx, s, w.ctl)
}

// Close discards an unused warm shim: it sees its channel close and exits, its init with
// it; init and the shim are killed as well (by pidfd, or by their record), and Close
// returns once they have exited and their record is gone.
func (w *Warm) Close() {
	w.ctl.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.record == "" {
		return // handed a container, or closed already
	}
	var fds []*os.File
	for _, f := range []*os.File{w.initfd, w.shimfd} { // init first: its shim would report it
		if f != nil {
			unix.PidfdSendSignal(int(f.Fd()), unix.SIGKILL, nil, 0)
			fds = append(fds, f)
		}
	}
	// What the pidfds do not cover (no pidfd for init yet: the pair was being made).
	EndLeftover(w.record, warmEndWithin)
	deadline := time.Now().Add(warmEndWithin)
	for _, f := range fds {
		waitPidfd(f, deadline)
	}
	w.closeFds()
	os.RemoveAll(w.record)
	w.record = ""
}

func (w *Warm) closeFds() {
	for _, f := range []*os.File{w.initfd, w.shimfd} {
		if f != nil {
			f.Close()
		}
	}
	w.initfd, w.shimfd = nil, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Connect reconnects to the live shim of the container in dir (after a daemon restart).
// A container whose shim is gone is errdefs.ErrNotFound: read its exit with ReadExit.
func Connect(dir string) (*Container, error) {
	c := &Container{dir: dir, sock: filepath.Join(dir, shimfiles.SocketName)}
	st, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("shim of %s: %w", dir, errors.Join(errdefs.ErrNotFound, err))
	}
	c.pid, c.tty = st.PID, st.Tty
	return c, nil
}

// ReadExit reads dir/exit.json; errdefs.ErrNotFound if the workload has no recorded end.
func ReadExit(dir string) (*Exit, error) {
	e, err := shimfiles.ReadExit(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("exit record of %s: %w", dir, errdefs.ErrNotFound)
	}
	return e, err
}

// Cleanup removes what a dead container leaves in dir: its socket and the empty rootfs
// mount point. Nothing is mounted on the host (mounts lived in the container's namespace).
func Cleanup(dir string) error {
	if c, err := shimapi.Dial(filepath.Join(dir, shimfiles.SocketName)); err == nil {
		c.Close()
		// Its rootfs mount point is in use in the container's namespace.
		return errdefs.Conflict(fmt.Sprintf("container in %s is still running", dir))
	}
	if err := os.Remove(filepath.Join(dir, shimfiles.SocketName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(filepath.Join(dir, shimfiles.PIDFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err := os.Remove(mount.RootfsDir(&spec.Spec{Dir: dir}))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove rootfs mount point: %w", err)
	}
	return nil
}

// PID is init's PID in the host's namespace: the target of cgroup and network setup.
func (c *Container) PID() int { return c.pid }

// Dir is the container directory.
func (c *Container) Dir() string { return c.dir }

// Tty reports whether the workload has a terminal.
func (c *Container) Tty() bool { return c.tty }

func (c *Container) call(ctx context.Context, req *shimapi.Request) (*shimapi.Response, error) {
	dl, _ := ctx.Deadline()
	resp, _, err := shimapi.Call(c.sock, req, false, dl)
	if err != nil && resp == nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	return resp, err
}

// Resume lets the held workload run. A workload that cannot start is a *StartError
// (Code 126/127) and the container has exited with that code.
func (c *Container) Resume(ctx context.Context) error {
	if err := c.Ready(ctx); err != nil {
		return err
	}
	_, err := c.call(ctx, &shimapi.Request{Op: shimapi.OpStart})
	return err
}

// State asks the shim.
func (c *Container) State() (*State, error) {
	resp, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpState})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Signal sends sig to init, which forwards it to the workload (SIGKILL ends init and so
// the whole container). It goes through the shim: never to a stored, reusable PID.
func (c *Container) Signal(sig syscall.Signal) error {
	_, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpSignal, Signal: int(sig)})
	return err
}

// Resize sets the container's terminal size.
func (c *Container) Resize(height, width uint16) error {
	_, err := c.call(context.Background(), &shimapi.Request{Op: shimapi.OpResize, Height: height, Width: width})
	return err
}

// WaitReaped is Wait that also reports the end of the container's processes: reaped yields
// true once the shim has reaped init (every process and namespace of the container is
// gone), false when the shim cannot tell (it is gone, or had finished already).
func (c *Container) WaitReaped(ctx context.Context) (ex *Exit, reaped <-chan bool, err error) {
	ex, reaped, err = shimapi.Wait(ctx, c.sock)
	if err == nil {
		return ex, reaped, nil
	}
	closed := make(chan bool)
	close(closed)
	if ctx.Err() != nil {
		return nil, closed, ctx.Err()
	}
	if e, rerr := ReadExit(c.dir); rerr == nil {
		return e, closed, nil
	}
	return nil, closed, fmt.Errorf("wait for container: %w", err)
}

// Wait returns the workload's exit once it has ended (exit.json is written by then). A shim
// that died without recording it is an error.
func (c *Container) Wait(ctx context.Context) (*Exit, error) {
	resp, err := shimapi.CallContext(ctx, c.sock, &shimapi.Request{Op: shimapi.OpWait})
	if err == nil && resp.Exit != nil {
		return resp.Exit, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// The shim may have finished between our calls: its record is on disk.
	if e, rerr := ReadExit(c.dir); rerr == nil {
		return e, nil
	}
	if err == nil {
		err = errors.New("no exit status")
	}
	return nil, fmt.Errorf("wait for container: %w", err)
}
