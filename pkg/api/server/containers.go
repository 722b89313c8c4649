package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/ctrreq"
	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/clienttime"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/attachsvc"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/execsvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
)

func (s *Server) containersList(ctx *fasthttp.RequestCtx) {
	f := ctrlist.Filter{Project: queryString(ctx, "project"), Status: queryString(ctx, "status"),
		Name: queryString(ctx, "name"), Labels: queryStrings(ctx, "label")}
	// Only the unfiltered answer is cached, and so kept compressed.
	plain := len(ctx.URI().QueryString()) == 0
	var b []byte
	if plain {
		b = s.list.at(s.eng.ListGeneration())
	}
	if b == nil {
		sums, gen := s.eng.Summaries(f)
		out := make(map[string]api.ContainerSummary, len(sums))
		for i := range sums {
			out[sums[i].ID] = ctrview.Summary(&sums[i])
		}
		var err error
		if b, err = json.Marshal(out); err != nil {
			writeError(ctx, err)
			return
		}
		if plain {
			s.list.keep(gen, b)
		}
	}
	ctx.SetContentType("application/json")
	if plain && len(b) >= gzipMin && ctx.Request.Header.HasAcceptEncoding("gzip") {
		ctx.Response.Header.SetContentEncoding("gzip")
		ctx.Response.SetBodyRaw(s.listGzip.of(b))
		return
	}
	// A cached answer is not written to again: no copy.
	ctx.Response.SetBodyRaw(b)
}

// listCache holds the last unfiltered list answer with the engine's generation it was
// made at: a list of a thousand containers takes far longer to encode than to send, and
// most lists find nothing changed.
type listCache struct {
	last atomic.Pointer[listAnswer]
}

type listAnswer struct {
	gen  uint64
	body []byte
}

// at returns the answer made at generation gen, or nil.
func (c *listCache) at(gen uint64) []byte {
	if a := c.last.Load(); a != nil && a.gen == gen {
		return a.body
	}
	return nil
}

// keep stores the answer made at gen, unless a later one is there already.
func (c *listCache) keep(gen uint64, body []byte) {
	for {
		old := c.last.Load()
		if old != nil && old.gen >= gen {
			return
		}
		if c.last.CompareAndSwap(old, &listAnswer{gen: gen, body: body}) {
			return
		}
	}
}

// gzipMin is the body size from which compressing a list pays for itself on loopback.
const gzipMin = 16 << 10

// gzipCache holds the compressed form of the last list answer. The list cache hands back
// the same slice until the list changes, so the slice's address names its version; src
// keeps that slice alive, so the address cannot be reused by another answer.
type gzipCache struct {
	mu  sync.Mutex
	src []byte
	gz  []byte
}

func (c *gzipCache) of(b []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.src) == len(b) && &c.src[0] == &b[0] {
		return c.gz
	}
	gz := fasthttp.AppendGzipBytesLevel(nil, b, fasthttp.CompressBestSpeed)
	c.src, c.gz = b, gz
	return gz
}

func (s *Server) containerInspect(ctx *fasthttp.RequestCtx) {
	answer(ctx, "id", func(id string) (*api.ContainerInspect, error) { return ctrview.Inspect(s.eng.InspectContainer(id)) })
}

func (s *Server) containerCreate(ctx *fasthttp.RequestCtx) {
	var req api.CreateRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	cfg, warnings, err := ctrreq.Normalize(req, ctrconfig.HostOptions())
	if err != nil {
		writeError(ctx, err)
		return
	}
	id, more, err := s.eng.CreateContainer(s.daemonCtx(), cfg)
	warnings = append(warnings, more...)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	writeJSON(ctx, fasthttp.StatusCreated, api.Created{ID: id, Warnings: warnings})
}

// waitResult is the API's shape of how a run ended.
func waitResult(r *engine.WaitResult) api.WaitResult {
	return api.WaitResult{ExitCode: r.ExitCode, OOMKilled: r.OOMKilled, Error: r.Error}
}

// daemonCtx is a context that lives past the handler (the daemon's own).
func (s *Server) daemonCtx() context.Context { return s.ctx }

func wantsUpgrade(ctx *fasthttp.RequestCtx) bool {
	return strings.EqualFold(string(ctx.Request.Header.Peek("Upgrade")), "tcp")
}

func (s *Server) containerRun(ctx *fasthttp.RequestCtx) {
	var req api.CreateRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	if req.Interactive {
		req.Tty, req.Stdin = true, true
	}
	cfg, warnings, err := ctrreq.Normalize(req, ctrconfig.HostOptions())
	if err != nil {
		writeError(ctx, err)
		return
	}
	upgrade := wantsUpgrade(ctx)
	if req.Detached && !upgrade {
		run, more, err := s.attach.RunContainer(s.daemonCtx(), cfg, attachsvc.RunAttach{}, 0, 0)
		warnings = append(warnings, more...)
		if err != nil {
			writeError(ctx, err)
			return
		}
		if run.Failed != nil {
			writeError(ctx, errdefs.Invalid(run.Failed.Msg))
			return
		}
		if warnings == nil {
			warnings = []string{}
		}
		writeJSON(ctx, fasthttp.StatusCreated, api.Created{ID: run.ID, Warnings: warnings})
		return
	}
	// ?h=&w= size a tty before its workload starts (a later resize would race it).
	h, w, _ := sizeQuery(ctx)
	// A foreground run's frames need no daemon in their way (runDirect).
	held := !upgrade && !req.Tty && wantsFrames(ctx, api.FramesType)
	att := attachsvc.RunAttach{Output: true, Stdin: upgrade && req.Stdin, Held: held}
	run, more, err := s.attach.RunContainer(s.daemonCtx(), cfg, att, h, w)
	warnings = append(warnings, more...)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if held && run.Conn != nil && run.Conn.Held {
		s.runDirect(ctx, run, warnings, req.AutoRemove)
		return
	}
	if upgrade {
		ctx.Response.Header.Set("X-Minibox-Container-Id", run.ID)
		s.relay(ctx, run.Conn, run.Tty, run.Failed)
		return
	}
	eng := s.eng
	streamRun(ctx, func(st *eventStream) error {
		if err := st.emit(api.RunEvent{ID: run.ID, Warnings: warnings}); err != nil {
			if run.Conn != nil {
				run.Conn.Close()
			}
			return err
		}
		if run.Failed != nil {
			st.output(api.FrameStderr, []byte(run.Failed.Msg+"\n"))
			return st.emit(api.WaitResult{ExitCode: run.Failed.Code})
		}
		if err := st.pump(run.Conn, run.Tty); err != nil {
			return err
		}
		cond := "" // --rm: the answer comes once the container is gone, as Docker's
		if req.AutoRemove {
			cond = "removed"
		}
		res, err := eng.WaitContainer(s.daemonCtx(), run.ID, cond)
		if err != nil {
			return err
		}
		return st.emit(waitResult(res))
	})
}

// relay answers 101 and copies between the client's connection and the process's stream:
// output until it ends, stdin until the client half-closes.
func (s *Server) relay(ctx *fasthttp.RequestCtx, conn *shimclient.Conn, tty bool, failed *errdefs.StartFailed) {
	ctx.SetStatusCode(fasthttp.StatusSwitchingProtocols)
	ctx.Response.Header.Set("Connection", "Upgrade")
	ctx.Response.Header.Set("Upgrade", "tcp")
	ctx.Response.Header.Set("Content-Type", "application/vnd.minibox.raw-stream")
	if !tty {
		ctx.Response.Header.Set("Content-Type", "application/vnd.minibox.multiplexed-stream")
	}
	ctx.HijackSetNoResponse(false)
	ctx.Hijack(func(c net.Conn) {
		if failed != nil {
			defer lingerClose(c)
			msg := []byte(failed.Msg + "\n")
			if tty {
				c.Write(msg)
			} else {
				var hdr [8]byte
				hdr[0] = 3
				binary.BigEndian.PutUint32(hdr[4:], uint32(len(msg)))
				c.Write(append(hdr[:], msg...))
			}
			return
		}
		defer c.Close()
		defer conn.Close()
		stdinDone := make(chan struct{})
		go func() {
			defer close(stdinDone)
			io.Copy(conn, c)
			conn.CloseWrite()
			// Whatever the client still sends goes nowhere, but is read: a close with
			// unread input answers with a reset, which can reach the client before the
			// end of its output does.
			io.Copy(io.Discard, c)
		}()
		io.Copy(c, conn)
		closeWrite(c)
		// The client closes once it has read the end; one that does not is cut off.
		// fasthttp recycles c once this returns: the stdin reader must be done with it.
		c.SetReadDeadline(time.Now().Add(lingerTimeout))
		<-stdinDone
	})
}

// lingerTimeout is how long a finished stream waits for its client to close.
const lingerTimeout = 2 * time.Second

func closeWrite(c net.Conn) {
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
}

// lingerClose ends our side of c, reads what the client still sends until it closes (or
// lingerTimeout), then closes c: a close with unread input would reset the connection,
// and the reset can overtake the last bytes we wrote.
func lingerClose(c net.Conn) {
	closeWrite(c)
	c.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, c)
	c.Close()
}

func (s *Server) containerStart(ctx *fasthttp.RequestCtx) {
	if wantsUpgrade(ctx) {
		// start -a -i: the stream is attached before the workload runs.
		id, err := requireQuery(ctx, "id")
		if err != nil {
			writeError(ctx, err)
			return
		}
		h, w, _ := sizeQuery(ctx)
		run, err := s.attach.StartAttached(s.daemonCtx(), id, queryBool(ctx, "stdin"), h, w)
		if err != nil {
			writeError(ctx, err)
			return
		}
		ctx.Response.Header.Set("X-Minibox-Container-Id", run.ID)
		s.relay(ctx, run.Conn, run.Tty, run.Failed)
		return
	}
	s.idAction(ctx, func(id string) error {
		_, err := s.eng.StartContainer(s.daemonCtx(), id, nil)
		return err
	})
}

// containerPrewarm announces count starts about to come (compose up): the daemon readies
// that many warm shims meanwhile.
func (s *Server) containerPrewarm(ctx *fasthttp.RequestCtx) {
	action(ctx, "count", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errdefs.Invalid("count: expected a number of containers from 1 to 1000")
		}
		s.eng.Prewarm(n)
		return nil
	})
}

func stopTimeout(ctx *fasthttp.RequestCtx) (*time.Duration, error) {
	t := queryString(ctx, "t")
	if t == "" {
		t = queryString(ctx, "timeout")
	}
	if t == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 0 {
		d := time.Duration(n) * time.Second
		return &d, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return nil, errdefs.Invalid("t: expected a number of seconds or a duration such as 30s")
	}
	return &d, nil
}

func (s *Server) containerStop(ctx *fasthttp.RequestCtx) { s.withTimeout(ctx, s.eng.StopContainer) }

func (s *Server) containerRestart(ctx *fasthttp.RequestCtx) {
	s.withTimeout(ctx, s.eng.RestartContainer)
}

// withTimeout runs stop or restart with ?t= (seconds or a duration).
func (s *Server) withTimeout(ctx *fasthttp.RequestCtx, fn func(context.Context, string, *time.Duration) error) {
	s.idAction(ctx, func(id string) error {
		t, err := stopTimeout(ctx)
		if err != nil {
			return err
		}
		return fn(s.daemonCtx(), id, t)
	})
}

func (s *Server) containerKill(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error { return s.eng.KillContainer(id, queryString(ctx, "signal")) })
}

func (s *Server) containerPause(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error { return s.eng.PauseContainer(id, true) })
}

func (s *Server) containerUnpause(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error { return s.eng.PauseContainer(id, false) })
}

func (s *Server) containerRename(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		name, err := requireQuery(ctx, "name")
		if err != nil {
			return err
		}
		return s.eng.RenameContainer(id, name)
	})
}

func (s *Server) containerRemove(ctx *fasthttp.RequestCtx) {
	s.idAction(ctx, func(id string) error {
		return s.eng.RemoveContainer(s.daemonCtx(), id, queryBool(ctx, "force"), queryBool(ctx, "volumes") || queryBool(ctx, "v"))
	})
}

// idAction runs a 204 action on the container named by ?id.
func (s *Server) idAction(ctx *fasthttp.RequestCtx, fn func(id string) error) {
	action(ctx, "id", fn)
}

// action runs a 204 action on the object named by a required query parameter.
func action(ctx *fasthttp.RequestCtx, param string, fn func(v string) error) {
	v, err := requireQuery(ctx, param)
	if err == nil {
		err = fn(v)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// answer answers 200 with what fn returns for the object named by a required parameter.
func answer[T any](ctx *fasthttp.RequestCtx, param string, fn func(v string) (T, error)) {
	v, err := requireQuery(ctx, param)
	if err != nil {
		writeError(ctx, err)
		return
	}
	out, err := fn(v)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) containerWait(ctx *fasthttp.RequestCtx) {
	answer(ctx, "id", func(id string) (*api.WaitResult, error) {
		res, err := s.eng.WaitContainer(s.daemonCtx(), id, queryString(ctx, "condition"))
		if err != nil {
			return nil, err
		}
		w := waitResult(res)
		return &w, nil
	})
}

func (s *Server) containerLogs(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	if err != nil {
		writeError(ctx, err)
		return
	}
	now := time.Now()
	opts := ctrio.LogsOptions{Follow: queryBool(ctx, "follow") || queryBool(ctx, "f"),
		Stdout: queryBool(ctx, "stdout"), Stderr: queryBool(ctx, "stderr"), Details: queryBool(ctx, "details")}
	if t := queryString(ctx, "tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(ctx, errdefs.Invalid("tail: expected a number of lines or all"))
			return
		}
		opts.Tail = n
		if n == 0 {
			opts.Tail = -1
		}
	}
	if opts.Since, err = clienttime.Parse(queryString(ctx, "since"), now); err == nil {
		opts.Until, err = clienttime.Parse(queryString(ctx, "until"), now)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	// Check the container now, so a wrong ID is a 404 rather than a broken stream.
	if _, err := s.eng.InspectContainer(id); err != nil {
		writeError(ctx, err)
		return
	}
	asJSON := queryString(ctx, "format") == "json"
	timestamps := queryBool(ctx, "timestamps")
	if wantsFrames(ctx, api.LogFramesType) {
		s.logFrames(ctx, id, opts)
		return
	}
	if asJSON {
		ctx.SetContentType("application/x-ndjson")
	} else {
		ctx.SetContentType("text/plain; charset=utf-8")
	}
	done := s.shutdown
	logs := s.logs
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		err := logs.Logs(id, opts, done, func(l ctrio.LogLine) error {
			if opts.Tail < 0 {
				return nil
			}
			if asJSON {
				enc.Encode(api.LogLine{Time: l.Time, Stream: l.Stream, Text: l.Text, Details: l.Details})
			} else {
				if timestamps {
					w.WriteString(l.Time.UTC().Format(time.RFC3339Nano) + " ")
				}
				if opts.Details {
					w.WriteString(l.Details + " ")
				}
				w.WriteString(l.Text)
			}
			return w.Flush()
		})
		if err != nil && asJSON {
			enc.Encode(errorBody(err))
			w.Flush()
		}
	})
}

// logFrames answers GET /containers/logs as frames: each record's time and bytes as the
// log holds them, no JSON. --details' attributes, the same for every record of a
// container, come once in the X-Minibox-Log-Details header.
func (s *Server) logFrames(ctx *fasthttp.RequestCtx, id string, opts ctrio.LogsOptions) {
	ctx.SetContentType(api.LogFramesType)
	if opts.Details {
		if d, err := s.logs.LogDetails(id); err == nil {
			ctx.Response.Header.Set("X-Minibox-Log-Details", d)
		}
	}
	done := s.shutdown
	logs := s.logs
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		var hdr [16]byte
		err := logs.Logs(id, opts, done, func(l ctrio.LogLine) error {
			if opts.Tail < 0 {
				return nil
			}
			if l.Stream == "stderr" {
				hdr[0] = api.FrameStderr
			} else {
				hdr[0] = api.FrameStdout
			}
			binary.BigEndian.PutUint32(hdr[4:8], uint32(8+len(l.Text)))
			binary.BigEndian.PutUint64(hdr[8:16], uint64(l.Time.UnixNano()))
			w.Write(hdr[:])
			w.WriteString(l.Text)
			if opts.Follow {
				return w.Flush() // live: now, not once the buffer fills
			}
			return nil
		})
		if err != nil {
			msg := errdefs.Message(err)
			hdr[0] = api.FrameError
			binary.BigEndian.PutUint32(hdr[4:8], uint32(len(msg)))
			w.Write(hdr[:8])
			w.WriteString(msg)
		}
		w.Flush()
	})
}

func (s *Server) containerAttach(ctx *fasthttp.RequestCtx) {
	id, err := requireQuery(ctx, "id")
	if err != nil {
		writeError(ctx, err)
		return
	}
	if !wantsUpgrade(ctx) {
		writeError(ctx, errdefs.Invalid("attach needs \"Connection: Upgrade\" and \"Upgrade: tcp\""))
		return
	}
	stdin := !ctx.QueryArgs().Has("stdin") || queryBool(ctx, "stdin")
	conn, tty, err := s.attach.AttachContainer(s.daemonCtx(), id, stdin)
	if err != nil {
		writeError(ctx, err)
		return
	}
	s.relay(ctx, conn, tty, nil)
}

func sizeQuery(ctx *fasthttp.RequestCtx) (uint16, uint16, error) {
	h, err1 := strconv.ParseUint(queryString(ctx, "h"), 10, 16)
	w, err2 := strconv.ParseUint(queryString(ctx, "w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, errdefs.Invalid("h and w must be numbers of rows and columns")
	}
	return uint16(h), uint16(w), nil
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

func (s *Server) containerExec(ctx *fasthttp.RequestCtx) {
	var req api.ExecRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	if req.Interactive {
		req.Tty, req.Stdin = true, true
	}
	upgrade := wantsUpgrade(ctx)
	if !upgrade {
		req.Stdin = false
	}
	x, err := s.execs.Exec(s.daemonCtx(), execsvc.Options{ID: req.ID, Command: req.Command, Tty: req.Tty, Stdin: req.Stdin,
		Env: req.Env, User: req.User, WorkingDir: req.WorkingDir, Detach: req.Detach, Height: req.Height, Width: req.Width,
		Privileged: req.Privileged})
	if err != nil {
		writeError(ctx, err)
		return
	}
	switch {
	case req.Detach:
		if x.Failed != nil {
			writeError(ctx, errdefs.Invalid(x.Failed.Msg))
			return
		}
		writeJSON(ctx, fasthttp.StatusCreated, api.ExecCreated{ExecID: x.ID})
	case upgrade:
		ctx.Response.Header.Set("X-Minibox-Exec-Id", x.ID)
		s.relay(ctx, x.Conn, x.Tty, x.Failed)
	default:
		execs := s.execs
		streamRun(ctx, func(st *eventStream) error {
			if err := st.emit(api.ExecCreated{ExecID: x.ID}); err != nil {
				return err
			}
			if x.Failed != nil {
				st.output(api.FrameStderr, []byte(x.Failed.Msg+"\n"))
				return st.emit(api.WaitResult{ExitCode: x.Failed.Code})
			}
			if err := st.pump(x.Conn, x.Tty); err != nil {
				return err
			}
			code, err := execs.WaitExec(s.daemonCtx(), x.ID)
			if err != nil {
				return err
			}
			return st.emit(api.WaitResult{ExitCode: code})
		})
	}
}

func (s *Server) execResize(ctx *fasthttp.RequestCtx) {
	action(ctx, "exec_id", func(id string) error {
		h, w, err := sizeQuery(ctx)
		if err != nil {
			return err
		}
		return s.execs.ResizeExec(id, h, w)
	})
}

func (s *Server) execInspect(ctx *fasthttp.RequestCtx) {
	answer(ctx, "exec_id", func(id string) (*api.ExecInspect, error) {
		x, err := s.execs.InspectExec(s.daemonCtx(), id, queryBool(ctx, "wait"))
		if err != nil {
			return nil, err
		}
		return &api.ExecInspect{Running: x.Running, ExitCode: x.ExitCode, PID: x.PID}, nil
	})
}
