package engine

import (
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrio"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/logfile"

	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/spec"
)

// running returns the container's live shim, or a 409-kind error.
func (e *Engine) running(ref string, allowPaused bool) (*ctr, *shimclient.Container, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, nil, err
	}
	e.store.RLock()
	shim, r := c.shim, *c.rec
	e.store.RUnlock()
	op := OpExec
	if allowPaused {
		op = OpAttach
	}
	if shim == nil {
		return nil, nil, &StateError{Name: r.Name, Status: r.Status, Op: op}
	}
	if err := allow(&r, op); err != nil {
		return nil, nil, err
	}
	return c, shim, nil
}

// AttachContainer attaches to a running container's stdio: raw bytes for a tty, else
// multiplexed frames.
func (e *Engine) AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error) {
	_, shim, err := e.running(ref, true)
	if err != nil {
		return nil, false, err
	}
	conn, err := shim.AttachConn(ctx, stdin)
	return conn, shim.Tty(), err
}

// ResizeContainer sets a running container's terminal size.
func (e *Engine) ResizeContainer(ref string, h, w uint16) error {
	_, shim, err := e.running(ref, true)
	if err != nil {
		return err
	}
	return shim.Resize(h, w)
}

// RunStarted is a container created and started by Run with its stdio attached.
type RunStarted struct {
	ID   string
	Tty  bool
	Conn *shimclient.Conn // nil when detached
	// Failed is set when the workload could not run (exit 126/127); Conn is nil then.
	Failed *StartFailed
}

// RunAttach says whether and how RunContainer attaches its caller to the container's stdio.
type RunAttach struct {
	Output bool // false: detached
	Stdin  bool
	// Held: the shim holds the output until the caller hands it the client's connection
	// (RunStarted.Conn.HandOff, when Conn.Held) or reads the stream itself.
	Held bool
}

// RunContainer creates and starts a container; unless detached it attaches first, so no
// output is lost.
// A tty gets the client's size (height, width; 0 = unknown) before the workload starts.
func (e *Engine) RunContainer(ctx context.Context, req ctrconfig.Config, att RunAttach, height, width uint16) (*RunStarted, []string, error) {
	write := recordByCaller
	if att.Output && req.AutoRemove {
		write = recordEphemeral
	}
	id, warnings, err := e.createContainer(ctx, req, write)
	if err != nil {
		return nil, nil, err
	}
	// The record reaches the disk while the container starts (the write, an fsync, would
	// otherwise come first): the answer waits for both.
	saved := make(chan error, 1)
	if write == recordByCaller {
		go func() { saved <- e.store.Save() }()
	} else {
		saved <- nil
	}
	run := &RunStarted{ID: id}
	var before BeforeResume
	if att.Output {
		before = attachBefore(ctx, run, att.Stdin, att.Held, height, width)
	}
	_, err = e.StartContainer(ctx, id, before)
	serr := <-saved
	if err == nil && serr != nil {
		// Running without a record on disk: a later daemon would not know it.
		if run.Conn != nil {
			run.Conn.Close()
		}
		if c, lerr := e.lookup(id); lerr == nil {
			e.removeContainer(context.Background(), c, true, true)
		}
		return nil, warnings, fmt.Errorf("container %s: write its record: %w", req.Name, serr)
	}
	if err != nil {
		c, lerr := e.lookup(id)
		if lerr == nil && write == recordByCaller && !c.rec.Conf.AutoRemove {
			// Kept without having reached its own config.json: prune must see its layers.
			if _, serr := os.Stat(filepath.Join(e.ctrDir(id), spec.FileName)); errors.Is(serr, fs.ErrNotExist) {
				snap := e.snapshot(c)
				e.writeCreatedSpec(&snap)
			}
		}
		if run.failed(err) {
			return run, warnings, nil
		}
		// A container that never ran is not kept when it was meant to be removed.
		if lerr == nil && c.rec.Conf.AutoRemove {
			e.removeContainer(context.Background(), c, true, true)
		}
		if serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, warnings, err
	}
	return run, warnings, nil
}

// failed takes a failed start: the attachment goes, and a workload that could not run
// (126/127) is recorded in run.Failed (true) rather than being an error of the request.
func (run *RunStarted) failed(err error) bool {
	if run.Conn != nil {
		run.Conn.Close()
		run.Conn = nil
	}
	var sf *StartFailed
	if errors.As(err, &sf) {
		run.Failed = sf
		return true
	}
	return false
}

// attachBefore attaches run to the container's stdio (a tty sized first) before its
// workload starts.
func attachBefore(ctx context.Context, run *RunStarted, stdin, held bool, height, width uint16) BeforeResume {
	return func(shim *shimclient.Container) error {
		if shim.Tty() && height > 0 && width > 0 {
			if err := shim.Resize(height, width); err != nil {
				return err
			}
		}
		attach := shim.AttachConn
		if held {
			attach = shim.AttachHeld
		}
		conn, err := attach(ctx, stdin)
		run.Conn, run.Tty = conn, shim.Tty()
		return err
	}
}

// StartAttached starts a container with its stdio attached before the workload runs
// (start -a -i: nothing typed or printed is lost between the start and the attach). One
// that is already running is attached to.
func (e *Engine) StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*RunStarted, error) {
	run := &RunStarted{}
	id, err := e.StartContainer(ctx, ref, attachBefore(ctx, run, stdin, false, height, width))
	run.ID = id
	if err != nil {
		if run.failed(err) {
			return run, nil
		}
		return nil, err
	}
	if run.Conn == nil { // it was running already
		if run.Conn, run.Tty, err = e.AttachContainer(ctx, id, stdin); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// execEntry is an exec process, kept for inspect and resize.
type execEntry struct {
	id        string
	ctrID     string
	proc      *shimclient.ExecProcess
	done      chan struct{}
	exitCode  int
	running   bool
	mu        sync.Mutex
	startedAt time.Time
}

// ExecStarted is a started exec process with its raw stream (nil when detached).
type ExecStarted struct {
	ID     string
	Tty    bool
	Conn   *shimclient.Conn
	Failed *StartFailed
}

// ExecOptions say what Exec runs in a container, and how.
type ExecOptions struct {
	ID            string // the container
	Command       []string
	Tty, Stdin    bool
	Env           []string // added to the container's
	User          string
	WorkingDir    string
	Detach        bool   // nobody reads the output
	Height, Width uint16 // a tty's size; 0 = unknown
}

// ExecState is an exec process's state: its exit code once it ended.
type ExecState struct {
	Running  bool
	ExitCode int
	PID      int
}

// Exec starts a process in a running, unpaused container.
func (e *Engine) Exec(ctx context.Context, req ExecOptions) (*ExecStarted, error) {
	if len(req.Command) == 0 {
		return nil, errdefs.Invalid("exec needs a command")
	}
	c, shim, err := e.running(req.ID, false)
	if err != nil {
		return nil, err
	}
	r := e.snapshot(c)
	env := req.Env
	if s, err := e.buildSpec(&r, nil); err == nil {
		env = spec.MergeEnv(s.Process.Env, req.Env)
		if req.Tty && !runspec.HasEnv(env, "TERM") {
			env = append(env, "TERM=xterm")
		}
	}
	spec := shimclient.ExecSpec{Args: req.Command, Env: env, Cwd: req.WorkingDir, User: req.User,
		Tty: req.Tty, Stdin: req.Stdin && !req.Detach, Height: req.Height, Width: req.Width}
	ent := &execEntry{id: newID(), ctrID: r.ID, done: make(chan struct{}), running: true, startedAt: time.Now()}
	e.execs.Store(ent.id, ent)
	time.AfterFunc(time.Hour, func() { <-ent.done; e.execs.Delete(ent.id) })
	proc, conn, err := shim.ExecConn(context.Background(), spec)
	if err != nil {
		var se *shimclient.StartError
		if errors.As(err, &se) && se.Code != 0 {
			ent.finish(se.Code)
			return &ExecStarted{ID: ent.id, Tty: req.Tty, Failed: &StartFailed{Code: se.Code, Msg: se.Msg}}, nil
		}
		ent.finish(126)
		e.execs.Delete(ent.id)
		return nil, err
	}
	ent.proc = proc
	go func() {
		ex, err := proc.Wait(context.Background())
		code := 126
		if err == nil && ex != nil {
			code = ex.ExitCode
		}
		ent.finish(code)
	}()
	if req.Detach { // nobody reads its output: drain it so the process never blocks
		go func(c *shimclient.Conn) { io.Copy(io.Discard, c); c.Close() }(conn)
		conn = nil
	}
	return &ExecStarted{ID: ent.id, Tty: req.Tty, Conn: conn}, nil
}

func (x *execEntry) finish(code int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.running {
		return
	}
	x.running, x.exitCode = false, code
	close(x.done)
}

func (e *Engine) execEntry(id string) (*execEntry, error) {
	if v, ok := e.execs.Load(id); ok {
		return v.(*execEntry), nil
	}
	return nil, errdefs.NotFound(fmt.Sprintf("no such exec instance: %s", id))
}

// InspectExec reports an exec process; with wait it returns once the process has ended.
func (e *Engine) InspectExec(ctx context.Context, id string, wait bool) (*ExecState, error) {
	x, err := e.execEntry(id)
	if err != nil {
		return nil, err
	}
	if wait {
		select {
		case <-x.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	out := &ExecState{Running: x.running, ExitCode: x.exitCode}
	if x.proc != nil {
		out.PID = x.proc.PID()
	}
	return out, nil
}

// WaitExec waits for an exec process's end.
func (e *Engine) WaitExec(ctx context.Context, id string) (int, error) {
	in, err := e.InspectExec(ctx, id, true)
	if err != nil {
		return 0, err
	}
	return in.ExitCode, nil
}

// ResizeExec sets an exec's terminal size.
func (e *Engine) ResizeExec(id string, h, w uint16) error {
	x, err := e.execEntry(id)
	if err != nil {
		return err
	}
	if x.proc == nil {
		return errdefs.Conflict("exec " + id + " is not running")
	}
	return x.proc.Resize(h, w)
}

// LogsOptions select what GET /containers/logs returns.
type LogsOptions struct {
	Follow         bool
	Tail           int // 0: all
	Since, Until   time.Time
	Stdout, Stderr bool
	// Details adds to each record the labels and variables --log-opt labels=/env= name.
	Details bool
}

// LogLine is one record of a container's log.
type LogLine struct {
	Time   time.Time
	Stream string // stdout or stderr
	Text   string
	// Details (with LogsOptions.Details): the attributes --log-opt labels=/env= name, as
	// "k=v,k2=v2" (Docker's form).
	Details string
}

// Logs emits the container's log records; with Follow it ends once the container exited.
// A container whose log driver is none has no log: that is an error, not an empty one.
func (e *Engine) Logs(ref string, opts LogsOptions, done <-chan struct{}, emit func(LogLine) error) error {
	c, err := e.lookup(ref)
	if err != nil {
		return err
	}
	r := e.snapshot(c)
	if r.Conf.LogDriver == logfile.DriverNone {
		return errdefs.Invalid("container " + r.Name + " keeps no log: its log driver is none (create it with --log-driver local or json-file to keep its output)")
	}
	dir := e.ctrDir(r.ID)
	follow := opts.Follow
	e.store.RLock()
	live := c.shim != nil
	e.store.RUnlock()
	if !live {
		follow = false // nothing more will come
	}
	details := ""
	if opts.Details {
		details = e.logDetailsOf(&r)
	}
	return shimclient.ReadLogs(filepath.Join(dir, "container.log"), shimclient.LogOptions{
		Follow: follow, Tail: opts.Tail, Since: opts.Since, Until: opts.Until, Stdout: opts.Stdout, Stderr: opts.Stderr,
	}, done, func(l shimclient.LogRecord) error {
		return emit(LogLine{Time: l.Time, Stream: l.Stream, Text: l.Text, Details: details})
	})
}

// LogDetails is what `logs --details` shows before each of the container's lines.
func (e *Engine) LogDetails(ref string) (string, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return "", err
	}
	r := e.snapshot(c)
	return e.logDetailsOf(&r), nil
}

func (e *Engine) logDetailsOf(r *Record) string {
	var env []string
	if s, _ := e.buildSpec(r, nil); s != nil {
		env = s.Process.Env
	}
	return ctrio.LogDetails(&r.Conf, env)
}

// parseUnixTime reads seconds with an optional fraction ("1733500000.123456789", what
// Docker's clients send) exactly: a float64 keeps only about a quarter of a microsecond
// of today's times, enough to move an until past an event stamped just before it.
func parseUnixTime(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	if secs == "" || len(frac) > 20 || strings.Trim(secs, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	frac = (frac + "000000000")[:9] // nanoseconds: padded, or cut past the ninth digit
	nsec, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(sec, nsec), true
}

// ParseTime reads RFC 3339, Unix time (with fraction) or a duration ago ("10m").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, ok := parseUnixTime(s); ok {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, errdefs.Invalid(fmt.Sprintf("time %q: expected RFC 3339, Unix time, or a duration such as 10m", s))
}
