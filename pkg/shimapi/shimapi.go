package shimapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Ops a Request may carry.
const (
	OpState      = "state"       // -> Response.State
	OpStart      = "start"       // let the held workload run; -> Response.PID once it runs
	OpSignal     = "signal"      // Signal to init, which forwards it to the workload
	OpResize     = "resize"      // Height, Width of the container's tty
	OpAttach     = "attach"      // the connection becomes the container's stdio
	OpWait       = "wait"        // -> Response.Exit when the workload has ended, then Reaped
	OpExec       = "exec"        // Exec; the connection becomes its stdio; -> Response.ExecID, PID
	OpExecResize = "exec-resize" // ExecID, Height, Width
	OpExecSignal = "exec-signal" // ExecID, Signal
	OpExecWait   = "exec-wait"   // ExecID -> Response.Exit when it has ended
)

// Request is what the daemon asks of a shim.
type Request struct {
	Op     string `json:"op"`
	Signal int    `json:"signal,omitempty"`
	Height uint16 `json:"height,omitempty"`
	Width  uint16 `json:"width,omitempty"`
	// Stdin: the attach client sends stdin (and its half-close closes the container's).
	Stdin bool `json:"stdin,omitempty"`
	// Handoff (attach): hold the output until the daemon either hands over its client's
	// connection, for the shim to write to directly, or lets it come through this one
	// (Conn.HandOff, Conn.Relay).
	Handoff bool   `json:"handoff,omitempty"`
	Exec    *Exec  `json:"exec,omitempty"`
	ExecID  string `json:"exec_id,omitempty"`
}

// Response answers a Request. Code is 126 or 127 when a process could not be started
// (not runnable, not found), else 0 with Error set for any other failure.
type Response struct {
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`
	PID    int    `json:"pid,omitempty"`
	ExecID string `json:"exec_id,omitempty"`
	State  *State `json:"state,omitempty"`
	Exit   *Exit  `json:"exit,omitempty"`
	// Reaped is OpWait's second line: init has been reaped, so the container's processes
	// and namespaces are gone (the connection closes after it).
	Reaped bool `json:"reaped,omitempty"`
	// Handoff: the attachment holds its output as Request.Handoff asked (a shim from
	// before handoffs does not, and streams through the connection at once).
	Handoff bool `json:"handoff,omitempty"`
}

// Exec is a process to start inside a running container.
type Exec struct {
	Args  []string `json:"args"`
	Env   []string `json:"env,omitempty"`
	Cwd   string   `json:"cwd,omitempty"`
	User  string   `json:"user,omitempty"`
	Tty   bool     `json:"tty,omitempty"`
	Stdin bool     `json:"stdin,omitempty"`
	// Privileged gives the process every capability (exec --privileged), as Docker's;
	// the container's seccomp filter and no_new_privs still hold.
	Privileged bool `json:"privileged,omitempty"`
	// Height and Width size the exec's tty before it starts.
	Height uint16 `json:"height,omitempty"`
	Width  uint16 `json:"width,omitempty"`
}

// Container states a shim reports.
const (
	StatusCreated = "created" // init holds, the workload has not started
	StatusRunning = "running"
	StatusExited  = "exited"
)

// State is a container as its shim sees it.
type State struct {
	Status    string    `json:"status"`
	PID       int       `json:"pid"` // init's, in the host's PID namespace
	Tty       bool      `json:"tty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	Exit      *Exit     `json:"exit,omitempty"`
	ShimPID   int       `json:"shim_pid"`
}

// Exit is how a process ended; exit.json holds the workload's.
type Exit struct {
	ExitCode   int       `json:"exit_code"` // 128+N after signal N
	Signal     int       `json:"signal"`    // 0 unless killed by a signal
	OOMKilled  bool      `json:"oom_killed"`
	FinishedAt time.Time `json:"finished_at"`
}

// Error is a failed Response as a Go error; Code is 126/127 for processes that could not run.
type Error struct {
	Msg  string
	Code int
}

func (e *Error) Error() string { return e.Msg }

// Err returns the Response's error, or nil.
func (r *Response) Err() error {
	if r.Error == "" {
		return nil
	}
	return &Error{Msg: r.Error, Code: r.Code}
}

// Call sends req on a fresh connection to the shim socket and reads the response. The
// returned Conn is nil unless keep is set (attach, exec): then it carries the stream, and
// reads go through its buffer.
func Call(sock string, req *Request, keep bool, deadline time.Time) (*Response, *Conn, error) {
	c, err := Dial(sock)
	if err != nil {
		return nil, nil, err
	}
	conn := &Conn{UnixConn: c, r: bufio.NewReaderSize(c, 4096)}
	if !deadline.IsZero() {
		c.SetDeadline(deadline)
	}
	resp, err := conn.Do(req)
	if err != nil || resp.Err() != nil || !keep {
		c.Close()
		if err == nil {
			err = resp.Err()
		}
		return resp, nil, err
	}
	c.SetDeadline(time.Time{})
	conn.Held = resp.Handoff
	return resp, conn, nil
}

// Conn is a shim connection whose reads go through the buffer the response line was read with.
type Conn struct {
	*net.UnixConn
	r *bufio.Reader
	// Held: the shim holds this attachment's output until HandOff or Relay; the first
	// read, write or CloseWrite relays.
	Held     bool
	resolved sync.Once
}

// NewConn wraps a server-side connection.
func NewConn(c *net.UnixConn) *Conn { return &Conn{UnixConn: c, r: bufio.NewReaderSize(c, 512)} }

func (c *Conn) Read(p []byte) (int, error) {
	if c.Held {
		c.Relay()
	}
	return c.r.Read(p)
}

// Write sends stdin (after relaying a held attachment).
func (c *Conn) Write(p []byte) (int, error) {
	if c.Held {
		c.Relay()
	}
	return c.UnixConn.Write(p)
}

// CloseWrite ends stdin (after relaying a held attachment).
func (c *Conn) CloseWrite() error {
	if c.Held {
		c.Relay()
	}
	return c.UnixConn.CloseWrite()
}

// Do writes req and reads one response line.
func (c *Conn) Do(req *Request) (*Response, error) {
	if err := c.WriteJSON(req); err != nil {
		return nil, err
	}
	var resp Response
	if err := c.ReadJSON(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// WriteJSON writes v as one line.
func (c *Conn) WriteJSON(v any) error {
	b, err := Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.UnixConn.Write(append(b, '\n'))
	return err
}

// ReadJSON reads one line into v.
func (c *Conn) ReadJSON(v any) error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return Unmarshal(line, v)
}

// Stream numbers in a frame header (the HTTP attach protocol's).
const (
	Stdout byte = 1
	Stderr byte = 2
	Engine byte = 3 // an engine error message
)

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, stream byte, p []byte) error {
	var h [8]byte
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(p)))
	if nb, ok := w.(interface{ WriteBuffers([][]byte) error }); ok {
		return nb.WriteBuffers([][]byte{h[:], p})
	}
	bufs := net.Buffers{h[:], p}
	_, err := bufs.WriteTo(w)
	return err
}

// ReadFrame reads one frame into buf (grown as needed) and returns its stream and payload.
func ReadFrame(r io.Reader, buf []byte) (byte, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, buf, err
	}
	n := int(binary.BigEndian.Uint32(h[4:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, buf, err
	}
	return h[0], buf, nil
}

// CallContext is Call for a request whose response may take long (wait): ctx ends it.
func CallContext(ctx context.Context, sock string, req *Request) (*Response, error) {
	resp, c, err := callContext(ctx, sock, req)
	if c != nil {
		c.Close()
	}
	return resp, err
}

// Wait is OpWait that also reports init's end: reaped yields true once the shim has reaped
// init (the container's processes and namespaces are gone), false if the connection ends
// without that word (the shim is gone, or predates it). ctx ends the wait for the exit, not
// for reaped.
func Wait(ctx context.Context, sock string) (exit *Exit, reaped <-chan bool, err error) {
	resp, c, err := callContext(ctx, sock, &Request{Op: OpWait})
	if c == nil {
		return nil, nil, err
	}
	if err != nil || resp.Exit == nil {
		c.Close()
		if err == nil {
			err = errors.New("shim answered wait without an exit")
		}
		return nil, nil, err
	}
	ch := make(chan bool, 1)
	go func() {
		var r Response
		ch <- c.ReadJSON(&r) == nil && r.Reaped
		c.Close()
	}()
	return resp.Exit, ch, nil
}

// callContext sends req and reads the response; the connection is returned (to close)
// unless it could not be made.
func callContext(ctx context.Context, sock string, req *Request) (*Response, *Conn, error) {
	c, err := Dial(sock)
	if err != nil {
		return nil, nil, err
	}
	conn := &Conn{UnixConn: c, r: bufio.NewReaderSize(c, 512)}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	resp, err := conn.Do(req)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, conn, ctx.Err()
		}
		return nil, conn, err
	}
	return resp, conn, resp.Err()
}
