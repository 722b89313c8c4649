package dockerapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/dockerapi/rawconn"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
)

const (
	rawStream         = "application/vnd.docker.raw-stream"
	multiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// streamType is the Content-Type of a container's stdio stream: multiplexed frames
// without a tty (from API 1.42; raw-stream before, with the same frames).
func streamType(ctx *fasthttp.RequestCtx, tty bool) string {
	if tty || versionBelow(ctx, "1.42") {
		return rawStream
	}
	return multiplexedStream
}

// pendingAttach is an attachment made before the container's start.
type pendingAttach struct {
	stdin bool
	got   chan *shimclient.Conn // one value; nil when the start failed
}

// hijack answers 101 (or 200 to a client that did not ask to upgrade) and hands the
// connection to fn once the headers are out.
func hijack(ctx *fasthttp.RequestCtx, contentType string, fn func(c net.Conn)) {
	if strings.EqualFold(string(ctx.Request.Header.Peek("Upgrade")), "tcp") {
		ctx.SetStatusCode(fasthttp.StatusSwitchingProtocols)
		ctx.Response.Header.Set("Connection", "Upgrade")
		ctx.Response.Header.Set("Upgrade", "tcp")
	} else {
		ctx.SetStatusCode(fasthttp.StatusOK)
	}
	ctx.Response.Header.Set("Content-Type", contentType)
	ctx.HijackSetNoResponse(false)
	raw := ctx.Conn()
	ctx.Hijack(func(c net.Conn) { fn(halfCloser{Conn: c, raw: raw}) })
}

// halfCloser lets a hijacked connection (fasthttp's wrapper, which reads what it had
// buffered first) half-close the socket under it: the client reads the end of the
// output while it may still send input.
type halfCloser struct {
	net.Conn
	raw net.Conn
}

func (h halfCloser) CloseWrite() error {
	if cw, ok := h.raw.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// outputs is the part of a container's output a client asked for.
type outputs struct{ stdout, stderr, tty bool }

// copyOutput copies the process's output to w: all of it, or only the frames of the
// streams selected (with a tty there is one stream, stdout).
func copyOutput(w io.Writer, r io.Reader, o outputs) {
	switch {
	case o.tty && !o.stdout, !o.tty && !o.stdout && !o.stderr:
		io.Copy(io.Discard, r)
		return
	case o.tty || o.stdout && o.stderr:
		io.Copy(w, r)
		return
	}
	var hdr [8]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		keep := hdr[0] == 1 && o.stdout || hdr[0] == 2 && o.stderr || hdr[0] == 3
		dst := io.Discard
		if keep {
			if _, err := w.Write(hdr[:]); err != nil {
				return
			}
			dst = w
		}
		if _, err := io.CopyBuffer(dst, io.LimitReader(r, n), buf); err != nil {
			return
		}
	}
}

// relay copies the process's output to the client until it ends, and the client's
// input to the process (when in is set) until the client half-closes.
func relay(c net.Conn, conn *shimclient.Conn, in io.Reader, o outputs) {
	relayThen(c, conn, in, o, nil)
}

// relayThen is relay; ended (if set) runs between the end of the output and the end of
// the stream, so that what the client asks next (an exec's exit code) is known.
func relayThen(c net.Conn, conn *shimclient.Conn, in io.Reader, o outputs, ended func()) {
	defer c.Close()
	defer conn.Close()
	stdinDone := make(chan struct{})
	go func() {
		defer close(stdinDone)
		if in != nil {
			io.Copy(conn, in)
			conn.CloseWrite()
		}
		// Whatever else the client sends is read: a close with unread input resets the
		// connection, and the reset can overtake the end of the output.
		io.Copy(io.Discard, c)
	}()
	copyOutput(c, conn, o)
	if ended != nil {
		ended()
	}
	rawconn.CloseWrite(c)
	c.SetReadDeadline(time.Now().Add(lingerTimeout))
	<-stdinDone
}

func (s *Server) containerAttach(ctx *fasthttp.RequestCtx) {
	id := param(ctx, "id")
	in, err := ctrview.Inspect(s.eng.InspectContainer(id))
	if err != nil {
		writeError(ctx, err)
		return
	}
	stream, logs := queryBool(ctx, "stream"), queryBool(ctx, "logs")
	if !stream && !logs {
		writeErr(ctx, fasthttp.StatusBadRequest, "attach needs stream=1 (or logs=1)")
		return
	}
	id, tty := in.ID, in.Config.Tty
	stdin := queryBool(ctx, "stdin") && in.Config.OpenStdin
	out := outputs{stdout: queryBool(ctx, "stdout"), stderr: queryBool(ctx, "stderr"), tty: tty}
	logOpts := ctrio.LogsOptions{Stdout: out.stdout, Stderr: out.stderr}
	if !stream { // logs=1 alone: the log so far, then the end
		s.writeLogs(ctx, id, tty, logOpts, false)
		return
	}
	// replay writes the log so far (logs=1) ahead of the live output, as dockerd does.
	attach, logSvc, done := s.attach, s.logs, s.shutdown
	replay := func(c net.Conn) {
		if logs && (out.stdout || out.stderr) {
			bw := bufio.NewWriter(c)
			copyLogs(bw, logSvc, id, tty, logOpts, false, done)
			bw.Flush()
		}
	}
	if in.State.Running {
		if logs {
			// The log first, then the attachment: a container that ends in between has
			// all its output in the log, and the stream just ends.
			hijack(ctx, streamType(ctx, tty), func(c net.Conn) {
				replay(c)
				conn, _, err := attach.AttachContainer(s.ctx, id, stdin)
				if err != nil {
					endStream(c)
					return
				}
				relay(c, conn, inputOf(c, stdin), out)
			})
			return
		}
		conn, _, err := s.attach.AttachContainer(s.ctx, id, stdin)
		if err != nil {
			writeError(ctx, err)
			return
		}
		hijack(ctx, streamType(ctx, tty), func(c net.Conn) { relay(c, conn, inputOf(c, stdin), out) })
		return
	}
	// Not running: the attachment waits for the start (docker run attaches first).
	p := &pendingAttach{stdin: stdin, got: make(chan *shimclient.Conn, 1)}
	s.pmu.Lock()
	s.pending[id] = append(s.pending[id], p)
	s.pmu.Unlock()
	raw := ctx.Conn()
	hijack(ctx, streamType(ctx, tty), func(c net.Conn) {
		replay(c)
		// Input typed before the start is kept in a pipe until the process takes it.
		var pr *io.PipeReader
		if stdin {
			var pw *io.PipeWriter
			pr, pw = io.Pipe()
			go func() { _, err := io.Copy(pw, c); pw.CloseWithError(err) }()
		}
		left, stopWatch := rawconn.Hangup(raw)
		var conn *shimclient.Conn
		got := false
		select {
		case conn = <-p.got:
			got = true
		case <-done:
		case <-left:
		}
		stopWatch()
		if conn == nil {
			if !got && !s.dropPending(id, p) {
				// The start took this attachment already: it hands over one value.
				if late := <-p.got; late != nil {
					late.Close()
				}
			}
			if pr != nil {
				pr.Close()
			}
			c.Close()
			return
		}
		if pr != nil {
			relay(c, conn, pr, out)
			pr.Close()
			return
		}
		relay(c, conn, nil, out)
	})
}

// inputOf is the client's side of the connection as the process's stdin, or nil.
func inputOf(c net.Conn, stdin bool) io.Reader {
	if stdin {
		return c
	}
	return nil
}

// endStream ends a hijacked stream with nothing more to send.
func endStream(c net.Conn) {
	rawconn.CloseWrite(c)
	c.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, c)
	c.Close()
}

// dropPending takes p off the container's waiting attachments; false when the start
// took it already.
func (s *Server) dropPending(id string, p *pendingAttach) bool {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	list := s.pending[id]
	found := false
	for i, q := range list {
		if q == p {
			s.pending[id] = append(list[:i:i], list[i+1:]...)
			found = true
			break
		}
	}
	if len(s.pending[id]) == 0 {
		delete(s.pending, id)
	}
	return found
}

func (s *Server) takePending(id string) []*pendingAttach {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	ps := s.pending[id]
	delete(s.pending, id)
	return ps
}

func (s *Server) containerStart(ctx *fasthttp.RequestCtx) {
	in, err := ctrview.Inspect(s.eng.InspectContainer(param(ctx, "id")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	if in.State.Running {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	id := in.ID
	ps := s.takePending(id)
	var before attachsvc.BeforeResume
	if len(ps) > 0 {
		before = func(shim *shimclient.Container) error {
			for _, p := range ps {
				conn, err := shim.AttachConn(s.ctx, p.stdin)
				if err != nil {
					return err
				}
				p.got <- conn
			}
			return nil
		}
	}
	_, err = s.eng.StartContainer(s.ctx, id, before)
	for _, p := range ps {
		select {
		case p.got <- nil: // the start failed before this one was attached
		default:
		}
	}
	if err != nil {
		if in.HostConfig.AutoRemove {
			// dockerd removes an --rm container whose start failed; the client waits for it.
			s.eng.RemoveContainer(s.ctx, id, true, true)
		}
		var sf *errdefs.StartFailed
		if errors.As(err, &sf) {
			writeErr(ctx, fasthttp.StatusBadRequest, "failed to create task for container: "+sf.Msg)
			return
		}
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) containerResize(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		h, w, err := sizeQuery(ctx)
		if err != nil {
			return err
		}
		return s.attach.ResizeContainer(id, h, w)
	})
}

func sizeQuery(ctx *fasthttp.RequestCtx) (uint16, uint16, error) {
	h, err1 := strconv.ParseUint(query(ctx, "h"), 10, 16)
	w, err2 := strconv.ParseUint(query(ctx, "w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, errdefs.Invalid("query parameters h and w must be numbers of rows and columns")
	}
	return uint16(h), uint16(w), nil
}

func (s *Server) containerLogs(ctx *fasthttp.RequestCtx) {
	in, err := ctrview.Inspect(s.eng.InspectContainer(param(ctx, "id")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	opts := ctrio.LogsOptions{Follow: queryBool(ctx, "follow"), Stdout: queryBool(ctx, "stdout"), Stderr: queryBool(ctx, "stderr")}
	if !opts.Stdout && !opts.Stderr {
		writeErr(ctx, fasthttp.StatusBadRequest, "you must choose at least one stream (stdout=1 or stderr=1)")
		return
	}
	if t := query(ctx, "tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeErr(ctx, fasthttp.StatusBadRequest, "tail: expected a number of lines or all")
			return
		}
		opts.Tail = n
		if n == 0 {
			opts.Tail = -1
		}
	}
	now := time.Now()
	if opts.Since, err = dockerconv.ParseTime(query(ctx, "since"), now); err == nil {
		opts.Until, err = dockerconv.ParseTime(query(ctx, "until"), now)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	s.writeLogs(ctx, in.ID, in.Config.Tty, opts, queryBool(ctx, "timestamps"))
}

// writeLogs streams the log: frames without a tty, raw bytes with one.
func (s *Server) writeLogs(ctx *fasthttp.RequestCtx, id string, tty bool, opts ctrio.LogsOptions, timestamps bool) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(streamType(ctx, tty))
	logSvc, done := s.logs, s.shutdown
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		copyLogs(w, logSvc, id, tty, opts, timestamps, done)
	})
}

// copyLogs writes the container's log to w as the client reads it, each line flushed.
func copyLogs(w *bufio.Writer, logSvc logs, id string, tty bool, opts ctrio.LogsOptions, timestamps bool, done <-chan struct{}) {
	var line []byte
	logSvc.Logs(id, opts, done, func(l ctrio.LogLine) error {
		if opts.Tail < 0 {
			return nil
		}
		line = line[:0]
		if timestamps {
			line = append(l.Time.UTC().AppendFormat(line, time.RFC3339Nano), ' ')
		}
		line = append(line, l.Text...)
		if !tty {
			var hdr [8]byte
			hdr[0] = 1
			if l.Stream == "stderr" {
				hdr[0] = 2
			}
			binary.BigEndian.PutUint32(hdr[4:], uint32(len(line)))
			w.Write(hdr[:])
		}
		w.Write(line)
		return w.Flush()
	})
}

// containerStats answers GET /containers/{id}/stats: one sample with stream=0 (or
// one-shot=1), else one a second until the client leaves.
func (s *Server) containerStats(ctx *fasthttp.RequestCtx) {
	id := param(ctx, "id")
	stream := !ctx.QueryArgs().Has("stream") || queryBool(ctx, "stream")
	first, err := s.eng.Stats(s.ctx, []string{id})
	if err != nil {
		writeError(ctx, err)
		return
	}
	prev := dockerconv.Stats(&first[0], nil, systemCPUUsage())
	if !stream {
		if !queryBool(ctx, "one-shot") {
			// Without one-shot, dockerd takes two samples so that precpu is set.
			select {
			case <-time.After(time.Second):
			case <-s.shutdown:
			}
			if next, err := s.eng.Stats(s.ctx, []string{id}); err == nil {
				prev = dockerconv.Stats(&next[0], prev, systemCPUUsage())
			}
		}
		writeJSON(ctx, fasthttp.StatusOK, prev)
		return
	}
	eng, done, dctx := s.eng, s.shutdown, s.ctx
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		cur := prev
		for {
			if enc.Encode(cur) != nil || w.Flush() != nil {
				return
			}
			select {
			case <-time.After(time.Second):
			case <-done:
				return
			}
			next, err := eng.Stats(dctx, []string{id})
			if err != nil {
				return
			}
			cur = dockerconv.Stats(&next[0], cur, systemCPUUsage())
		}
	})
}

// systemCPUUsage is the host's CPU time in nanoseconds, as dockerd reports it (from the
// first line of /proc/stat, in USER_HZ ticks of 10 ms).
func systemCPUUsage() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "cpu ") {
		return 0
	}
	var total uint64
	for _, field := range strings.Fields(line)[1:8] {
		n, _ := strconv.ParseUint(field, 10, 64)
		total += n
	}
	return total * (1e9 / 100)
}

// execs are Docker's two-step execs: created here, run by the engine at start.
type execConfig struct {
	id, ctr  string
	req      execsvc.Options
	engineID string // once started
	started  bool
	// out is what the client attaches to: AttachStdout and AttachStderr of the create.
	out outputs
}

func (s *Server) execCreate(ctx *fasthttp.RequestCtx) {
	var in container.ExecCreateRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	c, err := ctrview.Inspect(s.eng.InspectContainer(param(ctx, "id")))
	if err != nil {
		writeError(ctx, err)
		return
	}
	if !c.State.Running {
		writeErr(ctx, fasthttp.StatusConflict, fmt.Sprintf("container %s is not running", c.ID))
		return
	}
	if c.State.Paused {
		writeErr(ctx, fasthttp.StatusConflict, fmt.Sprintf("container %s is paused, unpause the container before exec", c.ID))
		return
	}
	if len(in.Cmd) == 0 {
		writeErr(ctx, fasthttp.StatusBadRequest, "No exec command specified")
		return
	}
	x := &execConfig{id: randomID(), ctr: c.ID, req: execsvc.Options{ID: c.ID, Command: in.Cmd, Tty: in.Tty,
		Stdin: in.AttachStdin, Env: in.Env, User: in.User, WorkingDir: in.WorkingDir, Privileged: in.Privileged},
		out: outputs{stdout: in.AttachStdout, stderr: in.AttachStderr, tty: in.Tty}}
	if in.ConsoleSize != nil {
		x.req.Height, x.req.Width = uint16(in.ConsoleSize[0]), uint16(in.ConsoleSize[1])
	}
	s.execs.Store(x.id, x)
	// Docker keeps exec records with their container; an hour is plenty for a client to
	// start one and read its exit code.
	time.AfterFunc(time.Hour, func() { s.execs.Delete(x.id) })
	writeJSON(ctx, fasthttp.StatusCreated, container.ExecCreateResponse{ID: x.id})
}

func (s *Server) execOf(ctx *fasthttp.RequestCtx) (*execConfig, bool) {
	v, ok := s.execs.Load(param(ctx, "id"))
	if !ok {
		writeErr(ctx, fasthttp.StatusNotFound, "No such exec instance: "+param(ctx, "id"))
		return nil, false
	}
	return v.(*execConfig), true
}

func (s *Server) execStart(ctx *fasthttp.RequestCtx) {
	x, ok := s.execOf(ctx)
	if !ok {
		return
	}
	var in container.ExecStartRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	s.emu.Lock()
	if x.started {
		s.emu.Unlock()
		writeErr(ctx, fasthttp.StatusConflict, "exec "+x.id+" has already been started")
		return
	}
	x.started = true
	s.emu.Unlock()
	req := x.req
	req.Detach = in.Detach
	if in.ConsoleSize != nil {
		req.Height, req.Width = uint16(in.ConsoleSize[0]), uint16(in.ConsoleSize[1])
	}
	started, err := s.execSvc.Exec(s.ctx, req)
	if err != nil {
		writeError(ctx, err)
		return
	}
	s.emu.Lock()
	x.engineID = started.ID
	s.emu.Unlock()
	if in.Detach {
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	execs, dctx := s.execSvc, s.ctx
	hijack(ctx, streamType(ctx, req.Tty), func(c net.Conn) {
		if started.Failed != nil {
			msg := []byte(started.Failed.Msg + "\n")
			if !req.Tty {
				var hdr [8]byte
				hdr[0] = 2
				binary.BigEndian.PutUint32(hdr[4:], uint32(len(msg)))
				msg = append(hdr[:], msg...)
			}
			c.Write(msg)
			rawconn.CloseWrite(c)
			c.SetReadDeadline(time.Now().Add(lingerTimeout))
			io.Copy(io.Discard, c)
			c.Close()
			return
		}
		// What is not attached is read and dropped: the process may still write it.
		relayThen(c, started.Conn, inputOf(c, req.Stdin), x.out, func() {
			wctx, cancel := context.WithTimeout(dctx, 10*time.Second)
			defer cancel()
			execs.WaitExec(wctx, started.ID)
		})
	})
}

func (s *Server) execResize(ctx *fasthttp.RequestCtx) {
	x, ok := s.execOf(ctx)
	if !ok {
		return
	}
	h, w, err := sizeQuery(ctx)
	if err == nil {
		s.emu.Lock()
		eid := x.engineID
		s.emu.Unlock()
		if eid == "" {
			err = errdefs.Conflict("exec " + x.id + " is not running")
		} else {
			err = s.execSvc.ResizeExec(eid, h, w)
		}
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

func (s *Server) execInspect(ctx *fasthttp.RequestCtx) {
	x, ok := s.execOf(ctx)
	if !ok {
		return
	}
	s.emu.Lock()
	eid := x.engineID
	s.emu.Unlock()
	out := container.ExecInspectResponse{ID: x.id, ContainerID: x.ctr, OpenStdin: x.req.Stdin, OpenStdout: x.out.stdout,
		OpenStderr: x.out.stderr, ProcessConfig: &container.ExecProcessConfig{Tty: x.req.Tty, Entrypoint: x.req.Command[0],
			Arguments: x.req.Command[1:], User: x.req.User}}
	if eid != "" {
		in, err := s.execSvc.InspectExec(s.ctx, eid, false)
		if err != nil {
			writeError(ctx, err)
			return
		}
		out.Running, out.Pid = in.Running, in.PID
		if !in.Running {
			code := in.ExitCode
			out.ExitCode = &code
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// pathStatHeader is Docker's stat of an archive path, as a header.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func (s *Server) statHeader(ctx *fasthttp.RequestCtx) (id, path string, ok bool) {
	id, path = param(ctx, "id"), query(ctx, "path")
	if path == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "query parameter path is required")
		return "", "", false
	}
	st, err := s.files.StatPath(s.ctx, id, path)
	if err != nil {
		writeError(ctx, err)
		return "", "", false
	}
	b, _ := json.Marshal(container.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, Mtime: dockerconv.ParseMtime(st.Mtime), LinkTarget: st.LinkTarget})
	ctx.Response.Header.Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	return id, path, true
}

func (s *Server) archiveHead(ctx *fasthttp.RequestCtx) {
	if _, _, ok := s.statHeader(ctx); ok {
		ctx.SetStatusCode(fasthttp.StatusOK)
	}
}

func (s *Server) archiveGet(ctx *fasthttp.RequestCtx) {
	id, path, ok := s.statHeader(ctx)
	if !ok {
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-tar")
	files, dctx := s.files, s.ctx
	pr, pw := io.Pipe()
	// Docker's archive of a symlink is the link itself unless the path ends in "/.".
	go func() { pw.CloseWithError(files.ArchivePath(dctx, id, path, false, pw)) }()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer pr.Close()
		io.Copy(w, pr)
		w.Flush()
	})
}

func (s *Server) archivePut(ctx *fasthttp.RequestCtx) {
	id, path := param(ctx, "id"), query(ctx, "path")
	if path == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "query parameter path is required")
		return
	}
	st, err := s.files.StatPath(s.ctx, id, path)
	if err == nil && !st.Mode.IsDir() {
		err = errdefs.Invalid("extraction point is not a directory")
	}
	if err == nil {
		err = s.files.ExtractArchive(s.ctx, id, path, bodyReader(ctx))
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// containerTop is not in the engine yet.
func (s *Server) containerTop(ctx *fasthttp.RequestCtx) {
	if _, err := s.eng.InspectContainer(param(ctx, "id")); err != nil {
		writeError(ctx, err)
		return
	}
	writeErr(ctx, fasthttp.StatusNotImplemented, "top is not supported by minibox yet")
}
