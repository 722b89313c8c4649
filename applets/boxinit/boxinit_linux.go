package boxinit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/plainfile"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/stackgrow"
)

// Exit codes of processes that never ran.
const (
	codeSetup      = 125
	codeNotRunable = 126
	codeNotFound   = 127
)

// runError is a failure to start a process, with its exit code.
type runError struct {
	code int
	err  error
}

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

func codeOf(err error) int {
	var re *runError
	if errors.As(err, &re) {
		return re.code
	}
	var nu *errNoUser
	if errors.As(err, &nu) {
		return codeNotRunable
	}
	return codeSetup
}

type initProc struct {
	ch  *shimapi.Channel
	s   *spec.Spec
	id  *identity
	cwd string
	// A warm init (in its cgroup from the start) readies the workload's thread while it
	// mounts: the start only forks.
	spawner  *spawner
	spawnErr error
	master   *os.File // the workload's pty, until handed to the shim
	slave    *os.File
	workload int
	execs    map[int]string  // pid -> exec id
	wcg      *workloadCgroup // nil: the workload shares init's cgroup
	trim     *rsstrim.Trimmer
	// remountRO is a read-only root's remount, put off until ldconfig has run (--gpus).
	remountRO *mount.Mount
	// For reexec: the spec as the shim sent it, and our executable (-1: none).
	raw []byte
	exe int
	// resumed: this process is init executed afresh (resume); it reads its spec from
	// specFile and seccompFile at its first exec.
	resumed               bool
	specFile, seccompFile *os.File
}

type incoming struct {
	m     *shimapi.InitMsg
	files []*os.File
	err   error
}

// initName is what /proc/1/comm and ps inside a container call init.
const initName = "minibox-init"

// Main is PID 1 of a container; everything below happens inside its new namespaces.
func Main(ctx context.Context, args []string) error {
	if state, ok := os.LookupEnv(stateEnv); ok {
		return resume(state)
	}
	// The main goroutine is not locked to its thread: mounts and the hostname are per
	// namespace, and pivot_root's new root and working directory are every thread's (the
	// runtime clones them sharing one fs struct). Locked, each time it waited (for the
	// spec, the go, the fork, a signal) the runtime handed its P to another thread and
	// back: two thread switches a wait, and two more threads before the reexec.
	reexec.NameSelf(initName)
	reaperAttrs()
	reexec.CloseInherited(4) // the shim passes 0-3 only; anything else must not reach the workload
	exe := openSelf()
	// Every signal is ours to forward; SIGCHLD drives the reaper. Notify takes most of a
	// millisecond (a round trip with the runtime's signal thread per signal, 64 of them),
	// so it runs while we wait for the spec and mount; the workload starts only after it
	// is done. /proc is the shim's until pivot_root.
	sigc := make(chan os.Signal, 128)
	notified := make(chan struct{})
	go func() {
		stackgrow.To4K() // onOneCPU's lists
		notifyAll(sigc, true)
		close(notified)
	}()
	ch, err := shimapi.NewChannel(os.NewFile(3, "init-channel"))
	if err != nil {
		return &errdefs.ExitError{Code: codeSetup, Err: fmt.Errorf("init channel: %w", err)}
	}
	var trim *rsstrim.Trimmer
	if ch.Empty() {
		spec.Prewarm() // a warm init: nothing to do until its container comes
		caps.All()     // read now, not by the workload's thread (held)
		// It may wait for minutes: it gives back what start-up touched meanwhile.
		trim = rsstrim.NewTrimmer(rsstrim.PairQuiet)
		go trim.Run()
		trim.Nudge()
	}
	s, raw, err := receiveSpec(ch)
	if err != nil {
		return &errdefs.ExitError{Code: codeSetup, Err: err}
	}
	stackgrow.To8K() // the mounts' plan reaches 8 KiB of stack
	in := &initProc{ch: ch, s: s, execs: map[int]string{}, trim: trim, raw: raw, exe: exe}
	var stage *os.File
	if s.UserNS != nil {
		m, files, err := ch.Recv()
		if err != nil {
			return in.fail(fmt.Errorf("read idmapped mounts: %w", err))
		}
		stage, err = attachIDMapped(s, m, files)
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			return in.fail(err)
		}
	}
	in.wcg, err = openWorkloadCgroup(s.Workload)
	if err == nil {
		err = in.setup()
	}
	if stage != nil {
		stage.Close() // pivot_root has detached it; the layers live on in the overlay
	}
	if err == nil && (!s.Process.Stdin || s.Process.Terminal) {
		// Without -i the workload reads the container's /dev/null, as Docker's does (a
		// warm init was given a stdin pipe before anyone knew).
		err = toDevNull(0)
	}
	if err != nil {
		return in.fail(err)
	}
	if s.InitInCgroup {
		in.spawner, in.spawnErr = in.prepareWorkload()
	}
	if err := ch.Send(&shimapi.InitMsg{Type: shimapi.MsgReady}, nonNil(in.master)...); err != nil {
		return &errdefs.ExitError{Code: codeSetup, Silent: true}
	}
	if in.master != nil {
		in.master.Close() // the shim's now
	}
	msgs := make(chan incoming, 4)
	go func() {
		stackgrow.To4K() // its first message's receipt reaches it
		in.read(msgs)
	}()
	<-notified
	if err := waitForGo(ch, msgs, sigc); err != nil {
		return err
	}
	if err := in.start(); err != nil {
		return in.fail(err)
	}
	// We idle from now on: keep only what reaping and forwarding touch. Not at once: a
	// short-lived workload should not wait for a garbage collection. One P is plenty for
	// reaping and forwarding, and lets the trims drop clean data pages too.
	runtime.GOMAXPROCS(1)
	if in.trim == nil {
		in.trim = rsstrim.NewTrimmer(rsstrim.PairQuiet)
		go in.trim.Run()
	}
	return in.loop(msgs, sigc)
}

// reaperAttrs makes init the reaper of the workload's orphans and ties it to its shim,
// where its PID namespace does not.
func reaperAttrs() {
	if os.Getpid() != 1 {
		// The host's or another container's PID namespace (--pid): orphans of the
		// workload come back to us to be reaped, not to that namespace's PID 1.
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	if unix.Getppid() == 0 {
		// Another container's PID namespace: the shim cloned us without a death signal
		// (its check of our parent would fail here); die with it all the same.
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	}
}

// receiveSpec reads the container's spec from the shim, and its seccomp program when it
// has one.
func receiveSpec(ch *shimapi.Channel) (*spec.Spec, []byte, error) {
	raw, err := ch.RecvRaw(4 << 20)
	if err != nil {
		return nil, nil, fmt.Errorf("read container spec: %w", err)
	}
	s, err := spec.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	if s.SeccompFile != "" {
		if s.Seccomp, err = ch.RecvRaw(4 << 20); err != nil {
			return nil, nil, fmt.Errorf("read seccomp program: %w", err)
		}
	}
	return s, raw, nil
}

// waitForGo holds the workload until the shim says go. A signal meanwhile ends init as
// it would have ended the workload; the shim leaving ends it in silence.
func waitForGo(ch *shimapi.Channel, msgs <-chan incoming, sigc <-chan os.Signal) error {
	for {
		select {
		case m := <-msgs:
			if m.err != nil {
				return &errdefs.ExitError{Code: codeSetup, Silent: true} // the shim is gone before go
			}
			if m.m.Type == shimapi.MsgGo {
				return nil
			}
		case sig := <-sigc:
			if n := sig.(syscall.Signal); n != unix.SIGCHLD && n != unix.SIGURG && n != unix.SIGWINCH {
				ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExit, Exit: &shimapi.Exit{ExitCode: 128 + int(n), Signal: int(n)}})
				return &errdefs.ExitError{Code: 128 + int(n), Silent: true}
			}
		}
	}
}

// toDevNull points each of fds at /dev/null.
func toDevNull(fds ...int) error {
	null, err := plainfile.File(os.DevNull, unix.O_RDWR)
	if err != nil {
		return err
	}
	defer null.Close()
	for _, fd := range fds {
		if err := unix.Dup3(int(null.Fd()), fd, 0); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(f *os.File) []*os.File {
	if f == nil {
		return nil
	}
	return []*os.File{f}
}

// fail reports err to the shim and exits with its code.
func (in *initProc) fail(err error) error {
	code := codeOf(err)
	in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgError, Error: err.Error(), Code: code})
	return &errdefs.ExitError{Code: code, Silent: true}
}

func (in *initProc) read(out chan<- incoming) {
	for {
		m, files, err := in.ch.Recv()
		out <- incoming{m, files, err}
		if err != nil {
			return
		}
	}
}

// setup is everything that can happen before the daemon's go: it overlaps the daemon's
// cgroup and network work.
func (in *initProc) setup() error {
	s := in.s
	// Sysctls are per namespace: /proc/sys/net and kernel.shm* resolve the writer's.
	for k, v := range s.Sysctl {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	if s.Hostname != "" && s.NewNS(spec.NSUTS) {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("sethostname %s: %w", s.Hostname, err)
		}
	}
	if s.Rootfs.Volatile {
		// An upper thrown away after its run needs no crash guard: a second start of it
		// (after a daemon restart left it created) mounts it as it is.
		os.RemoveAll(mount.VolatileMarker(s.Rootfs))
	}
	if err := mount.Apply(in.splitLdconfig(mount.RootfsPlan(s))); err != nil {
		return err
	}
	if s.Process.Terminal {
		master, slave, err := openPty()
		if err != nil {
			return err
		}
		in.master, in.slave = master, slave
		if err := bindConsole(slave); err != nil {
			return err
		}
	}
	in.cwd = s.Process.Cwd
	if in.cwd == "" {
		in.cwd = "/"
	}
	// Docker creates a missing working directory.
	if err := os.MkdirAll(in.cwd, 0o755); err != nil && !s.Rootfs.ReadOnly {
		return fmt.Errorf("working directory %s: %w", in.cwd, err)
	}
	return nil
}

// start runs the workload.
func (in *initProc) start() error {
	s := in.s
	if err := setRlimits(s.Process.Rlimits); err != nil {
		return err
	}
	if s.Process.OOMScoreAdj != nil {
		setOOMScoreAdj(*s.Process.OOMScoreAdj)
	}
	if err := in.ldconfig(); err != nil {
		return err
	}
	sp, err := in.spawner, in.spawnErr
	if sp == nil && err == nil {
		sp, err = in.prepareWorkload()
	}
	if err != nil {
		return err
	}
	pid, err := sp.fork()
	if err != nil {
		return err
	}
	if in.slave != nil {
		in.slave.Close()
	}
	// Our stdio is the workload's pipes: let go of them, so they reach EOF when the
	// container's processes are done with them, not only when init has exited.
	toDevNull(0, 1, 2)
	in.workload = pid
	return in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgStarted, PID: pid})
}

// prepareWorkload resolves the workload's user and executable and readies a thread to fork
// it. Its errors (126, 127) are the start request's, so that every "cannot run" is
// recorded as the container's exit, even when a warm init prepares during setup.
func (in *initProc) prepareWorkload() (*spawner, error) {
	s := in.s
	if len(s.Process.Args) == 0 {
		return nil, &runError{codeSetup, errors.New("no command given")}
	}
	id, err := lookupUser(s.Process.User, openFile("/etc/passwd"), openFile("/etc/group"))
	if err == nil {
		id, err = withGroups(id, s.Process.GroupAdd, openFile("/etc/group"))
	}
	if err != nil {
		return nil, err
	}
	in.id = id
	if in.slave != nil {
		// The workload owns its terminal, as login(1) would arrange.
		unix.Fchown(int(in.slave.Fd()), id.UID, 5)
	}
	env := withDefault(s.Process.Env, "HOME", id.Home)
	path, err := lookPath(s.Process.Args[0], env)
	if err != nil {
		return nil, &runError{codeNotFound, err}
	}
	stdio := []uintptr{0, 1, 2}
	if in.slave != nil {
		fd := in.slave.Fd()
		stdio = []uintptr{fd, fd, fd}
	}
	return prepare(&proc{
		path: path, args: s.Process.Args, env: env, dir: in.cwd, id: id,
		caps: s.Process.Capabilities, noNewPrivs: s.Process.NoNewPrivs, seccomp: s.Seccomp,
		files: stdio, tty: in.slave != nil,
		cgroupNS: !s.HostNS(spec.NSCgroup), cgroupMount: s.UserNS == nil, privileged: s.Privileged, cg: in.wcg,
	}), nil
}

func (in *initProc) loop(msgs <-chan incoming, sigc <-chan os.Signal) error {
	// Once quiet, init executes itself afresh (reexec), once: not a resumed one, nor one
	// whose shim is gone (it would hold nothing for us).
	var quiet *time.Timer
	var quietC <-chan time.Time
	if !in.resumed && in.exe >= 0 {
		quiet = time.NewTimer(reexecQuiet)
		quietC = quiet.C
	}
	paused := false // we asked the shim to hold everything for us
	for {
		// A trim after each event, once quiet; not while we are to execute ourselves
		// afresh once quiet (the same wait): that drops more, and the trim's scan of our
		// mappings, its madvise and maybe its collection would be thrown away with us.
		if quietC == nil {
			in.trim.Kick()
		}
		select {
		case <-quietC:
			quietC = nil
			if in.ch.SendRaw(msgPause) == nil {
				paused = true
			}
			continue
		case sig := <-sigc:
			n := sig.(syscall.Signal)
			switch {
			case n == unix.SIGCHLD:
				if done, err := in.reaped(); done {
					return err
				}
			case n == unix.SIGURG:
				// Go's runtime preempts our own goroutines with SIGURG, and Notify hands
				// those on too: a user's comes as a message instead (MsgExecSignal).
			default:
				unix.Kill(in.workload, n)
			}
		case m := <-msgs:
			if m.err != nil {
				msgs = nil // the shim died: the workload runs on, unwatched
				quietC = nil
				continue
			}
			if m.m.Type == shimapi.MsgPaused {
				if paused {
					// The shim holds its signals and messages: nothing more comes in.
					in.reexec() // returns only if it failed: go on as we were
					paused = false
					in.ch.SendRaw(msgResumed)
				}
				continue
			}
			in.handle(m.m, m.files)
		}
		if quietC != nil {
			quiet.Reset(reexecQuiet)
		}
	}
}

// reaped reaps the children that exited; done when the workload has, with the error init
// ends with (after reporting the exit).
func (in *initProc) reaped() (done bool, err error) {
	exit := in.reap()
	if exit == nil {
		return false, nil
	}
	if os.Getpid() != 1 {
		killChildren()
	}
	in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExit, Exit: exit})
	if exit.ExitCode == 0 {
		return true, nil
	}
	return true, &errdefs.ExitError{Code: exit.ExitCode, Silent: true}
}

// killChildren kills and reaps what the workload left behind when init is not PID 1 of
// its namespace (--pid host or container:<name>), where the kernel would not: as a
// subreaper, init is the parent of every orphan, so its children are all of them.
func killChildren() {
	for range 100 {
		// Each thread lists the children it forked (or was handed as a reaper).
		var pids []string
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, t := range tasks {
			b, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
			pids = append(pids, strings.Fields(string(b))...)
		}
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				unix.Wait4(pid, nil, 0, nil)
			}
		}
	}
}

// reap collects every exited child: the workload's status ends init; exec processes are
// reported; orphans re-parented to us just vanish.
func (in *initProc) reap() *shimapi.Exit {
	var workload *shimapi.Exit
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return workload
		}
		exit := status(ws)
		if pid == in.workload {
			workload = exit
		} else if id, ok := in.execs[pid]; ok {
			delete(in.execs, pid)
			in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExecExit, ID: id, Exit: exit})
		}
	}
}

func status(ws unix.WaitStatus) *shimapi.Exit {
	e := &shimapi.Exit{ExitCode: ws.ExitStatus(), FinishedAt: time.Now().UTC()}
	if ws.Signaled() {
		e.Signal = int(ws.Signal())
		e.ExitCode = 128 + e.Signal
	}
	return e
}

func (in *initProc) handle(m *shimapi.InitMsg, files []*os.File) {
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	switch m.Type {
	case shimapi.MsgExec:
		pid, master, err := in.exec(m.Exec, files)
		if err != nil {
			in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExecStarted, ID: m.ID, Error: err.Error(), Code: codeOf(err)})
			return
		}
		in.execs[pid] = m.ID
		in.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExecStarted, ID: m.ID, PID: pid}, nonNil(master)...)
		if master != nil {
			master.Close()
		}
	case shimapi.MsgExecSignal:
		if m.ID == "" {
			unix.Kill(in.workload, syscall.Signal(m.Signal))
			return
		}
		for pid, id := range in.execs {
			if id == m.ID {
				unix.Kill(pid, syscall.Signal(m.Signal))
			}
		}
	}
}

// exec starts an exec process: the container's user, environment and directory unless the
// request overrides them, and the same capabilities, no_new_privs and seccomp filter.
func (in *initProc) exec(x *shimapi.Exec, files []*os.File) (int, *os.File, error) {
	if x == nil || len(x.Args) == 0 {
		return 0, nil, &runError{codeSetup, errors.New("exec: no command given")}
	}
	s, err := in.spec()
	if err != nil {
		return 0, nil, err
	}
	id := in.id
	if x.User != "" {
		u, err := lookupUser(x.User, openFile("/etc/passwd"), openFile("/etc/group"))
		if err == nil {
			u, err = withGroups(u, s.Process.GroupAdd, openFile("/etc/group"))
		}
		if err != nil {
			return 0, nil, err
		}
		id = u
	}
	env := spec.MergeEnv(s.Process.Env, x.Env)
	env = withDefault(env, "HOME", id.Home)
	dir := x.Cwd
	if dir == "" {
		dir = in.cwd
	}
	// Checked here: the child's chdir and execve failures share one errno, and a missing
	// directory must not read as a missing command (127).
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = unix.ENOTDIR
		}
		return 0, nil, &runError{codeNotRunable, fmt.Errorf("chdir to %s: %w", dir, err)}
	}
	path, err := lookPath(x.Args[0], env)
	if err != nil {
		return 0, nil, &runError{codeNotFound, err}
	}
	var stdio []uintptr
	var master *os.File
	if x.Tty {
		m, slave, err := openPty()
		if err != nil {
			return 0, nil, err
		}
		defer slave.Close()
		if x.Height > 0 && x.Width > 0 {
			unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: x.Height, Col: x.Width})
		}
		unix.Fchown(int(slave.Fd()), id.UID, 5)
		fd := slave.Fd()
		stdio, master = []uintptr{fd, fd, fd}, m
	} else {
		if len(files) != 3 {
			return 0, nil, fmt.Errorf("exec: %d stdio files passed, want 3", len(files))
		}
		stdio = []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()}
	}
	capabilities := s.Process.Capabilities
	if x.Privileged {
		capabilities = caps.All()
	}
	pid, err := spawn(&proc{
		path: path, args: x.Args, env: env, dir: dir, id: id,
		caps: capabilities, noNewPrivs: s.Process.NoNewPrivs, seccomp: s.Seccomp,
		files: stdio, tty: x.Tty, cgroupNS: !s.HostNS(spec.NSCgroup), cg: in.wcg,
	})
	if err != nil {
		if master != nil {
			master.Close()
		}
		return 0, nil, err
	}
	return pid, master, nil
}
