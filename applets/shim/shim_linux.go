package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/mount"
	"github.com/minibox/minibox/pkg/ns"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
)

// Main runs the shim of the container in args[0]; fd 3 is the daemon's ready pipe, fd 4
// the sealed executable to run init from.
func Main(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: minibox-shim <container dir>")
	}
	// init is forked from this thread, which lives as long as the process: its parent-death
	// signal (sent when the forking thread ends) then means "the shim died".
	runtime.LockOSThread()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)) // stderr is containers/<id>/shim.log
	ready := os.NewFile(3, "ready")
	unix.CloseOnExec(4) // init runs it by path; nothing in the container may hold it
	shimapi.CloseInherited(5)
	sh := &shim{dir: args[0], log: log, execs: map[string]*execProc{}}
	if err := sh.create(); err != nil {
		report(ready, &shimapi.Response{Error: err.Error(), Code: codeOf(err)})
		log.Error("create container", "err", err)
		if sh.ln != nil && sh.exit == nil {
			sh.ln.Close()
			os.Remove(shimapi.SocketName)
		}
		return err
	}
	report(ready, &shimapi.Response{PID: sh.cmd.Process.Pid})
	shimapi.TrimRSS()
	sh.serve()
	return nil
}

func report(w *os.File, r *shimapi.Response) {
	b, _ := json.Marshal(r)
	w.Write(append(b, '\n'))
	w.Close()
}

func codeOf(err error) int {
	var se *shimapi.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

type shim struct {
	dir string
	log *slog.Logger
	s   *spec.Spec
	cmd *exec.Cmd
	ch  *shimapi.Channel
	ln  *net.UnixListener

	logFile *os.File
	master  *os.File // the workload's pty
	stdin   *os.File // write end of the workload's stdin pipe (-i without a tty)
	outputs sync.WaitGroup
	replies sync.WaitGroup // requests being answered

	mu           sync.Mutex
	status       string
	startedAt    time.Time
	exit         *shimapi.Exit
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
	gone         chan struct{} // closed once init is reaped (goneCh)
	closeExit    func(bool)    // closes exit.json, durably if true (serve runs it last)
}

// attachment is one client receiving the container's output.
type attachment struct {
	conn *shimapi.Conn
	mu   sync.Mutex
	dead bool
}

// create starts init held in its namespaces and waits for it to be ready.
func (sh *shim) create() error {
	raw, err := os.ReadFile(filepath.Join(sh.dir, spec.FileName))
	if err != nil {
		return err
	}
	s, err := spec.Decode(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	sh.s = s
	sh.status = shimapi.StatusCreated
	sh.attached = map[*attachment]bool{}
	sh.started = make(chan *shimapi.InitMsg, 1)
	sh.done = make(chan struct{})
	sh.initDone = make(chan struct{})
	sh.exitReported = make(chan struct{})
	sh.reaped = make(chan error, 1)
	if err := os.Chdir(sh.dir); err != nil { // a relative socket path fits sockaddr_un
		return err
	}
	// A second shim for a live container would take its socket away: refuse.
	if c, err := shimapi.Dial(shimapi.SocketName); err == nil {
		c.Close()
		return errors.New("container is already running (its shim answers on shim.sock)")
	}
	os.Remove(shimapi.ExitName)
	os.Remove(shimapi.SocketName)
	if err := os.MkdirAll(mount.RootfsDir(s), 0o700); err != nil {
		return err
	}
	shimEnd, initEnd, err := shimapi.Socketpair()
	if err != nil {
		return err
	}
	defer initEnd.Close()
	if sh.ch, err = shimapi.NewChannel(shimEnd); err != nil {
		return err
	}
	// The spec waits in the socket for init to read as soon as its runtime is up.
	if err := sh.ch.SendRaw(raw); err != nil {
		return fmt.Errorf("send spec to init: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/fd/4",
		Args:        []string{"minibox-init"},
		Env:         []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=2", "GOGC=50"},
		Stdin:       null,
		Stdout:      null,
		Stderr:      null,
		ExtraFiles:  []*os.File{initEnd},
		SysProcAttr: ns.Attr(s),
	}
	// Without its shim a container has no log, no exit record and no way to be stopped
	// through the daemon: it dies with it rather than run on unseen.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	var childEnds []*os.File
	var outR [2]*os.File
	if !s.Process.Terminal {
		for i := range outR {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			outR[i] = r
			childEnds = append(childEnds, w)
		}
		cmd.Stdout, cmd.Stderr = childEnds[0], childEnds[1]
		if s.Process.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			cmd.Stdin, sh.stdin = r, w
			childEnds = append(childEnds, r)
		}
	}
	err = cmd.Start()
	for _, f := range childEnds {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	sh.cmd = cmd
	if s.UserNS != nil {
		if err := sh.sendIDMapped(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("idmapped mounts: %w", err)
		}
	}
	// While init starts up and mounts: our socket and the log.
	if err := sh.listen(); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	m, files, err := sh.ch.Recv()
	if err != nil || m.Type != shimapi.MsgReady {
		cmd.Process.Kill()
		cmd.Wait()
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
	if s.Process.Terminal {
		if len(files) != 1 {
			cmd.Process.Kill()
			return errors.New("init sent no pty")
		}
		sh.master = files[0]
		sh.copyOutput(sh.master, shimapi.Stdout, "stdout", nil)
	} else {
		sh.copyOutput(outR[0], shimapi.Stdout, "stdout", nil)
		sh.copyOutput(outR[1], shimapi.Stderr, "stderr", nil)
	}
	go sh.readInit()
	go sh.waitInit()
	return nil
}

func (sh *shim) listen() (err error) {
	sh.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: shimapi.SocketName, Net: "unix"})
	if err != nil {
		return err
	}
	sh.ln.SetUnlinkOnClose(false)
	os.Chmod(shimapi.SocketName, 0o600)
	sh.logFile, err = os.OpenFile(shimapi.LogName, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	return err
}

// serve answers shim.sock until the workload has ended and everything is recorded.
func (sh *shim) serve() {
	go func() {
		for {
			c, err := sh.ln.AcceptUnix()
			if err != nil {
				return
			}
			go sh.handle(shimapi.NewConn(c))
		}
	}()
	<-sh.done
	// Let answers in flight (wait, exec-wait, and wait's word that init is reaped) reach
	// their clients before we exit.
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
}

// copyOutput copies one stream into the log and to attached clients (or to one exec
// client when x is set). A pty ends with EIO once every slave is closed.
func (sh *shim) copyOutput(r *os.File, stream byte, name string, x *execProc) {
	sh.outputs.Add(1)
	go func() {
		defer sh.outputs.Done()
		defer r.Close()
		buf := make([]byte, 32<<10)
		var line []byte
		carry := 0
		for {
			n, err := r.Read(buf[carry:])
			n += carry
			if n > 0 {
				whole := shimapi.SplitUTF8(buf[:n])
				if err != nil {
					whole = n // the stream ended: nothing more will complete it
				}
				if whole == 0 {
					carry = n
					continue
				}
				chunk := buf[:whole]
				if x != nil {
					x.write(stream, chunk)
				} else {
					line = shimapi.AppendLog(line[:0], time.Now(), name, chunk)
					sh.logFile.Write(line)
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
	defer a.mu.Unlock()
	if a.dead {
		return net.ErrClosed
	}
	// A client that stops reading must not stall the container for long.
	a.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var err error
	if tty {
		_, err = a.conn.Write(p)
	} else {
		err = shimapi.WriteFrame(a.conn, stream, p)
	}
	if err != nil {
		a.dead = true
		a.conn.Close()
	}
	return err
}

// readInit handles init's messages after ready.
func (sh *shim) readInit() {
	defer close(sh.initDone)
	for {
		m, files, err := sh.ch.Recv()
		if err != nil {
			return
		}
		switch m.Type {
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
	go func() {
		err := sh.cmd.Wait()
		close(sh.goneCh())
		sh.reaped <- err
	}()
	// The OOM check below needs the host's cgroup layout: learnt while the workload runs,
	// not on the way to the exit report.
	var cg cgroup.Manager
	if sh.s.CgroupPath != "" {
		cg, _ = cgroup.Open(sh.log)
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
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
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
	waiters := sh.waiters
	sh.waiters = nil
	for a := range sh.attached {
		a.mu.Lock()
		a.dead = true
		a.conn.CloseWrite()
		a.mu.Unlock()
	}
	sh.mu.Unlock()
	// Everything in the directory is final before a waiter hears of the end: the daemon
	// may remove the directory at once (--rm).
	// (exit.json before the socket goes: a client that cannot connect reads it.)
	done, err := shimapi.WriteExit(".", exit)
	if err != nil {
		sh.log.Error("write exit.json", "err", err)
	}
	if sh.ln != nil {
		sh.ln.Close()
		os.Remove(shimapi.SocketName)
	}
	for _, w := range waiters {
		w <- exit
	}
	return done
}

func (sh *shim) handle(c *shimapi.Conn) {
	sh.replies.Add(1)
	defer sh.replies.Done()
	var req shimapi.Request
	if err := c.ReadJSON(&req); err != nil {
		c.Close()
		return
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
	if req.Op == shimapi.OpStart {
		shimapi.TrimRSSLater(sh.done) // once more, now the start path has run too (not on its clock)
	}
}

func (sh *shim) do(req *shimapi.Request) *shimapi.Response {
	switch req.Op {
	case shimapi.OpState:
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return &shimapi.Response{State: &shimapi.State{Status: sh.status, PID: sh.cmd.Process.Pid,
			Tty: sh.s.Process.Terminal, StartedAt: sh.startedAt, Exit: sh.exit, ShimPID: os.Getpid()}}
	case shimapi.OpStart:
		return sh.start()
	case shimapi.OpSignal:
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if sh.status == shimapi.StatusExited {
			return &shimapi.Response{Error: "container has exited"}
		}
		// init is our child: its PID cannot be reused before we reap it.
		if err := sh.cmd.Process.Signal(syscall.Signal(req.Signal)); err != nil {
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
	return &shimapi.Response{PID: sh.cmd.Process.Pid}
}

func (sh *shim) wait() *shimapi.Exit {
	sh.mu.Lock()
	if sh.exit != nil {
		defer sh.mu.Unlock()
		return sh.exit
	}
	c := make(chan *shimapi.Exit, 1)
	sh.waiters = append(sh.waiters, c)
	sh.mu.Unlock()
	return <-c
}

// attach makes c a client of the container's output (and its stdin when asked).
func (sh *shim) attach(c *shimapi.Conn, req *shimapi.Request) bool {
	a := &attachment{conn: c}
	sh.mu.Lock()
	if sh.status == shimapi.StatusExited {
		sh.mu.Unlock()
		return false
	}
	sh.attached[a] = true
	// The response goes out under the lock so no output frame can precede it.
	a.mu.Lock()
	err := c.WriteJSON(&shimapi.Response{})
	a.mu.Unlock()
	sh.mu.Unlock()
	if err != nil {
		sh.mu.Lock()
		delete(sh.attached, a)
		sh.mu.Unlock()
		c.Close()
		return true
	}
	in := sh.stdin
	if sh.master != nil {
		in = sh.master
	}
	if !req.Stdin || in == nil {
		return true
	}
	go func() {
		io.Copy(in, c)
		// The client's half-close is the workload's EOF (docker run -i); a tty stays open.
		if in == sh.stdin {
			sh.mu.Lock()
			if sh.stdin != nil {
				sh.stdin.Close()
				sh.stdin = nil
			}
			sh.mu.Unlock()
		}
	}()
	return true
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
