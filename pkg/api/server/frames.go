package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/peerwatch"
	"github.com/minibox/minibox/pkg/shimclient"
)

// wantsFrames: the client reads a run, exec or logs stream as binary frames (api.FramesType,
// api.LogFramesType) instead of JSON lines, so output passes without being encoded.
func wantsFrames(ctx *fasthttp.RequestCtx, typ string) bool {
	return bytes.Contains(ctx.Request.Header.Peek("Accept"), []byte(typ))
}

// eventStream writes a run or exec stream: JSON lines, or frames when asked for.
type eventStream struct {
	w      *bufio.Writer
	enc    *json.Encoder
	frames bool
	hdr    [8]byte
}

func (s *eventStream) frame(kind byte, p []byte) error {
	s.hdr[0] = kind
	binary.BigEndian.PutUint32(s.hdr[4:], uint32(len(p)))
	s.w.Write(s.hdr[:])
	_, err := s.w.Write(p)
	return err
}

// emit sends one event (the ID, the result, an error).
func (s *eventStream) emit(v any) error {
	var err error
	if s.frames {
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			err = s.frame(api.FrameEvent, b)
		}
	} else {
		err = s.enc.Encode(v)
	}
	if err != nil {
		return err
	}
	return s.w.Flush()
}

// output sends one chunk of a stream (1 stdout, 2 stderr).
func (s *eventStream) output(stream byte, p []byte) error {
	if !s.frames {
		name := "stdout"
		if stream == api.FrameStderr {
			name = "stderr"
		}
		return s.emit(api.RunEvent{Stream: name, Text: string(p)})
	}
	if err := s.frame(stream, p); err != nil {
		return err
	}
	return s.w.Flush()
}

// streamRun answers with a run or exec stream; an error from produce ends it as an error
// event (JSON) or frame.
func streamRun(ctx *fasthttp.RequestCtx, produce func(s *eventStream) error) {
	frames := wantsFrames(ctx, api.FramesType)
	ctx.SetStatusCode(fasthttp.StatusOK)
	if frames {
		ctx.SetContentType(api.FramesType)
	} else {
		ctx.SetContentType("application/x-ndjson")
	}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		s := &eventStream{w: w, enc: json.NewEncoder(w), frames: frames}
		if err := produce(s); err != nil {
			if frames {
				s.frame(api.FrameError, []byte(err.Error()))
				w.Flush()
			} else {
				s.emit(errorBody(err))
			}
		}
	})
}

// pump sends an attach stream's output until it ends. The shim's frames are the wire's:
// in frames mode they pass through as read, in big chunks, never decoded.
func (s *eventStream) pump(conn *shimclient.Conn, tty bool) error {
	defer conn.Close()
	if s.frames && !tty {
		return s.passFrames(conn)
	}
	if tty {
		buf := make([]byte, 32<<10)
		for {
			n, err := conn.Read(buf)
			if n > 0 {
				if eerr := s.output(api.FrameStdout, buf[:n]); eerr != nil {
					return eerr
				}
			}
			if err != nil {
				return nil
			}
		}
	}
	var hdr [8]byte
	var p []byte
	for {
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return nil
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if uint32(cap(p)) < n {
			p = make([]byte, n)
		}
		p = p[:n]
		if _, err := io.ReadFull(conn, p); err != nil {
			return nil
		}
		if hdr[0] == api.FrameError {
			return errors.New(string(p))
		}
		if err := s.output(hdr[0], p); err != nil {
			return err
		}
	}
}

// passFrames copies the shim's frames as they come, checking each header on the way (an
// engine-error frame ends the stream as the error), and flushes after every read.
func (s *eventStream) passFrames(conn *shimclient.Conn) error {
	buf := make([]byte, 256<<10)
	var hdr [8]byte
	hdrN := 0        // bytes of the next header seen so far
	left := int64(0) // payload bytes of the current frame still to pass
	for {
		n, rerr := conn.Read(buf)
		p := buf[:n]
		for len(p) > 0 {
			if left > 0 {
				k := min(int64(len(p)), left)
				if _, err := s.w.Write(p[:k]); err != nil {
					return err
				}
				p, left = p[k:], left-k
				continue
			}
			k := copy(hdr[hdrN:], p)
			hdrN += k
			p = p[k:]
			if hdrN < len(hdr) {
				break
			}
			hdrN = 0
			left = int64(binary.BigEndian.Uint32(hdr[4:]))
			if hdr[0] == api.FrameError {
				msg := make([]byte, 0, left)
				for int64(len(msg)) < left {
					k := min(int64(len(p)), left-int64(len(msg)))
					msg = append(msg, p[:k]...)
					p = p[k:]
					if int64(len(msg)) < left {
						m, err := conn.Read(buf)
						if err != nil && m == 0 {
							break
						}
						p = buf[:m]
					}
				}
				s.w.Flush()
				return errors.New(string(msg))
			}
			if _, err := s.w.Write(hdr[:]); err != nil {
				return err
			}
		}
		if err := s.w.Flush(); err != nil {
			return err
		}
		if rerr != nil {
			return nil
		}
	}
}

// runDirect answers a foreground run whose output does not pass through the daemon's
// memory: the shim's frames are the stream's. A client on the unix socket gets its
// connection handed to the shim, which writes to it itself; over TCP (where the handoff
// does not apply) the kernel moves the frames from the shim's connection to the client's
// (splice). The daemon writes the head of the stream (the ID) and, once the shim has
// ended its attachment, its end (the result, after the removal for --rm). The body ends
// with the connection.
func (s *Server) runDirect(ctx *fasthttp.RequestCtx, run *attachsvc.RunStarted, warnings []string, autoRemove bool) {
	raw := ctx.Conn()
	ctx.HijackSetNoResponse(true)
	eng := s.eng
	ctx.Hijack(func(c net.Conn) {
		defer run.Conn.Close()
		w := bufio.NewWriterSize(c, 512)
		w.WriteString("HTTP/1.1 200 OK\r\nContent-Type: " + api.FramesType + "\r\nConnection: close\r\n\r\n")
		st := &eventStream{w: w, frames: true}
		if err := st.emit(api.RunEvent{ID: run.ID, Warnings: warnings}); err != nil {
			return
		}
		if uc, ok := raw.(*net.UnixConn); ok && run.Conn.HandOff(uc) == nil {
			// Nothing comes on it: the shim ends it once the last output is written.
			io.Copy(io.Discard, run.Conn)
		} else if run.Conn.Relay() == nil {
			// Held until now, the attachment has nothing in run.Conn's read buffer: the
			// socket itself is the stream. (A client gone shows when the result is sent.)
			io.Copy(raw, run.Conn.UnixConn)
		}
		cond := "" // --rm: the answer comes once the container is gone, as Docker's
		if autoRemove {
			cond = "removed"
		}
		// A client that left (the shim found it gone, or it closes meanwhile) waits for
		// nothing more.
		wctx, cancel := context.WithCancel(s.daemonCtx())
		stop := peerwatch.Watch(wctx, raw, cancel)
		defer func() { cancel(); stop() }()
		res, err := eng.WaitContainer(wctx, run.ID, cond)
		if err != nil {
			st.frame(api.FrameError, []byte(err.Error()))
			w.Flush()
			return
		}
		st.emit(waitResult(res))
	})
}
