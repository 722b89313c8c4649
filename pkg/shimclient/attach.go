package shimclient

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/minibox/minibox/pkg/shimapi"
)

// AttachOptions are the client's ends of a process's stdio. A nil Stdin sends none;
// nil Stdout or Stderr discard. Tty is informational: the container's own mode decides.
type AttachOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Tty            bool
}

// Conn is a raw attach or exec stream: from it, raw tty bytes or 8-byte-header frames
// (ready to relay to an HTTP client as they are); to it, stdin; CloseWrite is EOF.
type Conn = shimapi.Conn

// AttachConn attaches to the container's stdio and returns the raw stream. Output produced
// after this returns is never lost to it (attach before Resume to see everything).
func (c *Container) AttachConn(ctx context.Context, stdin bool) (*Conn, error) {
	return c.attachConn(ctx, &shimapi.Request{Op: shimapi.OpAttach, Stdin: stdin})
}

// AttachHeld is AttachConn for a stream that may be handed over: the shim holds the output
// until the caller hands it the client's connection (Conn.HandOff) or reads (Conn.Relay).
// A shim that cannot hold streams at once (the Conn's Held is false then).
func (c *Container) AttachHeld(ctx context.Context, stdin bool) (*Conn, error) {
	return c.attachConn(ctx, &shimapi.Request{Op: shimapi.OpAttach, Stdin: stdin, Handoff: true})
}

func (c *Container) attachConn(ctx context.Context, req *shimapi.Request) (*Conn, error) {
	dl, _ := ctx.Deadline()
	_, conn, err := shimapi.Call(c.sock, req, true, dl)
	return conn, err
}

// Attach copies the container's output to opts until it ends (or ctx does), and
// opts.Stdin to the container.
func (c *Container) Attach(ctx context.Context, opts AttachOptions) error {
	conn, err := c.AttachConn(ctx, opts.Stdin != nil)
	if err != nil {
		return err
	}
	return pump(ctx, conn, c.tty, opts)
}

// pump relays one stream until its output ends.
func pump(ctx context.Context, conn *Conn, tty bool, opts AttachOptions) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if opts.Stdin != nil {
		go func() {
			io.Copy(conn, opts.Stdin)
			conn.CloseWrite()
		}()
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var err error
	if tty {
		_, err = io.Copy(stdout, conn)
	} else {
		err = demux(conn, stdout, stderr)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// demux splits frames into stdout and stderr until EOF.
func demux(r io.Reader, stdout, stderr io.Writer) error {
	var buf []byte
	for {
		stream, p, err := shimapi.ReadFrame(r, buf)
		buf = p
		if err == io.EOF || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		w := stdout
		switch stream {
		case shimapi.Stderr:
			w = stderr
		case shimapi.Engine:
			return errors.New(string(p))
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
}

// ExecProcess is a process started by Exec.
type ExecProcess struct {
	c    *Container
	id   string
	pid  int
	tty  bool
	done chan struct{} // Exec's stdio relay ended
}

// ExecConn starts spec in the container and returns its raw stream (for relaying).
// A process that cannot start is a *StartError with Code 126 or 127.
func (c *Container) ExecConn(ctx context.Context, spec ExecSpec) (*ExecProcess, *Conn, error) {
	dl, _ := ctx.Deadline()
	resp, conn, err := shimapi.Call(c.sock, &shimapi.Request{Op: shimapi.OpExec, Exec: &spec}, true, dl)
	if err != nil {
		return nil, nil, err
	}
	p := &ExecProcess{c: c, id: resp.ExecID, pid: resp.PID, tty: spec.Tty}
	return p, conn, nil
}

// Exec starts spec in the container with stdio relayed to and from opts; Wait for its end.
func (c *Container) Exec(ctx context.Context, spec ExecSpec, stdio AttachOptions) (*ExecProcess, error) {
	if stdio.Stdin != nil {
		spec.Stdin = true
	}
	p, conn, err := c.ExecConn(ctx, spec)
	if err != nil {
		return nil, err
	}
	p.done = make(chan struct{})
	go func() {
		pump(context.Background(), conn, spec.Tty, stdio)
		close(p.done)
	}()
	return p, nil
}

// PID is the process's PID inside the container's PID namespace.
func (p *ExecProcess) PID() int { return p.pid }

// ID is the shim's name for the process.
func (p *ExecProcess) ID() string { return p.id }

// Wait returns the process's exit once it has ended and (for Exec) its output is relayed.
func (p *ExecProcess) Wait(ctx context.Context) (*Exit, error) {
	resp, err := shimapi.CallContext(ctx, p.c.sock, &shimapi.Request{Op: shimapi.OpExecWait, ExecID: p.id})
	if err != nil {
		return nil, err
	}
	if p.done != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return resp.Exit, nil
}

// Resize sets the exec's terminal size.
func (p *ExecProcess) Resize(height, width uint16) error {
	_, err := p.c.call(context.Background(), &shimapi.Request{Op: shimapi.OpExecResize, ExecID: p.id, Height: height, Width: width})
	return err
}

// Signal sends sig to the exec process (through init).
func (p *ExecProcess) Signal(sig syscall.Signal) error {
	_, err := p.c.call(context.Background(), &shimapi.Request{Op: shimapi.OpExecSignal, ExecID: p.id, Signal: int(sig)})
	return err
}
