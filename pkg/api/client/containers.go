package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/api"
)

// errNoResult is a run or exec stream that ended before its result line: the daemon died
// or dropped the connection, and the process's fate is unknown to this stream.
var errNoResult = errors.New("the daemon's stream ended before the process's exit was reported")

// errResult stops reading a run or exec stream at its result line: nothing follows it, and
// the end of the chunked body comes in a later write of the daemon's.
var errResult = errors.New("result line read")

// ContainerList runs GET /containers with filters (project, status, name, label), all
// containers keyed by full ID.
func (c *Client) ContainerList(ctx context.Context, filters url.Values) (map[string]api.ContainerSummary, error) {
	out := map[string]api.ContainerSummary{}
	return out, c.JSON(ctx, "GET", "/containers", filters, nil, &out)
}

// ContainerInspect runs GET /containers/inspect.
func (c *Client) ContainerInspect(ctx context.Context, id string) (*api.ContainerInspect, error) {
	var out api.ContainerInspect
	if err := c.JSON(ctx, "GET", "/containers/inspect", url.Values{"id": {id}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InspectRaw returns the JSON of GET <path>?<key>=<name> as the daemon sent it
// (inspect -f templates see every field, including ones this client does not know).
func (c *Client) InspectRaw(ctx context.Context, path, key, name string) (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.JSON(ctx, "GET", path, url.Values{key: {name}}, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ContainerCreate runs POST /containers/create.
func (c *Client) ContainerCreate(ctx context.Context, req *api.CreateRequest) (*api.Created, error) {
	var out api.Created
	if err := c.JSON(ctx, "POST", "/containers/create", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContainerRunDetached runs POST /containers/run with detached set; the answer comes once
// the container started. No call timeout: a missing image is pulled first.
func (c *Client) ContainerRunDetached(ctx context.Context, req *api.CreateRequest) (*api.Created, error) {
	r := *req
	r.Detached = true
	var out api.Created
	if err := c.JSONNoTimeout(ctx, "POST", "/containers/run", nil, &r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// runLine is any line of a run or exec stream.
type runLine struct {
	ID        string   `json:"id"`
	Warnings  []string `json:"warnings"`
	ExecID    string   `json:"exec_id"`
	Stream    string   `json:"stream"`
	Text      string   `json:"text"`
	ExitCode  *int     `json:"exit_code"`
	OOMKilled bool     `json:"oom_killed"`
	Error     string   `json:"error"`
}

// RunStream is the state of a foreground run or exec read as ndjson.
type RunStream struct {
	// ID is the container's (run) or the exec's (exec) ID, known from the first line on.
	ID string
	// Result is the last line; nil when the stream ended without it.
	Result *api.WaitResult
	// Warnings came with the ID (create's, as run -d prints them).
	Warnings []string
}

// ContainerRun runs POST /containers/run as an ndjson stream: onID is called
// with the container's ID from the first line (so signals can be forwarded), onOutput
// with each chunk ("stdout" or "stderr"; p is valid only during the call), and the result
// is the last line. An in-band error is returned as an error together with what was
// learnt so far.
func (c *Client) ContainerRun(ctx context.Context, req *api.CreateRequest, onID func(id string, warnings []string), onOutput func(stream string, p []byte) error) (*RunStream, error) {
	r := *req
	r.Detached = false
	b, err := marshalBody(&r)
	if err != nil {
		return nil, err
	}
	return c.runStream(ctx, "/containers/run", b, onID, onOutput)
}

// Exec runs POST /containers/exec without an upgrade: an ndjson stream like run's, first
// line {"exec_id"}.
func (c *Client) Exec(ctx context.Context, req *api.ExecRequest, onID func(id string, warnings []string), onOutput func(stream string, p []byte) error) (*RunStream, error) {
	r := *req
	r.Detach = false
	b, err := marshalBody(&r)
	if err != nil {
		return nil, err
	}
	return c.runStream(ctx, "/containers/exec", b, onID, onOutput)
}

func (c *Client) runStream(ctx context.Context, path string, body []byte, onID func(id string, warnings []string), onOutput func(stream string, p []byte) error) (*RunStream, error) {
	rs := &RunStream{}
	onLine := func(line []byte) error {
		var l runLine
		if err := json.Unmarshal(line, &l); err != nil {
			return fmt.Errorf("the daemon sent a line that is not a run event: %q", line)
		}
		switch {
		case l.ExitCode != nil:
			rs.Result = &api.WaitResult{ExitCode: *l.ExitCode, OOMKilled: l.OOMKilled, Error: l.Error}
			return errResult
		case l.Stream != "":
			if onOutput != nil {
				return onOutput(l.Stream, []byte(l.Text))
			}
		case l.ID != "" || l.ExecID != "":
			rs.ID, rs.Warnings = l.ID, l.Warnings
			if l.ExecID != "" {
				rs.ID = l.ExecID
			}
			if onID != nil {
				onID(rs.ID, rs.Warnings)
			}
		}
		return nil
	}
	// Frames: the output arrives as the container wrote it, not as JSON strings.
	resp, err := c.rawAccept(ctx, "POST", path, nil, bytes.NewReader(body), "application/json", api.FramesType)
	if err != nil {
		return rs, err
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == api.FramesType {
		batch := &outputBatch{emit: onOutput}
		err = readFrames(resp.Body, true, batch.flush, func(kind byte, p []byte) error {
			switch kind {
			case api.FrameStdout, api.FrameStderr:
				if onOutput == nil {
					return nil
				}
				stream := "stdout"
				if kind == api.FrameStderr {
					stream = "stderr"
				}
				return batch.add(stream, p)
			}
			if err := batch.flush(); err != nil {
				return err
			}
			switch kind {
			case api.FrameError:
				return &DaemonError{Message: string(p)}
			case api.FrameEvent:
				return onLine(p)
			}
			return nil
		})
		if ferr := batch.flush(); err == nil {
			err = ferr
		}
	} else {
		err = readLines(resp.Body, onLine) // a daemon from before frames
	}
	if err != nil && err != errResult {
		return rs, err
	}
	if rs.Result == nil {
		return rs, errNoResult
	}
	return rs, nil
}

// outputBatch gathers a run's small output frames of one stream into one write: a workload
// writing a few KiB at a time would otherwise cost the client a write for each. What it
// holds goes on when the stream changes, another kind of frame comes, or the reader is
// about to wait for the daemon (flush): nothing is held back while nothing comes.
type outputBatch struct {
	emit   func(stream string, p []byte) error
	stream string
	buf    []byte
}

// outputBatchSize is the most a batch holds; a piece of a quarter of it goes on by itself.
const outputBatchSize = 256 << 10

func (b *outputBatch) add(stream string, p []byte) error {
	if len(b.buf) > 0 && (stream != b.stream || len(b.buf)+len(p) > cap(b.buf)) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if len(b.buf) == 0 && len(p) >= outputBatchSize/4 {
		return b.emit(stream, p) // big enough: no copy
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, outputBatchSize)
	}
	b.stream = stream
	b.buf = append(b.buf, p...)
	return nil
}

func (b *outputBatch) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	err := b.emit(b.stream, b.buf)
	b.buf = b.buf[:0]
	return err
}

// readFrames calls onFrame for each frame of r until EOF; p is valid only during the call.
// With split (a run or exec stream), an output frame's payload is passed on in the pieces
// the read buffer holds, straight from it (no copy of its own); other frames come whole.
// The buffer takes a whole frame of a busy stream (the shim's are up to 1 MiB): one read
// and one write of the output each. idle (when set) runs before every read that may wait.
func readFrames(r io.Reader, split bool, idle func() error, onFrame func(kind byte, p []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [8]byte
	var buf []byte
	for {
		if idle != nil && br.Buffered() < len(hdr) {
			if err := idle(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("the daemon's stream broke off: %w", err)
		}
		n := int(binary.BigEndian.Uint32(hdr[4:]))
		if kind := hdr[0]; split && (kind == api.FrameStdout || kind == api.FrameStderr) {
			for n > 0 {
				if br.Buffered() == 0 {
					if idle != nil {
						if err := idle(); err != nil {
							return err
						}
					}
					if _, err := br.Peek(1); err != nil {
						return fmt.Errorf("the daemon's stream broke off inside a frame: %w", err)
					}
				}
				p, _ := br.Peek(min(n, br.Buffered()))
				if err := onFrame(kind, p); err != nil {
					return err
				}
				br.Discard(len(p))
				n -= len(p)
			}
			continue
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("the daemon's stream broke off inside a frame: %w", err)
		}
		if err := onFrame(hdr[0], buf); err != nil {
			return err
		}
	}
}

// Attached is an upgraded connection to a process's stdio. With a tty the
// bytes are raw both ways; without, reads are frames (use Demux). CloseWrite is stdin's EOF.
type Attached struct {
	// ID is the container's ID (run, attach) or the exec's ID (exec).
	ID   string
	Conn net.Conn
	// Reader buffers what the daemon sent after its 101 answer: read from it, not Conn.
	Reader *bufio.Reader
}

// Read reads the daemon's side of the connection.
func (a *Attached) Read(p []byte) (int, error) { return a.Reader.Read(p) }

// Write sends stdin.
func (a *Attached) Write(p []byte) (int, error) { return a.Conn.Write(p) }

// CloseWrite half-closes the connection: the process sees EOF on its stdin.
func (a *Attached) CloseWrite() error {
	if cw, ok := a.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection.
func (a *Attached) Close() error { return a.Conn.Close() }

// ContainerRunAttach runs POST /containers/run with Upgrade: tcp (run -i/-t); the ID comes
// from the X-Minibox-Container-Id header. rows and cols (0: unknown) size a tty before
// the workload starts.
func (c *Client) ContainerRunAttach(ctx context.Context, req *api.CreateRequest, rows, cols int) (*Attached, error) {
	r := *req
	r.Detached = false
	b, err := marshalBody(&r)
	if err != nil {
		return nil, err
	}
	var q url.Values
	if rows > 0 && cols > 0 {
		q = url.Values{"h": {strconv.Itoa(rows)}, "w": {strconv.Itoa(cols)}}
	}
	conn, br, h, err := c.Upgrade(ctx, "POST", "/containers/run", q, b)
	if err != nil {
		return nil, err
	}
	return &Attached{ID: h.Get("X-Minibox-Container-Id"), Conn: conn, Reader: br}, nil
}

// ContainerStartAttach runs POST /containers/start with Upgrade: tcp (start -a -i): the
// stream is attached before the workload runs; rows and cols (0: unknown) size a tty.
func (c *Client) ContainerStartAttach(ctx context.Context, id string, stdin bool, rows, cols int) (*Attached, error) {
	q := url.Values{"id": {id}, "stdin": {boolStr(stdin)}}
	if rows > 0 && cols > 0 {
		q.Set("h", strconv.Itoa(rows))
		q.Set("w", strconv.Itoa(cols))
	}
	conn, br, h, err := c.Upgrade(ctx, "POST", "/containers/start", q, nil)
	if err != nil {
		return nil, err
	}
	if v := h.Get("X-Minibox-Container-Id"); v != "" {
		id = v
	}
	return &Attached{ID: id, Conn: conn, Reader: br}, nil
}

// AttachOptions selects the streams of POST /containers/attach.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
	// Logs replays the container's log before live output.
	Logs bool
}

// ContainerAttach runs POST /containers/attach with Upgrade: tcp.
func (c *Client) ContainerAttach(ctx context.Context, id string, o AttachOptions) (*Attached, error) {
	q := url.Values{"id": {id}, "stdin": {boolStr(o.Stdin)}, "stdout": {boolStr(o.Stdout)}, "stderr": {boolStr(o.Stderr)}}
	if o.Logs {
		q.Set("logs", "1")
	}
	conn, br, h, err := c.Upgrade(ctx, "POST", "/containers/attach", q, nil)
	if err != nil {
		return nil, err
	}
	if v := h.Get("X-Minibox-Container-Id"); v != "" {
		id = v
	}
	return &Attached{ID: id, Conn: conn, Reader: br}, nil
}

// ExecAttach runs POST /containers/exec with Upgrade: tcp (exec -i/-t); the exec's ID
// comes from the X-Minibox-Exec-Id header.
func (c *Client) ExecAttach(ctx context.Context, req *api.ExecRequest) (*Attached, error) {
	r := *req
	r.Detach = false
	b, err := marshalBody(&r)
	if err != nil {
		return nil, err
	}
	conn, br, h, err := c.Upgrade(ctx, "POST", "/containers/exec", nil, b)
	if err != nil {
		return nil, err
	}
	return &Attached{ID: h.Get("X-Minibox-Exec-Id"), Conn: conn, Reader: br}, nil
}

// ExecDetached runs POST /containers/exec with detach set and returns the exec's ID.
func (c *Client) ExecDetached(ctx context.Context, req *api.ExecRequest) (string, error) {
	r := *req
	r.Detach = true
	var out api.ExecCreated
	if err := c.JSON(ctx, "POST", "/containers/exec", nil, &r, &out); err != nil {
		return "", err
	}
	return out.ExecID, nil
}

// ExecInspect runs GET /containers/exec/inspect; wait blocks until the exec ended.
func (c *Client) ExecInspect(ctx context.Context, execID string, wait bool) (*api.ExecInspect, error) {
	q := url.Values{"exec_id": {execID}}
	if wait {
		q.Set("wait", "1")
	}
	var out api.ExecInspect
	if err := c.JSONNoTimeout(ctx, "GET", "/containers/exec/inspect", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContainerResize runs POST /containers/resize (the tty's rows and columns).
func (c *Client) ContainerResize(ctx context.Context, id string, h, w int) error {
	q := url.Values{"id": {id}, "h": {strconv.Itoa(h)}, "w": {strconv.Itoa(w)}}
	return c.JSON(ctx, "POST", "/containers/resize", q, nil, nil)
}

// ExecResize runs POST /containers/exec/resize.
func (c *Client) ExecResize(ctx context.Context, execID string, h, w int) error {
	q := url.Values{"exec_id": {execID}, "h": {strconv.Itoa(h)}, "w": {strconv.Itoa(w)}}
	return c.JSON(ctx, "POST", "/containers/exec/resize", q, nil, nil)
}

// Frame kinds of a non-tty attach stream.
const (
	FrameStdout      = 1
	FrameStderr      = 2
	FrameEngineError = 3
)

// Demux copies a framed attach stream to stdout and stderr until EOF, and returns the
// message of an engine-error frame ("" when none came). A stream cut inside a frame is an
// error.
func Demux(r io.Reader, stdout, stderr io.Writer) (engineErr string, err error) {
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF || isClosed(err) {
				return engineErr, nil
			}
			return engineErr, fmt.Errorf("the daemon's attach stream broke off: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		if uint32(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return engineErr, fmt.Errorf("the daemon's attach stream broke off inside a frame: %w", err)
		}
		switch hdr[0] {
		case FrameStdout:
			if _, err := stdout.Write(buf); err != nil {
				return engineErr, err
			}
		case FrameStderr:
			if _, err := stderr.Write(buf); err != nil {
				return engineErr, err
			}
		case FrameEngineError:
			engineErr = strings.TrimSpace(string(buf))
		}
	}
}

// isClosed is a read on a connection this process closed itself (detach).
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// ContainerStart runs POST /containers/start.
func (c *Client) ContainerStart(ctx context.Context, id string) error {
	return c.JSONNoTimeout(ctx, "POST", "/containers/start", url.Values{"id": {id}}, nil, nil)
}

// ContainerPrewarm runs POST /containers/prewarm: n containers are about to start.
func (c *Client) ContainerPrewarm(ctx context.Context, n int) error {
	return c.JSON(ctx, "POST", "/containers/prewarm", url.Values{"count": {strconv.Itoa(n)}}, nil, nil)
}

// ContainerStop runs POST /containers/stop; t is the grace in seconds (nil: the
// container's own stop timeout).
func (c *Client) ContainerStop(ctx context.Context, id string, t *int) error {
	return c.JSONNoTimeout(ctx, "POST", "/containers/stop", timeQuery(id, t), nil, nil)
}

// ContainerRestart runs POST /containers/restart.
func (c *Client) ContainerRestart(ctx context.Context, id string, t *int) error {
	return c.JSONNoTimeout(ctx, "POST", "/containers/restart", timeQuery(id, t), nil, nil)
}

func timeQuery(id string, t *int) url.Values {
	q := url.Values{"id": {id}}
	if t != nil {
		q.Set("t", strconv.Itoa(*t))
	}
	return q
}

// ContainerKill runs POST /containers/kill; signal "" is the daemon's default (KILL).
func (c *Client) ContainerKill(ctx context.Context, id, signal string) error {
	q := url.Values{"id": {id}}
	if signal != "" {
		q.Set("signal", signal)
	}
	return c.JSON(ctx, "POST", "/containers/kill", q, nil, nil)
}

// ContainerPause runs POST /containers/pause.
func (c *Client) ContainerPause(ctx context.Context, id string) error {
	return c.JSON(ctx, "POST", "/containers/pause", url.Values{"id": {id}}, nil, nil)
}

// ContainerUnpause runs POST /containers/unpause.
func (c *Client) ContainerUnpause(ctx context.Context, id string) error {
	return c.JSON(ctx, "POST", "/containers/unpause", url.Values{"id": {id}}, nil, nil)
}

// ContainerRename runs POST /containers/rename.
func (c *Client) ContainerRename(ctx context.Context, id, name string) error {
	return c.JSON(ctx, "POST", "/containers/rename", url.Values{"id": {id}, "name": {name}}, nil, nil)
}

// ContainerRemove runs POST /containers/remove; volumes also removes anonymous volumes.
func (c *Client) ContainerRemove(ctx context.Context, id string, force, volumes bool) error {
	q := url.Values{"id": {id}}
	if force {
		q.Set("force", "1")
	}
	if volumes {
		q.Set("volumes", "1")
	}
	return c.JSONNoTimeout(ctx, "POST", "/containers/remove", q, nil, nil)
}

// Wait conditions of POST /containers/wait.
const (
	WaitNotRunning = "not-running"
	WaitNextExit   = "next-exit"
	WaitRemoved    = "removed"
)

// ContainerWait runs POST /containers/wait (no timeout).
func (c *Client) ContainerWait(ctx context.Context, id, condition string) (*api.WaitResult, error) {
	q := url.Values{"id": {id}}
	if condition != "" {
		q.Set("condition", condition)
	}
	var out api.WaitResult
	if err := c.JSONNoTimeout(ctx, "POST", "/containers/wait", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LogsOptions are the parameters of GET /containers/logs.
type LogsOptions struct {
	Follow     bool
	Tail       string // "all" or a number; "" = all
	Since      string // RFC 3339 or Unix time
	Until      string
	Timestamps bool
	// Stdout and Stderr select streams; both false means both.
	Stdout, Stderr bool
	// Details asks for the attributes --log-opt labels=/env= name (api.LogLine.Details).
	Details bool
}

// ContainerLogs runs GET /containers/logs?format=json and calls onLine for each record
// (stdout and stderr kept apart). With Follow it ends after the container exited.
func (c *Client) ContainerLogs(ctx context.Context, id string, o LogsOptions, onLine func(api.LogLine) error) error {
	q := url.Values{"id": {id}, "format": {"json"}}
	if o.Follow {
		q.Set("follow", "1")
	}
	if o.Tail != "" {
		q.Set("tail", o.Tail)
	}
	if o.Since != "" {
		q.Set("since", o.Since)
	}
	if o.Until != "" {
		q.Set("until", o.Until)
	}
	if o.Timestamps {
		q.Set("timestamps", "1")
	}
	if o.Details {
		q.Set("details", "1")
	}
	if o.Stdout || o.Stderr {
		q.Set("stdout", boolStr(o.Stdout))
		q.Set("stderr", boolStr(o.Stderr))
	}
	resp, err := c.rawAccept(ctx, "GET", "/containers/logs", q, nil, "", api.LogFramesType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != api.LogFramesType {
		// A daemon from before frames: JSON lines.
		return readLines(resp.Body, func(line []byte) error {
			var l api.LogLine
			if err := json.Unmarshal(line, &l); err != nil {
				return fmt.Errorf("the daemon sent a line that is not a log record: %q", line)
			}
			return onLine(l)
		})
	}
	details := resp.Header.Get("X-Minibox-Log-Details")
	return readFrames(resp.Body, false, nil, func(kind byte, p []byte) error {
		switch kind {
		case api.FrameStdout, api.FrameStderr:
			if len(p) < 8 {
				return fmt.Errorf("the daemon sent a log frame of %d bytes, too short for its time", len(p))
			}
			l := api.LogLine{Stream: "stdout", Time: time.Unix(0, int64(binary.BigEndian.Uint64(p[:8]))), Text: string(p[8:]), Details: details}
			if kind == api.FrameStderr {
				l.Stream = "stderr"
			}
			return onLine(l)
		case api.FrameError:
			return &DaemonError{Message: string(p)}
		}
		return nil
	})
}

// ContainerStats runs GET /containers/stats for ids (none: all running). Without stream
// onStats is called once; with it once per second until ctx ends or the daemon stops.
func (c *Client) ContainerStats(ctx context.Context, ids []string, stream bool, onStats func([]api.Stats) error) error {
	q := url.Values{}
	if len(ids) > 0 {
		q["id"] = ids
	}
	if stream {
		q.Set("stream", "1")
	} else {
		q.Set("stream", "0")
	}
	return c.Stream(ctx, "GET", "/containers/stats", q, nil, "", func(line []byte) error {
		st, err := decodeStats(line)
		if err != nil {
			return err
		}
		return onStats(st)
	})
}

// decodeStats reads one object (one container, the original's answer) or an array.
func decodeStats(b []byte) ([]api.Stats, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var s api.Stats
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("decode stats: %w", err)
		}
		return []api.Stats{s}, nil
	}
	var out []api.Stats
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode stats: %w", err)
	}
	return out, nil
}

// PathStat is the X-Minibox-Path-Stat header of GET /containers/archive: the path's
// own entry (a symlink is not followed).
type PathStat struct {
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"` // Go's fs.FileMode bits
	Mtime      time.Time `json:"mtime"`
	LinkTarget string    `json:"linkTarget"`
}

func pathStat(h http.Header) (*PathStat, error) {
	v := h.Get("X-Minibox-Path-Stat")
	if v == "" {
		return nil, errors.New("the daemon's archive answer has no X-Minibox-Path-Stat header")
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if b, err = base64.URLEncoding.DecodeString(v); err != nil {
			return nil, fmt.Errorf("X-Minibox-Path-Stat is not base64: %w", err)
		}
	}
	var st PathStat
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("X-Minibox-Path-Stat is not JSON: %w", err)
	}
	return &st, nil
}

// ArchiveStat runs GET /containers/archive?stat=1: the path's stat without its content.
func (c *Client) ArchiveStat(ctx context.Context, id, path string) (*PathStat, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.Raw(ctx, "GET", "/containers/archive", url.Values{"id": {id}, "path": {path}, "stat": {"1"}}, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return pathStat(resp.Header)
}

// ArchiveGet runs GET /containers/archive: a tar whose root entry is the path's basename.
// The caller closes the reader.
func (c *Client) ArchiveGet(ctx context.Context, id, path string) (io.ReadCloser, *PathStat, error) {
	resp, err := c.Raw(ctx, "GET", "/containers/archive", url.Values{"id": {id}, "path": {path}}, nil, "")
	if err != nil {
		return nil, nil, err
	}
	st, err := pathStat(resp.Header)
	if err != nil {
		resp.Body.Close()
		return nil, nil, err
	}
	return resp.Body, st, nil
}

// ArchivePut runs PUT /containers/archive: the tar r is extracted into the directory path.
func (c *Client) ArchivePut(ctx context.Context, id, path string, r io.Reader) error {
	resp, err := c.Raw(ctx, "PUT", "/containers/archive", url.Values{"id": {id}, "path": {path}}, r, "application/x-tar")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// VolumeList runs GET /volumes.
func (c *Client) VolumeList(ctx context.Context) ([]api.Volume, error) {
	var out []api.Volume
	return out, c.JSON(ctx, "GET", "/volumes", nil, nil, &out)
}

// VolumeInspect runs GET /volumes/inspect.
func (c *Client) VolumeInspect(ctx context.Context, name string) (*api.Volume, error) {
	var out api.Volume
	if err := c.JSON(ctx, "GET", "/volumes/inspect", url.Values{"name": {name}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VolumeCreate runs POST /volumes/create; an empty name gets a random one.
func (c *Client) VolumeCreate(ctx context.Context, req *api.VolumeCreateRequest) (*api.Volume, error) {
	var out api.Volume
	if err := c.JSON(ctx, "POST", "/volumes/create", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VolumeRemove runs POST /volumes/remove; force removes a volume containers refer to.
func (c *Client) VolumeRemove(ctx context.Context, name string, force bool) error {
	q := url.Values{"name": {name}}
	if force {
		q.Set("force", "1")
	}
	return c.JSON(ctx, "POST", "/volumes/remove", q, nil, nil)
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
