package shimapi

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Message types between shim and init. The shim first sends the raw config.json bytes.
const (
	MsgReady       = "ready"        // init -> shim: mounts done, held before the workload; pty master attached for a tty
	MsgGo          = "go"           // shim -> init: start the workload
	MsgStarted     = "started"      // init -> shim: the workload runs (PID)
	MsgError       = "error"        // init -> shim: setup or start failed (Error, Code); init exits next
	MsgExit        = "exit"         // init -> shim: the workload ended (Exit); init exits next
	MsgExec        = "exec"         // shim -> init: start Exec as ID; stdio fds attached unless Exec.Tty
	MsgExecStarted = "exec-started" // init -> shim: ID runs as PID (pty master attached for a tty), or Error/Code
	MsgExecExit    = "exec-exit"    // init -> shim: ID ended (Exit)
	MsgExecSignal  = "exec-signal"  // shim -> init: Signal to ID (no ID: to the workload)
	// MsgIDMapped (shim -> init, user namespaces only, right after the spec): detached
	// idmapped mounts of what init must see owned by its own IDs, one file per non-empty
	// IDMapped entry ("" entries were not idmapped and carry none).
	MsgIDMapped = "idmapped"
	// MsgAssign (daemon -> warm shim, on the control channel): the container in ID (its
	// directory) is yours; its shim.log is attached.
	MsgAssign = "assign"
	// A running init executes itself afresh once quiet (boxinit's reexec). MsgPause
	// (init -> shim): hold every signal and message to init; MsgPaused (shim -> init): held
	// until MsgResumed (init -> shim, from the new process, or from the old one if it could
	// not execute) or until init is gone.
	MsgPause   = "pause"
	MsgPaused  = "paused"
	MsgResumed = "resumed"
)

// InitMsg is one packet between shim and init.
type InitMsg struct {
	Type   string `json:"type"`
	ID     string `json:"id,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Exec   *Exec  `json:"exec,omitempty"`
	Exit   *Exit  `json:"exit,omitempty"`
	// IDMapped names the sources of MsgIDMapped's mounts: each lower layer, then the
	// container directory, then each bind or volume source, in the spec's order.
	IDMapped []string `json:"idmapped,omitempty"`
}

// Channel is one end of the shim-init socketpair.
type Channel struct {
	c   *net.UnixConn
	buf []byte
	oob []byte
}

// NewChannel wraps f, one end of a SOCK_SEQPACKET socketpair.
func NewChannel(f *os.File) (*Channel, error) {
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	f.Close()
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("init channel is a %T", c)
	}
	return &Channel{c: uc, oob: make([]byte, unix.CmsgSpace(4*253))}, nil
}

// Dup returns a new descriptor of the channel's socket without close-on-exec, for a
// process that executes itself afresh.
func (c *Channel) Dup() (int, error) {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd, derr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD, 3) }); err != nil {
		return -1, err
	}
	return nfd, derr
}

// Socketpair makes the two ends of a channel, close-on-exec (ExtraFiles clears that on the child's copy).
func Socketpair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	// One packet carries the whole spec: allow a large one (root may force the size).
	for _, fd := range fds {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 4<<20) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		}
	}
	return os.NewFile(uintptr(fds[0]), "shim-channel"), os.NewFile(uintptr(fds[1]), "init-channel"), nil
}

// Close closes the channel.
func (c *Channel) Close() error { return c.c.Close() }

// Empty reports whether no packet is waiting to be received.
func (c *Channel) Empty() bool {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return false
	}
	empty := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		empty = err == nil && n == 0
	})
	return empty
}

// SetReadDeadline bounds the next receives (zero: none).
func (c *Channel) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// SendResponse sends r as one packet: how a shim reports to the daemon on its control
// channel.
func (c *Channel) SendResponse(r *Response) error {
	b, err := Marshal(r)
	if err != nil {
		return err
	}
	return c.SendRaw(b)
}

// RecvResponse receives one packet sent by SendResponse.
func (c *Channel) RecvResponse() (*Response, error) {
	b, err := c.RecvRaw(1 << 16)
	if err != nil {
		return nil, err
	}
	var r Response
	if err := Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("shim control channel: %w", err)
	}
	return &r, nil
}

// SendRaw sends b as one packet (the spec).
func (c *Channel) SendRaw(b []byte) error {
	_, _, err := c.c.WriteMsgUnix(b, nil, nil)
	return err
}

// RecvRaw receives one packet of up to max bytes, sized first with MSG_PEEK|MSG_TRUNC so
// a small spec costs a small buffer.
func (c *Channel) RecvRaw(max int) ([]byte, error) {
	size, err := c.next()
	if err != nil {
		return nil, err
	}
	if size > max {
		return nil, fmt.Errorf("init channel: packet of %d bytes, more than %d", size, max)
	}
	if size == 0 {
		return nil, fmt.Errorf("init channel: %w", net.ErrClosed)
	}
	b := make([]byte, size)
	n, _, _, _, err := c.c.ReadMsgUnix(b, nil)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// next waits for a packet and returns its size (0: the peer closed).
func (c *Channel) next() (int, error) {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return 0, err
	}
	size := 0
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var n int
		n, _, perr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if perr == unix.EAGAIN {
			return false
		}
		size = n
		return true
	})
	if err == nil {
		err = perr
	}
	return size, err
}

// maxMsg bounds one InitMsg (an exec's arguments and environment included).
const maxMsg = 1 << 16

// Send sends m with files as SCM_RIGHTS (the caller still owns and closes them).
func (c *Channel) Send(m *InitMsg, files ...*os.File) error {
	b, err := Marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	_, _, err = c.c.WriteMsgUnix(b, oob, nil)
	return err
}

// Recv receives one message and the files sent with it. A closed peer is io.EOF-like:
// net.ErrClosed wrapped.
func (c *Channel) Recv() (*InitMsg, []*os.File, error) {
	// Sized per packet: a buffer for the largest would stay allocated in every shim.
	size, err := c.next()
	if err != nil {
		return nil, nil, err
	}
	if size > len(c.buf) {
		c.buf = make([]byte, min(max(size, 512), maxMsg))
	}
	n, oobn, _, _, err := c.c.ReadMsgUnix(c.buf, c.oob)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("init channel: %w", net.ErrClosed)
	}
	files, err := passedFiles(c.oob[:oobn], "passed")
	if err != nil {
		return nil, nil, err
	}
	var m InitMsg
	if err := Unmarshal(c.buf[:n], &m); err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, fmt.Errorf("init channel: %w", err)
	}
	return &m, files, nil
}

// passedFiles turns the descriptors a message's control data carried (SCM_RIGHTS) into
// files, each closed on exec.
func passedFiles(oob []byte, name string) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, cm := range msgs {
		fds, err := unix.ParseUnixRights(&cm)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), name))
		}
	}
	return files, nil
}
