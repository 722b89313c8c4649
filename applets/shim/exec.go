package shim

import (
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/shimapi"
)

// execProc is one exec process, from the shim's side.
type execProc struct {
	id      string
	conn    *shimapi.Conn
	tty     bool
	pid     int
	master  *os.File
	started chan startedMsg
	exited  chan struct{} // closed when exit is set
	exit    *shimapi.Exit
	wmu     sync.Mutex
	out     sync.WaitGroup
}

type startedMsg struct {
	m     *shimapi.InitMsg
	files []*os.File
}

func (x *execProc) write(stream byte, p []byte) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	// A client that stops reading must not hold the process (or the shim) forever.
	x.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if x.tty {
		x.conn.Write(p)
	} else {
		shimapi.WriteFrame(x.conn, stream, p)
	}
}

// exec asks init to start req.Exec and makes c its stdio.
func (sh *shim) exec(c *shimapi.Conn, req *shimapi.Request) {
	fail := func(msg string, code int) {
		c.WriteJSON(&shimapi.Response{Error: msg, Code: code})
		c.Close()
	}
	if req.Exec == nil || len(req.Exec.Args) == 0 {
		fail("exec: no command given", 125)
		return
	}
	// Execs (health probes) come for the container's whole life: collect from the first.
	sh.trim.Collect()
	sh.mu.Lock()
	if sh.status != shimapi.StatusRunning {
		st := sh.status
		sh.mu.Unlock()
		fail("container is "+st+", not running", 0)
		return
	}
	sh.nextExec++
	x := &execProc{id: strconv.Itoa(sh.nextExec), conn: c, tty: req.Exec.Tty,
		started: make(chan startedMsg, 1), exited: make(chan struct{})}
	sh.execs[x.id] = x
	sh.mu.Unlock()

	var send, ours []*os.File // child ends to pass; our ends of the pipes
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	if !x.tty {
		var stdinW *os.File
		if req.Exec.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				fail(err.Error(), 0)
				return
			}
			send, stdinW = append(send, r), w
		} else {
			null, err := os.Open(os.DevNull)
			if err != nil {
				fail(err.Error(), 0)
				return
			}
			send = append(send, null)
		}
		for range 2 {
			r, w, err := os.Pipe()
			if err != nil {
				closeAll(send)
				fail(err.Error(), 0)
				return
			}
			send, ours = append(send, w), append(ours, r)
		}
		if stdinW != nil {
			ours = append(ours, stdinW)
		}
	}
	sh.initGate.Lock()
	err := sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExec, ID: x.id, Exec: req.Exec}, send...)
	sh.initGate.Unlock()
	closeAll(send)
	if err != nil {
		closeAll(ours)
		fail("container has exited", 0)
		return
	}
	var st startedMsg
	select {
	case st = <-x.started:
	case <-sh.done:
		closeAll(ours)
		fail("container has exited", 0)
		return
	}
	if st.m.Error != "" {
		closeAll(ours)
		closeAll(st.files)
		sh.mu.Lock()
		x.exit = &shimapi.Exit{ExitCode: st.m.Code}
		close(x.exited)
		sh.mu.Unlock()
		fail(st.m.Error, st.m.Code)
		return
	}
	x.pid = st.m.PID
	c.WriteJSON(&shimapi.Response{ExecID: x.id, PID: x.pid})
	var stdin io.WriteCloser
	if x.tty {
		if len(st.files) != 1 {
			c.Close()
			return
		}
		x.master = st.files[0]
		stdin = x.master
		sh.execOutput(x, x.master, shimapi.Stdout)
	} else {
		sh.execOutput(x, ours[0], shimapi.Stdout)
		sh.execOutput(x, ours[1], shimapi.Stderr)
		if len(ours) == 3 {
			stdin = ours[2]
		}
	}
	if stdin != nil {
		go func() {
			io.Copy(stdin, c)
			if !x.tty {
				stdin.Close() // the client's half-close is the process's EOF
			}
		}()
	}
	go func() {
		x.out.Wait()
		c.CloseWrite()
		<-x.exited
		c.Close()
	}()
}

func (sh *shim) execOutput(x *execProc, r *os.File, stream byte) {
	x.out.Add(1)
	go func() {
		defer x.out.Done()
		defer r.Close()
		buf := make([]byte, 16<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				sh.trim.Kick()
				x.write(stream, buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
}

func (sh *shim) execWait(id string) *shimapi.Response {
	sh.mu.Lock()
	x := sh.execs[id]
	sh.mu.Unlock()
	if x == nil {
		return &shimapi.Response{Error: "no exec " + id}
	}
	select {
	case <-x.exited:
	case <-sh.done:
		// init is gone: so is the exec, killed with its namespace.
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if x.exit == nil {
			return &shimapi.Response{Exit: &shimapi.Exit{ExitCode: 137, Signal: int(syscall.SIGKILL)}}
		}
	}
	return &shimapi.Response{Exit: x.exit, PID: x.pid}
}

func (sh *shim) execControl(req *shimapi.Request) *shimapi.Response {
	sh.mu.Lock()
	x := sh.execs[req.ExecID]
	sh.mu.Unlock()
	if x == nil {
		return &shimapi.Response{Error: "no exec " + req.ExecID}
	}
	if req.Op == shimapi.OpExecResize {
		if x.master == nil {
			return &shimapi.Response{Error: "exec has no tty"}
		}
		if err := resize(x.master, req.Height, req.Width); err != nil {
			return &shimapi.Response{Error: err.Error()}
		}
		return &shimapi.Response{}
	}
	sh.initGate.Lock()
	err := sh.ch.Send(&shimapi.InitMsg{Type: shimapi.MsgExecSignal, ID: x.id, Signal: req.Signal})
	sh.initGate.Unlock()
	if err != nil {
		return &shimapi.Response{Error: err.Error()}
	}
	return &shimapi.Response{}
}
