package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/ns"
	"github.com/minibox/minibox/pkg/plainfile"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/shimfiles"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/stackgrow"
	"github.com/minibox/minibox/pkg/timerslack"
)

// Main runs a container's shim. fd 3 is the daemon's control channel (SOCK_SEQPACKET), fd
// 4 the sealed executable init runs from. With a container directory it starts that
// container's init; with "--warm <containers dir>" it clones an init ahead of time, in the
// namespaces every container without a user namespace has (and, given a v1 cgroup after
// the record directory, in that cgroup), and waits on fd 3 for the daemon to name its
// container.
//
// With "--tied <container dir>" (a build's container) the container is tied to the daemon
// process: the shim records itself and init in the directory's shim.pid, and ends init as
// soon as fd 3 has no daemon at the other end.
//
// On fd 3 the shim reports twice: init's PID once init exists and shim.sock answers (the
// daemon joins the cgroup, wires the network and attaches meanwhile), then init's readiness
// (mounts done, workload held) or why it failed.
func Main(ctx context.Context, args []string) error {
	warm := (len(args) == 3 || len(args) == 4) && args[0] == "--warm"
	tied := len(args) == 2 && args[0] == "--tied"
	if len(args) != 1 && !warm && !tied {
		return errors.New("usage: minibox-shim <container dir> | --tied <container dir> | --warm <containers dir> <record dir> [<cgroup>]")
	}
	// init's parent-death signal is sent when the thread that forked it ends: any of ours,
	// since the runtime ends a thread only with a goroutine locked to it, and none of the
	// shim's ends locked (inNamespaces unlocks). Not locking the main goroutine saves the
	// runtime's template thread and the thread that would run everything else.
	reexec.NameSelf("minibox-shim")
	unix.CloseOnExec(4) // init runs it by path; nothing in the container may hold it
	reexec.CloseInherited(5)
	ctl, err := shimapi.NewChannel(os.NewFile(3, "control"))
	if err != nil {
		return err
	}
	defer ctl.Close()
	sh := &shim{execs: map[string]*execProc{}, attached: map[*attachment]bool{}, ready: make(chan struct{}),
		trim: rsstrim.NewTrimmer(trimQuiet)}
	sh.trim.CollectFromThenOn(workGCPercent)
	go sh.trim.Run()
	if warm {
		cgroupPath := "" // the pair's cgroup to clone init in, if the daemon made one
		if len(args) == 4 {
			cgroupPath = args[3]
		}
		if err := sh.warmUp(ctl, args[2], cgroupPath); err != nil {
			ctl.SendResponse(&shimapi.Response{Error: err.Error()})
			sh.discard()
			return err
		}
		// A warm pair may wait for minutes: it gives back what start-up touched, as a
		// running shim does. The start faults the create path back in from the page cache.
		sh.trim.Nudge()
		if sh.dir, err = sh.awaitAssignment(ctl); err != nil || sh.dir == "" {
			sh.discard()
			return err // the daemon went away, or threw us out
		}
	} else if tied {
		sh.dir, sh.tied = args[1], true
		// Before init exists: whatever befalls us from here, a later daemon finds us.
		if err := shimfiles.RecordProc(sh.dir, "shim", os.Getpid(), true); err != nil {
			ctl.SendResponse(&shimapi.Response{Error: fmt.Sprintf("record the shim: %v", err)})
			return err
		}
	} else {
		sh.dir = args[0]
	}
	sh.log = slog.New(slog.NewTextHandler(os.Stderr, nil)) // stderr is containers/<id>/shim.log
	if tied {
		go sh.watchDaemon(ctl)
	}
	stackgrow.To8K() // create and the requests after it reach 8 KiB of stack
	if err := sh.create(); err != nil {
		ctl.SendResponse(&shimapi.Response{Error: err.Error(), Code: codeOf(err)})
		sh.log.Error("create container", "err", err)
		sh.discard()
		if sh.ln != nil {
			sh.ln.Close()
			os.Remove(shimfiles.SocketName)
		}
		return err
	}
	sh.accept()
	ctl.SendResponse(&shimapi.Response{PID: sh.proc.Pid})
	if err := sh.awaitInit(); err != nil {
		ctl.SendResponse(&shimapi.Response{Error: err.Error(), Code: codeOf(err)})
		sh.log.Error("create container", "err", err)
		sh.serve()
		return err
	}
	ctl.SendResponse(&shimapi.Response{})
	if !tied {
		ctl.Close()
	}
	sh.trim.Kick()
	sh.serve()
	return nil
}

// trimQuiet is how long the shim must have had nothing new to do before it gives memory
// back.
const trimQuiet = rsstrim.PairQuiet

// workGCPercent is the shim's GOGC once it has collected once (it starts with GOGC=off): an
// eager collector keeps what execs and output streams leave behind small.
const workGCPercent = 25

func codeOf(err error) int {
	var se *shimapi.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

type shim struct {
	dir  string
	tied bool // ends with the daemon (watchDaemon)
	log  *slog.Logger
	s    *spec.Spec
	proc *initProcess
	ch   *shimapi.Channel
	ln   *net.UnixListener

	// Made before init starts: its stdio.
	outR   [2]*os.File // read ends of init's stdout and stderr pipes
	warmed uintptr     // a warm init's clone flags (0: init is cloned for its container)
	// cg is the host's cgroup layout, for the OOM check at the end: learnt while a warm
	// pair waits, or when init was cloned into its cgroup (nil: not yet).
	cg cgroup.Manager

	logw    *logfile.Writer
	master  *os.File // the workload's pty
	stdin   *os.File // write end of the workload's stdin pipe (-i without a tty)
	outputs sync.WaitGroup
	replies sync.WaitGroup // requests being answered
	ready   chan struct{}  // closed once init is ready or has failed to be

	repliesMu sync.Mutex // orders replies.Add before serve's Wait
	// initGate is held around each signal and message to a running init, and by readInit
	// while init executes itself afresh (MsgPause to MsgResumed): a signal then would
	// find it without handlers. Taken before mu.
	initGate   sync.Mutex
	repliesEnd bool // serve is waiting for the replies in flight: count no more

	mu           sync.Mutex
	orphaned     bool // tied, and the daemon is gone: init must not run
	status       string
	startedAt    time.Time
	exit         *shimapi.Exit
	exitRecorded bool          // exit.json is written: wait may answer with exit
	initExit     *shimapi.Exit // as init reported it
	started      chan *shimapi.InitMsg
	waiters      []chan *shimapi.Exit
	attached     map[*attachment]bool
	execs        map[string]*execProc
	nextExec     int
	ended        []string // exited execs, oldest first: their records are kept a while
	done         chan struct{}
	initDone     chan struct{} // readInit has seen the channel close
	exitReported chan struct{} // init sent MsgExit
	reaped       chan error    // init's wait status, once reaped
	trim         *rsstrim.Trimmer
	gone         chan struct{} // closed once init is reaped (goneCh)
	closeExit    func(bool)    // closes exit.json, durably if true (serve runs it last)
	mounts       *os.File      // init's mount namespace, held until serve ends (holdMounts)
}

// attachment is one client receiving the container's output.
type attachment struct {
	conn *shimapi.Conn // the daemon's connection
	// out is where the output goes: conn, or the client's own connection once the daemon
	// has handed it over (direct).
	out    net.Conn
	direct bool
	// held: the daemon has not yet said where the output goes (resolve); until it does,
	// the output waits in pending, in the order it came, and resolved is open.
	held     bool
	pending  []byte
	ending   bool // the output ended while held: resolve ends the attachment
	resolved chan struct{}
	mu       sync.Mutex
	dead     bool
	bigSend  bool // its socket's send buffer was raised for spliced output
}

// warmUp clones an init that waits for its spec, with a stdin pipe whatever the container
// turns out to want (init swaps in /dev/null when it wants none). The shim and init are
// recorded in record (shimfiles.PIDFile), the shim before init exists, for a later daemon
// to end them by should theirs die without doing so; the daemon removes the record when it
// gives us a container.
func (sh *shim) warmUp(ctl *shimapi.Channel, record, cgroupPath string) error {
	// Not the daemon's directory: that would keep it busy for as long as we wait.
	if err := os.Chdir("/"); err != nil {
		return err
	}
	// A record gone already is a daemon gone (the next one cleared it): nothing to warm.
	// Appended, not started afresh: the directory is this pair's own, and holds at most
	// the daemon's line for this same shim (ReadProcs reads it once). A truncation would
	// have ext4 write the file back at its close (its auto_da_alloc), in our time.
	if err := shimfiles.RecordProc(record, "shim", os.Getpid(), false); err != nil {
		return fmt.Errorf("record the warm shim: %w", err)
	}
	attr := &syscall.SysProcAttr{Cloneflags: ns.Warm}
	var err error
	if cgroupPath != "" {
		// Born in the pair's cgroup, which the daemon renames to the container's: no
		// process is moved, and no move waits for a kernel grace period.
		if sh.cg, err = openCgroups(); err != nil {
			return err
		}
		err = sh.spawnJoined(cgroupPath, attr, true, true)
	} else {
		err = sh.spawnInit(attr, true, true)
	}
	if err != nil {
		return err
	}
	if err := shimfiles.RecordProc(record, "init", sh.proc.Pid, false); err != nil {
		return fmt.Errorf("record the warm init: %w", err)
	}
	sh.warmed = ns.Warm
	if err := ctl.SendResponse(&shimapi.Response{PID: sh.proc.Pid}); err != nil {
		return err
	}
	prewarm()
	if sh.cg == nil {
		// Looked up now, not between init's ready and the workload's start (our one P
		// would run it ahead of the daemon's requests): the layout is the host's, not a
		// container's.
		sh.cg, _ = openCgroups()
	}
	return nil
}

// openCgroups opens the host's cgroup layout for a warm shim: anything it logs goes where
// our stderr goes until the container's shim.log comes.
func openCgroups() (cgroup.Manager, error) {
	return cgroup.Open(slog.New(slog.NewTextHandler(os.Stderr, nil)))
}

// prewarm runs, once, what a start runs first (decoding a spec), so that its first-use
// costs (page faults) are paid while we wait for a container. Listening needs no warming:
// listenUnix does not read somaxconn.
func prewarm() {
	spec.Prewarm()
}

// awaitAssignment waits for the daemon to name the container, and takes its shim.log as
// stderr. "" is a daemon gone (or closing the pool): there is nothing to do.
func (sh *shim) awaitAssignment(ctl *shimapi.Channel) (string, error) {
	m, files, err := ctl.Recv()
	if err != nil {
		return "", nil
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if m.Type != shimapi.MsgAssign || m.ID == "" || len(files) != 1 {
		return "", fmt.Errorf("warm shim: unexpected %q from the daemon", m.Type)
	}
	if err := unix.Dup3(int(files[0].Fd()), 2, 0); err != nil {
		return "", fmt.Errorf("warm shim: take shim.log: %w", err)
	}
	return m.ID, nil
}

// discard ends an init that will never run a workload.
func (sh *shim) discard() {
	if sh.proc != nil && !sh.proc.Reaped() {
		sh.proc.Kill()
		sh.proc.Wait()
	}
}

// spawnInCgroup is spawnInit with init born in the container's cgroup when the daemon
// asks for it (InitInCgroup without a warm init).
func (sh *shim) spawnInCgroup(attr *syscall.SysProcAttr, pipes, stdin bool) error {
	if !sh.s.InitInCgroup {
		return sh.spawnInit(attr, pipes, stdin)
	}
	cg, err := cgroup.Open(sh.log)
	if err != nil {
		return err
	}
	sh.cg = cg
	return sh.spawnJoined(sh.s.CgroupPath, attr, pipes, stdin)
}

// spawnJoined is spawnInit with init born in the cgroup path of sh.cg: the calling thread
// joins it for the clone and leaves it again (cgroup.V1.JoinThread), and no process has to
// be moved.
func (sh *shim) spawnJoined(path string, attr *syscall.SysProcAttr, pipes, stdin bool) error {
	j, ok := sh.cg.(interface {
		JoinThread(path string) (func() error, error)
	})
	if !ok {
		return fmt.Errorf("cgroup %s: the daemon asked for init in it, and cgroup v%d moves no thread", path, sh.cg.Version())
	}
	// The cgroup is the thread's: it is locked meanwhile, and stays locked to the main
	// goroutine if it could not leave (it lives on either way: init's parent-death signal
	// follows it).
	runtime.LockOSThread()
	leave, err := j.JoinThread(path)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	err = sh.spawnInit(attr, pipes, stdin)
	if lerr := leave(); lerr != nil {
		// Staying would put the shim in the container's cgroup: its limits, its freeze,
		// and a removal that waits for it.
		if err == nil {
			sh.discard()
		}
		return errors.Join(err, lerr)
	}
	runtime.UnlockOSThread()
	return err
}

// spawnInit clones init with attr's namespaces, its stdout and stderr pipes into
// sh.outR (/dev/null for a tty's init, whose workload gets the pty) and, with stdin, a pipe
// for the workload's stdin in sh.stdin.
func (sh *shim) spawnInit(attr *syscall.SysProcAttr, pipes, stdin bool) error {
	shimEnd, initEnd, err := shimapi.Socketpair()
	if err != nil {
		return err
	}
	defer initEnd.Close()
	if sh.ch, err = shimapi.NewChannel(shimEnd); err != nil {
		return err
	}
	null, err := plainfile.File(os.DevNull, unix.O_RDWR)
	if err != nil {
		return err
	}
	defer null.Close()
	files := []*os.File{null, null, null, initEnd}
	// Without its shim a container has no log, no exit record and no way to be stopped
	// through the daemon: it dies with it rather than run on unseen.
	// Not when init joins another container's PID namespace: Go's child checks that its
	// parent is alive by getppid(), which is 0 there (the shim is outside), and would kill
	// itself. Init sets it then (boxinit).
	if p := sh.s; p == nil || p.NewNS(spec.NSPID) || p.HostNS(spec.NSPID) {
		attr.Pdeathsig = syscall.SIGKILL
	}
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if pipes {
		for i := range sh.outR {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			sh.outR[i] = r
			childEnds = append(childEnds, w)
		}
		files[1], files[2] = childEnds[0], childEnds[1]
	}
	if stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		files[0], sh.stdin = r, w
		childEnds = append(childEnds, r)
	}
	if sh.isOrphaned() {
		return errors.New("the daemon is gone")
	}
	// Its environment: room for a spec and a seccomp program of 4 MiB each, decoded.
	env := append(rsstrim.RuntimeEnv("off", "32MiB"), timerslack.Env()...)
	proc, err := startInit("/proc/self/fd/4", []string{"minibox-init"}, env, files, attr)
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	sh.mu.Lock()
	sh.proc = proc
	orphaned := sh.orphaned
	sh.mu.Unlock()
	if orphaned {
		proc.Kill() // watchDaemon saw the daemon go while we started init
	}
	return nil
}

func (sh *shim) isOrphaned() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.orphaned
}

// watchDaemon ends a tied container once its daemon is gone: the daemon sends nothing on
// the control channel, whose other end closes with the daemon's process however it ends
// (kill -9 included), or when it is done with the container. init's SIGKILL ends the
// container's every process; the shim then records the end and exits as usual.
func (sh *shim) watchDaemon(ctl *shimapi.Channel) {
	for {
		_, files, err := ctl.Recv()
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			break
		}
	}
	sh.mu.Lock()
	sh.orphaned = true
	proc := sh.proc
	sh.mu.Unlock()
	if proc != nil {
		// init is our child: its PID stays its own until we reap it. Once reaped, Kill
		// does nothing.
		proc.Kill()
	}
}

// create reads the container's spec, starts its init (or hands the spec to the warm one)
// and listens on shim.sock. init is not ready yet: awaitInit waits for that.
func (sh *shim) create() error {
	raw, err := plainfile.ReadFile(filepath.Join(sh.dir, spec.FileName))
	if err != nil {
		return err
	}
	s, err := spec.Parse(raw)
	if err != nil {
		return err
	}
	sh.s = s
	sh.status = shimapi.StatusCreated
	sh.started = make(chan *shimapi.InitMsg, 1)
	sh.done = make(chan struct{})
	sh.initDone = make(chan struct{})
	sh.exitReported = make(chan struct{})
	sh.reaped = make(chan error, 1)
	if err := os.Chdir(sh.dir); err != nil { // a relative socket path fits sockaddr_un
		return err
	}
	// A second shim for a live container would take its socket away: refuse.
	if c, err := shimapi.Dial(shimfiles.SocketName); err == nil {
		c.Close()
		return errors.New("container is already running (its shim answers on shim.sock)")
	}
	os.Remove(shimfiles.ExitName)
	os.Remove(shimfiles.SocketName)
	// Mkdir, not MkdirAll: a tied shim whose daemon died before it got here may find its
	// directory removed by the next daemon, and must not bring it back.
	if err := os.Mkdir(mount.RootfsDir(s), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	wantStdin := s.Process.Stdin && !s.Process.Terminal
	if sh.warmed != 0 {
		if !ns.FitsWarm(s) {
			return fmt.Errorf("warm shim: the container needs namespaces %#x, its init has %#x", ns.CloneFlags(s), sh.warmed)
		}
		if !wantStdin {
			sh.stdin.Close() // the workload's stdin: init makes it /dev/null
			sh.stdin = nil
		}
	} else if err := inNamespaces(ns.Joins(s), func() error { return sh.spawnInCgroup(ns.Attr(s), !s.Process.Terminal, wantStdin) }); err != nil {
		return err
	}
	if sh.tied {
		if err := shimfiles.RecordProc(sh.dir, "init", sh.proc.Pid, false); err != nil {
			return fmt.Errorf("record init: %w", err)
		}
	}
	// init reads the spec as soon as its runtime is up (a warm one is waiting for it),
	// then the seccomp program: files init could not open itself in a user namespace.
	// The spec goes first: init decodes it while we read the program.
	if err := sh.ch.SendRaw(raw); err != nil {
		return fmt.Errorf("send spec to init: %w", err)
	}
	var seccomp []byte
	if s.SeccompFile != "" {
		if seccomp, err = readSeccomp(s.SeccompFile); err != nil {
			return err
		}
		defer unix.Munmap(seccomp)
	}
	if seccomp != nil {
		if err := sh.ch.SendRaw(seccomp); err != nil {
			return fmt.Errorf("send seccomp program to init: %w", err)
		}
	}
	if s.UserNS != nil {
		if err := sh.sendIDMapped(sh.proc.Pid); err != nil {
			return fmt.Errorf("idmapped mounts: %w", err)
		}
	}
	// While init starts up and mounts: our socket and the log.
	return sh.listen()
}

// readSeccomp reads the seccomp program at path into memory outside the Go heap, for the
// caller to unmap once sent: the shim, which does not collect, would otherwise keep its
// copy of Docker's profile (17 KB) for the container's life.
func readSeccomp(path string) ([]byte, error) {
	fd, err := plainfile.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("seccomp program: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("seccomp program: %w", &os.PathError{Op: "stat", Path: path, Err: err})
	}
	size := st.Size
	if size == 0 || size%8 != 0 || size > maxSeccomp {
		return nil, fmt.Errorf("seccomp program %s: %d bytes, not whole instructions", path, size)
	}
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("seccomp program: %w", err)
	}
	if err := plainfile.ReadFull(fd, b, path); err != nil {
		unix.Munmap(b)
		return nil, fmt.Errorf("seccomp program %s: %w", path, err)
	}
	return b, nil
}

// maxSeccomp is the largest program init takes (its RecvRaw's limit).
const maxSeccomp = 4 << 20

// nsFlags are setns(2)'s flags by namespace kind.
var nsFlags = map[string]int{"net": unix.CLONE_NEWNET, "ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "pid": unix.CLONE_NEWPID}

// inNamespaces runs fn (a clone of init) with this thread in the namespaces joins names
// (another container's: --network, --ipc, --pid container:<name>), and puts the thread
// back: init inherits the namespaces of the thread that clones it (for pid, the thread's
// namespace for children). The thread is locked meanwhile, so nothing else runs on it, and
// stays locked to the main goroutine if it could not be put back (it lives on either way:
// init's parent-death signal follows it).
func inNamespaces(joins [][2]string, fn func() error) (err error) {
	if len(joins) == 0 {
		return fn()
	}
	runtime.LockOSThread()
	stuck := false // a namespace could not be left
	defer func() {
		if !stuck {
			runtime.UnlockOSThread()
		}
	}()
	for _, j := range joins {
		kind, path := j[0], j[1]
		target, oerr := os.Open(path)
		if oerr != nil {
			return fmt.Errorf("%s namespace to join: %w", kind, oerr)
		}
		// pid_for_children is what a pid join changes, and what must be restored.
		ownName := kind
		if kind == "pid" {
			ownName = "pid_for_children"
		}
		own, oerr := os.Open("/proc/thread-self/ns/" + ownName)
		if oerr != nil {
			target.Close()
			return oerr
		}
		serr := unix.Setns(int(target.Fd()), nsFlags[kind])
		target.Close()
		if serr != nil {
			own.Close()
			return fmt.Errorf("join %s namespace: %w", kind, serr)
		}
		defer func() {
			if rerr := unix.Setns(int(own.Fd()), nsFlags[kind]); rerr != nil {
				stuck = true
				err = errors.Join(err, fmt.Errorf("leave %s namespace: %w", kind, rerr))
			}
			own.Close()
		}()
	}
	return fn()
}

// holdMounts keeps init's mount namespace alive past init, until the shim is done: a --rm
// container's mounts then go when the shim closes it, after init has been reaped and the
// daemon told, not in init's exit. Their teardown waits out two expedited RCU grace
// periods (the namespace's unmount, and overlayfs's own unmount of its layers' clones),
// most of the millisecond or more init's exit took, which the daemon's cleanup and the
// CLI's answer waited for. The directory is discarded whole meanwhile; nothing mounts
// its layers again (not so for a container that may start again: its next overlay must
// find the upper directory free).
func (sh *shim) holdMounts() {
	// init is our child, not reaped yet: its PID is its own.
	f, err := os.Open("/proc/" + strconv.Itoa(sh.proc.Pid) + "/ns/mnt")
	if err != nil {
		return // its exit tears them down, as without
	}
	sh.mounts = f
}

// awaitInit waits for init's setup and starts copying its output. A failure is recorded as
// the container's exit (125, or init's code).
func (sh *shim) awaitInit() error {
	defer close(sh.ready)
	m, files, err := sh.ch.Recv()
	if err != nil || m.Type != shimapi.MsgReady {
		sh.discard()
		if err == nil && m.Type == shimapi.MsgError {
			err = &shimapi.Error{Msg: m.Error, Code: m.Code}
		} else if err == nil {
			err = fmt.Errorf("init sent %q before ready", m.Type)
		} else {
			err = fmt.Errorf("init died during setup: %w", err)
		}
		sh.finish(&shimapi.Exit{ExitCode: max(codeOf(err), 125), FinishedAt: time.Now().UTC()})
		return err
	}
	if sh.s.Process.Terminal {
		if len(files) != 1 {
			sh.discard()
			sh.finish(&shimapi.Exit{ExitCode: 125, FinishedAt: time.Now().UTC()})
			return errors.New("init sent no pty")
		}
		sh.master = files[0]
		sh.copyOutput(sh.master, shimapi.Stdout, "stdout", nil)
	} else {
		sh.copyOutput(sh.outR[0], shimapi.Stdout, "stdout", nil)
		sh.copyOutput(sh.outR[1], shimapi.Stderr, "stderr", nil)
	}
	if sh.s.AutoRemove {
		sh.holdMounts()
	}
	// A warm init of a tty container keeps its pipes' write ends (its own stdout, stderr)
	// until it spawns the workload; the read ends stay open here so that nothing init
	// writes before then breaks a pipe.
	go sh.readInit()
	go sh.waitInit()
	return nil
}

func (sh *shim) listen() (err error) {
	sh.ln, err = listenUnix(shimfiles.SocketName)
	if err != nil {
		return err
	}
	os.Chmod(shimfiles.SocketName, 0o600)
	sh.logw, err = logfile.Open(shimfiles.LogName, sh.s.Log)
	return err
}

// listenUnix listens on path, as net.ListenUnix does but for the backlog: net reads
// /proc/sys/net/core/somaxconn at its first listen, and its 64 KiB read has the kernel
// allocate and clear as much, while the kernel caps any backlog to somaxconn itself. The
// listener leaves path in place when closed.
func listenUnix(path string) (*net.UnixListener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Blocking here: os takes it as a plain file, not for its poller. net.FileListener
	// works on a non-blocking copy.
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, &net.OpError{Op: "listen", Net: "unix", Addr: &net.UnixAddr{Name: path, Net: "unix"}, Err: os.NewSyscallError("bind", err)}
	}
	if err := unix.Listen(fd, math.MaxInt32); err != nil {
		return nil, &net.OpError{Op: "listen", Net: "unix", Addr: &net.UnixAddr{Name: path, Net: "unix"}, Err: os.NewSyscallError("listen", err)}
	}
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	return ln.(*net.UnixListener), nil
}

// accept answers shim.sock from now on; requests that need init wait for it to be ready.
func (sh *shim) accept() {
	go func() {
		for {
			c, err := sh.ln.AcceptUnix()
			if err != nil {
				return
			}
			go sh.handle(shimapi.NewConn(c))
		}
	}()
}

// serve returns once the workload has ended and everything is recorded.
func (sh *shim) serve() {
	<-sh.done
	// Let answers in flight (wait, exec-wait, and wait's word that init is reaped) reach
	// their clients before we exit.
	sh.repliesMu.Lock()
	sh.repliesEnd = true
	sh.repliesMu.Unlock()
	replied := make(chan struct{})
	go func() { sh.replies.Wait(); close(replied) }()
	select {
	case <-replied:
	case <-time.After(2 * time.Second):
	}
	// Reap init (it may still be tearing its namespaces down) rather than leave it to
	// whoever inherits it.
	if sh.reaped != nil {
		select {
		case <-sh.reaped:
		case <-time.After(2 * time.Second):
		}
	}
	// Last: with one P, a goroutine in fsync holds it until sysmon takes it back (up to
	// milliseconds), and nobody waits for this one. A --rm container's directory is being
	// removed: its record needs no fsync at all.
	if sh.closeExit != nil {
		sh.closeExit(!sh.s.AutoRemove)
	}
	if sh.mounts != nil {
		sh.mounts.Close() // the container's mounts go now (holdMounts)
	}
}

// copyOutput copies one stream into the log and to attached clients (or to one exec
// client when x is set). A pty ends with EIO once every slave is closed.
func (sh *shim) copyOutput(r *os.File, stream byte, name string, x *execProc) {
	sh.outputs.Add(1)
	go func() {
		defer sh.outputs.Done()
		defer r.Close()
		// Small until the stream proves busy: most containers write little, and every
		// running container's shim holds these buffers. A stream that fills 32 KiB reads
		// gets 256 KiB ones and a 1 MiB pipe, so a flood costs a few syscalls per MiB.
		buf := make([]byte, 2<<10)
		carry := 0
		var sp *splicer // once busy (an exec's or a tty's excepted), until quiet again
		misses := 0
		defer func() {
			if sp != nil {
				sp.close()
			}
		}()
		for {
			if sp != nil {
				var spliced bool
				if carry, spliced = sh.spliceOutput(sp, stream, buf, carry); spliced {
					misses = 0
					continue
				}
				// A stream that has calmed down is read as before, without the splicer's
				// extra look at the pipe each time.
				if misses++; misses == quietSplices {
					sp.close()
					sp, misses = nil, 0
				}
			}
			n, err := r.Read(buf[carry:])
			if n == len(buf)-carry {
				buf = growOutput(r, buf)
				if sp == nil && len(buf) == maxOutput && x == nil && !sh.s.Process.Terminal && sh.logw.CanSplice() {
					sp = newSplicer(r)
				}
			}
			n += carry
			if n > 0 {
				whole := logfile.SplitUTF8(buf[:n])
				if err != nil {
					whole = n // the stream ended: nothing more will complete it
				}
				if whole == 0 {
					carry = n
					continue
				}
				chunk := buf[:whole]
				sh.trim.Kick()
				if x != nil {
					x.write(stream, chunk)
				} else {
					sh.logw.Write(stream, chunk)
					sh.broadcast(stream, chunk)
				}
				carry = copy(buf, buf[whole:n])
			}
			if err != nil {
				return
			}
		}
	}()
}

// maxOutput is a busy stream's buffer.
const maxOutput = 256 << 10

// growOutput gives a busy stream a bigger buffer (2 KiB, then 32 KiB, then 256 KiB) and,
// past 32 KiB, a bigger pipe, so that one read takes what the workload wrote meanwhile.
func growOutput(r *os.File, buf []byte) []byte {
	switch len(buf) {
	case 2 << 10:
		return append(buf, make([]byte, 30<<10)...)
	case 32 << 10:
		if sc, err := r.SyscallConn(); err == nil {
			sc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
		}
		return append(buf, make([]byte, maxOutput-len(buf))...)
	}
	return buf
}

func (sh *shim) broadcast(stream byte, p []byte) {
	sh.mu.Lock()
	clients := make([]*attachment, 0, len(sh.attached))
	for a := range sh.attached {
		clients = append(clients, a)
	}
	sh.mu.Unlock()
	for _, a := range clients {
		if err := a.write(sh.s.Process.Terminal, stream, p); err != nil {
			sh.mu.Lock()
			delete(sh.attached, a)
			sh.mu.Unlock()
		}
	}
}

func (a *attachment) write(tty bool, stream byte, p []byte) error {
	a.mu.Lock()
	if a.held && !a.dead {
		// The daemon answers within moments. Keeping the output meanwhile, rather than
		// stalling the copiers, keeps stdout and stderr in the order they came.
		if len(a.pending) < maxPending {
			a.pending = appendOutput(a.pending, tty, stream, p)
			a.mu.Unlock()
			return nil
		}
		a.mu.Unlock()
		<-a.resolved
		a.mu.Lock()
	}
	defer a.mu.Unlock()
	if a.dead {
		return net.ErrClosed
	}
	// A client that stops reading must not stall the container for long.
	a.out.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var err error
	if tty {
		_, err = a.out.Write(p)
	} else {
		err = shimapi.WriteFrame(a.out, stream, p)
	}
	if err != nil {
		a.dead = true
		a.close()
	}
	return err
}

// maxPending bounds what a held attachment keeps; past it, the copiers wait.
const maxPending = 256 << 10

// appendOutput appends p as the attachment's stream carries it: raw for a tty, else a frame.
func appendOutput(b []byte, tty bool, stream byte, p []byte) []byte {
	if !tty {
		b = append(b, stream, 0, 0, 0, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
	}
	return append(b, p...)
}

// close drops a.mu's attachment. A handed-over client connection is only closed here, not
// shut down: the daemon, which holds it too, still writes the end of the stream to it
// once this attachment's connection has ended.
func (a *attachment) close() {
	if a.direct {
		a.out.Close()
	}
	a.conn.Close()
}

// end ends a.mu's attachment once the output has: its client reads to the end. A held
// one ends once resolved, after what it keeps.
func (a *attachment) end() {
	if a.held && !a.dead {
		a.ending = true
		return
	}
	a.dead = true
	if a.direct {
		a.out.Close()
	}
	a.conn.CloseWrite()
}

// resolve waits for the daemon to say where a held attachment's output goes, sends what
// it kept there, and from then lets the output through; with stdin, it then copies the
// client's input to the container.
func (sh *shim) resolve(a *attachment, stdin, counted bool) {
	f, err := a.conn.ReadResolution()
	a.mu.Lock()
	switch {
	case err != nil:
		a.dead = true
		a.conn.Close()
	case f != nil:
		nc, ferr := net.FileConn(f)
		f.Close()
		if ferr != nil {
			a.dead = true
			a.conn.Close()
		} else {
			a.out, a.direct = nc, true
		}
	}
	if !a.dead && len(a.pending) > 0 {
		a.out.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := a.out.Write(a.pending); err != nil {
			a.dead = true
			a.close()
		}
	}
	a.held, a.pending = false, nil
	if a.ending && !a.dead {
		a.end()
	}
	src, dead := io.Reader(a.conn), a.dead
	if a.direct {
		src = a.out
	}
	a.mu.Unlock()
	close(a.resolved)
	if counted {
		sh.replies.Done()
	}
	if stdin && !dead {
		sh.copyStdin(src)
	}
}

// pauseMax bounds how long the shim holds its signals and messages for an init executing
// itself afresh (milliseconds, as a rule): one that never says it is back must not keep
// its container from being stopped.
const pauseMax = 5 * time.Second

// readInit handles init's messages after ready.
func (sh *shim) readInit() {
	stackgrow.To4K()
	defer close(sh.initDone)
	// release lets go of initGate, held for init since its MsgPause: at its MsgResumed,
	// once it is gone, or after pauseMax whatever happened (nil: not held).
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	for {
		m, files, err := sh.ch.Recv()
		if err != nil {
			return
		}
		sh.trim.Kick()
		switch m.Type {
		case shimapi.MsgPause:
			if release == nil {
				sh.initGate.Lock()
				var once sync.Once
				release = func() { once.Do(sh.initGate.Unlock) }
				time.AfterFunc(pauseMax, release)
			}
			sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgPaused})
		case shimapi.MsgResumed:
			if release != nil {
				release()
				release = nil
			}
		case shimapi.MsgStarted, shimapi.MsgError:
			select {
			case sh.started <- m:
			default:
			}
		case shimapi.MsgExit:
			sh.mu.Lock()
			if sh.initExit == nil {
				sh.initExit = m.Exit
				close(sh.exitReported)
			}
			sh.mu.Unlock()
		case shimapi.MsgExecStarted:
			sh.mu.Lock()
			x := sh.execs[m.ID]
			sh.mu.Unlock()
			if x != nil {
				x.started <- startedMsg{m, files}
				continue
			}
		case shimapi.MsgExecExit:
			sh.mu.Lock()
			if x := sh.execs[m.ID]; x != nil {
				x.exit = m.Exit
				close(x.exited)
				sh.forget(x.id)
			}
			sh.mu.Unlock()
		}
		for _, f := range files {
			f.Close()
		}
	}
}

// waitInit records the end: init's own report of the workload, or how init died (a
// SIGKILL from stop reaches init itself), once all output is in the log.
func (sh *shim) waitInit() {
	stackgrow.To4K()
	go func() {
		waitExited(sh.proc.Pid)
		err := waitError(sh.proc.Wait())
		close(sh.goneCh())
		sh.reaped <- err
	}()
	// The OOM check below needs the host's cgroup layout: learnt while the workload runs,
	// not on the way to the exit report (a warm pair knows it already).
	var cg cgroup.Manager
	if sh.s.CgroupPath != "" {
		if cg = sh.cg; cg == nil {
			cg, _ = cgroup.Open(sh.log)
		}
	}
	var err error
	select {
	case <-sh.exitReported:
		// init told us how the workload ended; its own end (the kernel tearing down the
		// namespaces, milliseconds) need not hold up the record. Output still drains below.
	case err = <-sh.reaped:
		sh.reaped <- err // for serve
		<-sh.initDone    // every message init sent before it died is handled
	}
	exit := &shimapi.Exit{FinishedAt: time.Now().UTC()}
	var ee *exitStatusError
	if errors.As(err, &ee) {
		ws := ee.ws
		exit.ExitCode = ws.ExitStatus()
		if ws.Signaled() {
			exit.Signal = int(ws.Signal())
			exit.ExitCode = 128 + exit.Signal
		}
	}
	sh.mu.Lock()
	if sh.initExit != nil {
		exit = sh.initExit
	}
	sh.mu.Unlock()
	// Unblock a start request waiting on an init that died.
	select {
	case sh.started <- &shimapi.InitMsg{Type: shimapi.MsgError, Error: "container ended before it started", Code: 125}:
	default:
	}
	sh.outputs.Wait()
	if cg != nil {
		if oom, err := cg.OOMKilled(sh.s.CgroupPath); err == nil && oom {
			exit.OOMKilled = true
			if exit.Signal == int(unix.SIGKILL) {
				exit.ExitCode = 137
			}
		}
	}
	sh.closeExit = sh.record(exit) // serve runs it, once nobody waits for us
	close(sh.done)
}

// waitExited returns once our child pid has exited, leaving it to be reaped. It waits in
// the poller on a pidfd: a goroutine blocked in waitid holds a thread of its own for the
// container's whole life. Without pidfds it returns at once (Wait then blocks).
func waitExited(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd") // non-blocking: os registers it with the poller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0 // an error: let Wait report it
	})
}

// goneCh is closed once init has been reaped.
func (sh *shim) goneCh() chan struct{} {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gone == nil {
		sh.gone = make(chan struct{})
	}
	return sh.gone
}

// finish records exit durably, answers waiters and ends the attachments.
func (sh *shim) finish(exit *shimapi.Exit) {
	if done := sh.record(exit); done != nil {
		done(true)
	}
	if sh.done != nil {
		close(sh.done)
	}
}

// record writes exit.json, answers waiters and ends the attachments; it returns what closes
// the record (durably when asked).
func (sh *shim) record(exit *shimapi.Exit) (done func(durable bool)) {
	sh.mu.Lock()
	sh.exit, sh.status = exit, shimapi.StatusExited
	for a := range sh.attached {
		a.mu.Lock()
		a.end()
		a.mu.Unlock()
	}
	sh.mu.Unlock()
	// Everything in the directory is final before a waiter hears of the end: the daemon
	// may remove the directory at once (--rm).
	// (exit.json before the socket goes: a client that cannot connect reads it.)
	done, err := shimfiles.WriteExit(".", exit)
	if err != nil {
		sh.log.Error("write exit.json", "err", err)
	}
	if sh.ln != nil {
		sh.ln.Close()
		os.Remove(shimfiles.SocketName)
	}
	// Only now may a waiter hear of the end, one that asked meanwhile included: answered
	// before exit.json existed, a client removed the directory while it was written.
	sh.mu.Lock()
	sh.exitRecorded = true
	waiters := sh.waiters
	sh.waiters = nil
	sh.mu.Unlock()
	for _, w := range waiters {
		w <- exit
	}
	return done
}

func (sh *shim) handle(c *shimapi.Conn) {
	stackgrow.To4K() // a request's decoding reaches it
	// A request in the shim's last moments is answered if it can be, but not waited for:
	// its client reads exit.json if the shim is gone first.
	sh.repliesMu.Lock()
	if !sh.repliesEnd {
		sh.replies.Add(1)
		defer sh.replies.Done()
	}
	sh.repliesMu.Unlock()
	defer sh.trim.Kick()
	var req shimapi.Request
	if err := c.ReadJSON(&req); err != nil {
		c.Close()
		return
	}
	switch req.Op {
	case shimapi.OpState, shimapi.OpSignal, shimapi.OpWait:
	default:
		<-sh.ready // the daemon may ask before init has mounted (its pty comes with ready)
	}
	var resp *shimapi.Response
	switch req.Op {
	case shimapi.OpAttach:
		if sh.attach(c, &req) {
			return // the connection is the container's stdio now
		}
		resp = &shimapi.Response{Error: "container has exited"}
	case shimapi.OpExec:
		sh.exec(c, &req)
		return
	case shimapi.OpWait:
		resp = &shimapi.Response{Exit: sh.wait()}
	case shimapi.OpExecWait:
		resp = sh.execWait(req.ExecID)
	default:
		resp = sh.do(&req)
	}
	c.WriteJSON(resp)
	if req.Op == shimapi.OpWait {
		// A second line once init is reaped: the container's processes and namespaces are
		// gone then, and its cgroup and directory can go at once.
		<-sh.goneCh()
		c.WriteJSON(&shimapi.Response{Reaped: true})
	}
	c.Close()
}

func (sh *shim) do(req *shimapi.Request) *shimapi.Response {
	switch req.Op {
	case shimapi.OpState:
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return &shimapi.Response{State: &shimapi.State{Status: sh.status, PID: sh.proc.Pid,
			Tty: sh.s.Process.Terminal, StartedAt: sh.startedAt, Exit: sh.exit, ShimPID: os.Getpid()}}
	case shimapi.OpStart:
		return sh.start()
	case shimapi.OpSignal:
		sh.initGate.Lock()
		defer sh.initGate.Unlock()
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if sh.status == shimapi.StatusExited {
			return &shimapi.Response{Error: "container has exited"}
		}
		if syscall.Signal(req.Signal) == syscall.SIGURG && sh.status == shimapi.StatusRunning {
			// init cannot tell a kill(2) of SIGURG from its runtime's own preemption
			// signals, so it forwards none: this one goes to the workload by message.
			if err := sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExecSignal, Signal: req.Signal}); err != nil {
				return &shimapi.Response{Error: err.Error()}
			}
			break
		}
		// init is our child: its PID cannot be reused before we reap it.
		if err := sh.proc.Signal(syscall.Signal(req.Signal)); err != nil {
			return &shimapi.Response{Error: err.Error()}
		}
	case shimapi.OpResize:
		if sh.master == nil {
			return &shimapi.Response{Error: "container has no tty"}
		}
		if err := resize(sh.master, req.Height, req.Width); err != nil {
			return &shimapi.Response{Error: err.Error()}
		}
	case shimapi.OpExecResize, shimapi.OpExecSignal:
		return sh.execControl(req)
	default:
		return &shimapi.Response{Error: fmt.Sprintf("unknown request %q", req.Op)}
	}
	return &shimapi.Response{}
}

func resize(f *os.File, h, w uint16) error {
	return unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: h, Col: w})
}

func (sh *shim) start() *shimapi.Response {
	sh.mu.Lock()
	if sh.status != shimapi.StatusCreated {
		st := sh.status
		sh.mu.Unlock()
		return &shimapi.Response{Error: "container is " + st}
	}
	sh.status = shimapi.StatusRunning
	sh.startedAt = time.Now().UTC()
	sh.mu.Unlock()
	if err := sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgGo}); err != nil {
		return &shimapi.Response{Error: "container ended before it started", Code: 125}
	}
	m := <-sh.started
	if m.Type == shimapi.MsgError {
		return &shimapi.Response{Error: m.Error, Code: m.Code}
	}
	return &shimapi.Response{PID: sh.proc.Pid}
}

func (sh *shim) wait() *shimapi.Exit {
	sh.mu.Lock()
	if sh.exitRecorded {
		defer sh.mu.Unlock()
		return sh.exit
	}
	c := make(chan *shimapi.Exit, 1)
	sh.waiters = append(sh.waiters, c)
	sh.mu.Unlock()
	return <-c
}

// attach makes c a client of the container's output (and its stdin when asked). A held
// attachment (req.Handoff) keeps the output until the daemon has resolved it (resolve).
func (sh *shim) attach(c *shimapi.Conn, req *shimapi.Request) bool {
	a := &attachment{conn: c, out: c, held: req.Handoff}
	if a.held {
		a.resolved = make(chan struct{})
	}
	sh.mu.Lock()
	if sh.status == shimapi.StatusExited {
		sh.mu.Unlock()
		return false
	}
	sh.attached[a] = true
	// The response goes out under the lock so no output frame can precede it.
	a.mu.Lock()
	err := c.WriteJSON(&shimapi.Response{Handoff: req.Handoff})
	a.mu.Unlock()
	sh.mu.Unlock()
	if err != nil {
		sh.mu.Lock()
		delete(sh.attached, a)
		sh.mu.Unlock()
		a.mu.Lock()
		a.dead = true // for a copier that took it from the list meanwhile
		a.mu.Unlock()
		c.Close()
		return true
	}
	if a.held {
		// The shim stays until it is resolved: what it keeps must reach someone.
		sh.repliesMu.Lock()
		counted := !sh.repliesEnd
		if counted {
			sh.replies.Add(1)
		}
		sh.repliesMu.Unlock()
		go sh.resolve(a, req.Stdin, counted)
	} else if req.Stdin {
		go sh.copyStdin(c)
	}
	return true
}

// copyStdin copies an attached client's input to the container's stdin (or its tty).
func (sh *shim) copyStdin(src io.Reader) {
	in := sh.stdin
	if sh.master != nil {
		in = sh.master
	}
	if in == nil {
		return
	}
	io.Copy(in, src)
	// The client's half-close is the workload's EOF (docker run -i); a tty stays open.
	if in == sh.stdin {
		sh.mu.Lock()
		if sh.stdin != nil {
			sh.stdin.Close()
			sh.stdin = nil
		}
		sh.mu.Unlock()
	}
}

// keepExited is how many ended exec processes keep their record for a late exec-wait:
// health probes exec every few seconds for the container's whole life, and a shim must
// not grow with them.
const keepExited = 64

// forget drops the oldest ended exec records beyond keepExited; sh.mu is held.
func (sh *shim) forget(id string) {
	sh.ended = append(sh.ended, id)
	for len(sh.ended) > keepExited {
		delete(sh.execs, sh.ended[0])
		sh.ended = sh.ended[1:]
	}
}
