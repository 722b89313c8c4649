package minibox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

// imageAndCommand splits run's positionals: the image, then the command. The positional
// takes everything after the image verbatim (kong's passthrough), so `run img ls -l` and
// `run img sh -c '...'` keep their flags; a "--" before or right after the image is dropped.
func imageAndCommand(args []string) (string, []string, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "" {
		return "", nil, usageError("an image is required; usage: minibox run [flags] <image> [command...]")
	}
	image, cmd := args[0], args[1:]
	if strings.HasPrefix(image, "-") {
		return "", nil, usageError("unknown flag %s; run \"minibox run --help\" for the flags", image)
	}
	if len(cmd) > 0 && cmd[0] == "--" {
		cmd = cmd[1:]
	}
	if len(cmd) == 0 {
		cmd = nil
	}
	return image, cmd, nil
}

// RunCmd is `run [flags] <image> [command...]`.
type RunCmd struct {
	RunFlags `embed:""`
	Args     []string `arg:"" name:"image" passthrough:"partial" help:"The image, then the command and its arguments (everything after the image)."`
}

func (c *RunCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	req, err := c.requestFor(c.Args, env, out)
	if err != nil {
		return err
	}
	return runContainer(ctx, api, out, req, c.RunFlags)
}

// requestFor turns run's and create's flags and "<image> [command...]" into a request.
func (f *RunFlags) requestFor(args []string, env Env, out *Output) (*api.CreateRequest, error) {
	image, cmd, err := imageAndCommand(args)
	if err != nil {
		return nil, err
	}
	return f.request(env, image, cmd, out.Warn)
}

// runContainer runs a container detached, attached over an upgrade (-i/-t), or in the
// foreground over the ndjson stream, and returns the CLI's exit.
func runContainer(ctx context.Context, api *client.Client, out *Output, req *api.CreateRequest, f RunFlags) error {
	cl, err := f.clientSide()
	if err != nil {
		return err
	}
	cid, err := openCIDFile(f.CIDFile)
	if err != nil {
		return err
	}
	defer cid.abandon()
	switch {
	case f.Detach:
		created, err := api.ContainerRunDetached(ctx, req)
		if err != nil {
			return runFailed(err)
		}
		cid.write(created.ID)
		printWarnings(out, created.Warnings)
		fmt.Fprintln(out.Stdout, created.ID)
		return nil
	case f.Interactive || f.TTY:
		return runAttached(ctx, api, out, req, cl, cid)
	}
	return runForeground(ctx, api, out, req, cl, cid)
}

// runOptions are run's client-side flags, checked.
type runOptions struct {
	streams    map[string]bool // -a: the streams printed; nil = all
	sigProxy   bool
	detachKeys []byte
}

func (f *RunFlags) clientSide() (runOptions, error) {
	o := runOptions{sigProxy: f.SigProxy, detachKeys: defaultDetachKeys}
	for _, a := range f.Attach {
		switch s := strings.ToLower(a); s {
		case "stdout", "stderr", "stdin":
			if o.streams == nil {
				o.streams = map[string]bool{}
			}
			o.streams[s] = true
		default:
			return o, usageError("-a %s: expected STDIN, STDOUT or STDERR", a)
		}
	}
	if o.streams != nil && f.Detach {
		return o, usageError("-a and -d: a detached container has no stream to attach; drop one of them")
	}
	if f.DetachKeys != "" {
		k, err := parseDetachKeys(f.DetachKeys)
		if err != nil {
			return o, usageError("--detach-keys %s: %v", f.DetachKeys, err)
		}
		o.detachKeys = k
	}
	return o, nil
}

// cidFile is --cidfile: made (it must not exist, as Docker's) before the container is,
// written once its ID is known, removed if none came.
type cidFile struct {
	f       *os.File
	written bool
}

func openCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, usageError("--cidfile %s: the file exists; remove it or name another", path)
		}
		return nil, usageError("--cidfile %s: %v", path, unwrapPath(err))
	}
	return &cidFile{f: f}, nil
}

func (c *cidFile) write(id string) {
	if c.f == nil || c.written || id == "" {
		return
	}
	c.written = true
	c.f.WriteString(id)
	c.f.Close()
}

func (c *cidFile) abandon() {
	if c.f != nil && !c.written {
		c.f.Close()
		os.Remove(c.f.Name())
	}
}

// runFailed is run's exit when the daemon refused before the process ran: 125,
// or 126/127 when the daemon says the program could not run.
func runFailed(err error) error {
	var ue *client.UnreachableError
	if errors.As(err, &ue) {
		return &errdefs.ExitError{Code: 125, Err: err}
	}
	var de *client.DaemonError
	if errors.As(err, &de) && strings.HasPrefix(de.Message, "exec: ") {
		return &errdefs.ExitError{Code: notRunnableCode(de.Message), Err: err}
	}
	return &errdefs.ExitError{Code: 125, Err: err}
}

// printWarnings prints the daemon's warnings as Docker does ("WARNING: ..." on stderr).
func printWarnings(out *Output, ws []string) {
	for _, w := range ws {
		fmt.Fprintf(out.Stderr, "WARNING: %s\n", w)
	}
}

// runForeground reads POST /containers/run's ndjson stream: output to the matching stream,
// signals forwarded once the ID is known, the exit code from the last line.
func runForeground(ctx context.Context, api *client.Client, out *Output, req *api.CreateRequest, o runOptions, cid *cidFile) error {
	var id string
	stopFwd := func() {}
	rs, err := api.ContainerRun(ctx, req, func(got string, warnings []string) {
		id = got
		cid.write(got)
		printWarnings(out, warnings)
		if o.sigProxy {
			stopFwd = forwardTo(func(sig string) { api.ContainerKill(context.WithoutCancel(ctx), got, sig) })
		}
	}, func(stream string, p []byte) error {
		if o.streams != nil && !o.streams[stream] {
			return nil
		}
		return writeStream(out, stream, p)
	})
	if err == nil {
		// Not waited for: signal.Stop is a round trip with the runtime's signal thread per
		// signal (0.1 ms in all), and we exit now.
		go stopFwd()
		if rs.Result.Error != "" {
			fmt.Fprintf(out.Stderr, "[error] %s\n", rs.Result.Error)
		}
		return exitWith(rs.Result.ExitCode)
	}
	stopFwd()
	if id == "" {
		return runFailed(err)
	}
	// The container exists: its exit code is the daemon's (the exec: errors carry 126/127,
	// and a stream cut by a daemon restart still has a real exit behind it).
	fmt.Fprintf(out.Stderr, "[error] %v\n", err)
	if wr, werr := api.ContainerWait(ctx, id, client.WaitNextExit); werr == nil {
		if wr.ExitCode == 0 {
			return &errdefs.ExitError{Code: 125, Silent: true}
		}
		return exitWith(wr.ExitCode)
	}
	var de *client.DaemonError
	if errors.As(err, &de) && strings.HasPrefix(de.Message, "exec: ") {
		return &errdefs.ExitError{Code: notRunnableCode(de.Message), Silent: true}
	}
	return &errdefs.ExitError{Code: 125, Silent: true}
}

func writeStream(out *Output, stream string, p []byte) error {
	w := out.Stdout
	if stream == "stderr" {
		w = out.Stderr
	}
	_, err := w.Write(p)
	return err
}

// runAttached is run -i/-t: the connection is upgraded, then the exit code is the wait's.
func runAttached(ctx context.Context, api *client.Client, out *Output, req *api.CreateRequest, o runOptions, cid *cidFile) error {
	rows, cols := 0, 0
	if req.Tty {
		rows, cols = termSize()
	}
	att, err := api.ContainerRunAttach(ctx, req, rows, cols)
	if err != nil {
		return runFailed(err)
	}
	id := att.ID
	cid.write(id)
	s := &session{att: att, out: out, tty: req.Tty, stdin: req.Stdin, detachKeys: o.detachKeys,
		ended: containerEnded(api, id)}
	if req.Tty {
		s.resize = func(h, w int) error { return api.ContainerResize(ctx, id, h, w) }
	} else if o.sigProxy {
		s.signal = func(sig string) error { return api.ContainerKill(context.WithoutCancel(ctx), id, sig) }
	}
	return finishSession(ctx, api, out, s, id)
}

// finishSession runs an attached session of container id and exits with its code.
func finishSession(ctx context.Context, api *client.Client, out *Output, s *session, id string) error {
	res, err := s.run(ctx)
	if err != nil {
		fmt.Fprintf(out.Stderr, "[error] %v\n", err)
	}
	if res.detached {
		fmt.Fprintln(out.Stderr)
		out.Info("Detached from %s; it keeps running (minibox attach %s)", short(id), short(id))
		return nil
	}
	if res.engineErr != "" {
		fmt.Fprintf(out.Stderr, "[error] %s\n", res.engineErr)
	}
	if id == "" {
		return &errdefs.ExitError{Code: 125, Silent: true}
	}
	wr, werr := api.ContainerWait(ctx, id, client.WaitNextExit)
	if werr != nil {
		if res.engineErr != "" && strings.HasPrefix(res.engineErr, "exec: ") {
			return &errdefs.ExitError{Code: notRunnableCode(res.engineErr), Silent: true}
		}
		return &errdefs.ExitError{Code: 125, Err: werr}
	}
	if wr.Error != "" && wr.Error != res.engineErr {
		fmt.Fprintf(out.Stderr, "[error] %s\n", wr.Error)
	}
	if wr.ExitCode == 0 && res.engineErr != "" {
		return &errdefs.ExitError{Code: 125, Silent: true}
	}
	return exitWith(wr.ExitCode)
}

// containerEnded waits until the container is not running.
func containerEnded(cl *client.Client, id string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := cl.ContainerWait(ctx, id, client.WaitNotRunning)
		return err
	}
}

// short is an ID's 12-character form (names pass through).
func short(id string) string {
	if len(id) == 64 {
		return id[:12]
	}
	return id
}

// CreateCmd is `create [flags] <image> [command...]`.
type CreateCmd struct {
	RunFlags `embed:""`
	Args     []string `arg:"" name:"image" passthrough:"partial" help:"The image, then the command and its arguments."`
}

func (c *CreateCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	req, err := c.requestFor(c.Args, env, out)
	if err != nil {
		return err
	}
	req.Detached = false
	if _, err := c.clientSide(); err != nil {
		return err
	}
	cid, err := openCIDFile(c.CIDFile)
	if err != nil {
		return err
	}
	defer cid.abandon()
	created, err := api.ContainerCreate(ctx, req)
	if err != nil {
		return err
	}
	cid.write(created.ID)
	printWarnings(out, created.Warnings)
	fmt.Fprintln(out.Stdout, created.ID)
	return nil
}

// ---- db run / db shell --------------------------------------------------------------

// DBGroup is `db run` and `db shell` (`db console`).
type DBGroup struct {
	Run   DBRunCmd   `cmd:"" help:"Run a database container (see its help for what it relaxes)."`
	Shell DBShellCmd `cmd:"" aliases:"console" help:"Open the database's client in a running db container."`
}

// DBRunCmd is `db run`: run plus exactly the relaxations a database needs.
type DBRunCmd struct {
	RunFlags `embed:""`
	Data     string   `default:"/var/lib/minibox-data" help:"Path of the data volume <name>-data inside the container."`
	Cmd      string   `name:"cmd" placeholder:"SH" help:"Shell command to run (/bin/sh -c) when no command is given."`
	Args     []string `arg:"" name:"image" passthrough:"partial" help:"The image, then the command and its arguments."`
}

// Help lists every relaxation db run makes, so that none is a surprise.
func (DBRunCmd) Help() string {
	return `db run is run with exactly these differences, and nothing else:
  - detached unless -i or -t is given
  - a named volume <name>-data mounted at --data (/var/lib/minibox-data)
  - /dev/shm of 256 MiB
  - oom_score_adj -900
  - I/O weight 800 (cgroup v2 scale)
  - capabilities SYS_NICE (with the mbind, move_pages and migrate_pages syscalls, as
    Docker's profile opens them), IPC_LOCK and SYS_RESOURCE added
  - RLIMIT_MEMLOCK unlimited
--privileged gives all capabilities (the original's behaviour) only when asked.
--name defaults to the image with / : . @ turned into - (postgres:15 -> postgres-15).`
}

// dbName is db run's default name: the image with / : . @ replaced by -.
func dbName(image string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ':', '.', '@':
			return '-'
		}
		return r
	}, image)
}

func (c *DBRunCmd) Run(ctx context.Context, api *client.Client, out *Output, env Env) error {
	image, cmd, err := imageAndCommand(c.Args)
	if err != nil {
		return err
	}
	if cmd == nil && c.Cmd != "" {
		cmd = []string{"/bin/sh", "-c", c.Cmd}
	}
	if !strings.HasPrefix(c.Data, "/") {
		return usageError("--data %s: the data path must be absolute", c.Data)
	}
	req, err := c.request(env, image, cmd, out.Warn)
	if err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = dbName(image)
	}
	req.DBMode = true
	req.Data = c.Data
	f := c.RunFlags
	f.Detach = !(f.Interactive || f.TTY)
	out.Info("Launching database container image=%s volume=%s-data -> %s", image, req.Name, c.Data)
	return runContainer(ctx, api, out, req, f)
}

// DBShellCmd is `db shell <ctr>`: an interactive exec of the database's client.
type DBShellCmd struct {
	Container string `arg:"" name:"container" help:"The db container (name, ID or prefix)."`
}

// dbClient picks the client by the image's name.
func dbClient(image string, env []string) []string {
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexAny(name, ":@"); i >= 0 {
		name = name[:i]
	}
	get := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	switch {
	case strings.Contains(name, "redis"), strings.Contains(name, "valkey"):
		return []string{"redis-cli"}
	case strings.Contains(name, "postgres"):
		return []string{"psql", "-U", "postgres"}
	case strings.Contains(name, "mongo"):
		cmd := []string{"mongosh"}
		if u := get("MONGO_INITDB_ROOT_USERNAME"); u != "" {
			cmd = append(cmd, "-u", u, "-p", get("MONGO_INITDB_ROOT_PASSWORD"), "--authenticationDatabase", "admin")
		}
		return cmd
	case strings.Contains(name, "mysql"), strings.Contains(name, "mariadb"):
		return []string{"mysql", "-uroot"}
	}
	return []string{"/bin/sh"}
}

func (c *DBShellCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	ins, err := api.ContainerInspect(ctx, c.Container)
	if err != nil {
		return err
	}
	image := ins.Config.Image
	e := &ExecCmd{Interactive: true, TTY: termFd() >= 0, Args: append([]string{c.Container}, dbClient(image, ins.Config.Env)...)}
	return e.Run(ctx, api, out, nil)
}

// ---- exec -------------------------------------------------------------------------

// ExecCmd is `exec [flags] <ctr> [command...]` (default /bin/sh, the original's).
type ExecCmd struct {
	Detach      bool     `short:"d" help:"Run in the background."`
	Interactive bool     `short:"i" help:"Keep stdin open and attach it."`
	TTY         bool     `short:"t" name:"tty" help:"Allocate a terminal."`
	Env         []string `short:"e" sep:"none" placeholder:"KEY[=VAL]" help:"Set an environment variable."`
	EnvFile     []string `name:"env-file" sep:"none" placeholder:"FILE" help:"Read KEY=VAL lines from a file."`
	User        string   `short:"u" placeholder:"USER[:GROUP]" help:"User (default: the container's)."`
	Workdir     string   `short:"w" help:"Working directory (default: the container's)."`
	Privileged  bool     `help:"Give the command every capability (the container's seccomp filter still holds)."`
	Args        []string `arg:"" name:"container" passthrough:"partial" help:"The container, then the command and its arguments (default /bin/sh)."`
}

func (c *ExecCmd) Run(ctx context.Context, cl *client.Client, out *Output, env Env) error {
	args := c.Args
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError("a container is required; usage: minibox exec [flags] <container> [command...]")
	}
	ctr, cmd := args[0], args[1:]
	if len(cmd) > 0 && cmd[0] == "--" {
		cmd = cmd[1:]
	}
	if len(cmd) == 0 {
		cmd = []string{"/bin/sh"}
	}
	req := &api.ExecRequest{ID: ctr, Command: cmd, Tty: c.TTY, Stdin: c.Interactive, User: c.User, WorkingDir: c.Workdir, Privileged: c.Privileged}
	if env == nil {
		env = Env(func(string) string { return "" })
	}
	for _, f := range c.EnvFile {
		lines, err := readEnvFile(f, env)
		if err != nil {
			return err
		}
		req.Env = append(req.Env, lines...)
	}
	req.Env = append(req.Env, envList(c.Env, env)...)
	switch {
	case c.Detach:
		_, err := cl.ExecDetached(ctx, req)
		return err
	case c.Interactive || c.TTY:
		if c.TTY {
			if h, w := termSize(); h > 0 {
				req.Height, req.Width = uint16(h), uint16(w)
			}
		}
		att, err := cl.ExecAttach(ctx, req)
		if err != nil {
			return runFailed(err)
		}
		execID := att.ID
		s := &session{att: att, out: out, tty: c.TTY, stdin: c.Interactive, detachKeys: defaultDetachKeys,
			ended: func(ctx context.Context) error { _, err := cl.ExecInspect(ctx, execID, true); return err }}
		if c.TTY {
			s.resize = func(h, w int) error { return cl.ExecResize(ctx, execID, h, w) }
		}
		res, err := s.run(ctx)
		if err != nil {
			fmt.Fprintf(out.Stderr, "[error] %v\n", err)
		}
		if res.detached {
			return nil
		}
		if res.engineErr != "" {
			fmt.Fprintf(out.Stderr, "[error] %s\n", res.engineErr)
		}
		return execExit(ctx, cl, execID, res.engineErr)
	}
	rs, err := cl.Exec(ctx, req, nil, func(stream string, p []byte) error { return writeStream(out, stream, p) })
	if err == nil {
		if rs.Result.Error != "" {
			fmt.Fprintf(out.Stderr, "[error] %s\n", rs.Result.Error)
		}
		return exitWith(rs.Result.ExitCode)
	}
	if rs == nil || rs.ID == "" {
		return runFailed(err)
	}
	fmt.Fprintf(out.Stderr, "[error] %v\n", err)
	var de *client.DaemonError
	msg := ""
	if errors.As(err, &de) {
		msg = de.Message
	}
	return execExit(ctx, cl, rs.ID, msg)
}

// execExit reads an exec's exit code once it ended.
func execExit(ctx context.Context, api *client.Client, execID, engineErr string) error {
	if execID != "" {
		ins, err := api.ExecInspect(ctx, execID, true)
		if err == nil {
			if ins.ExitCode == 0 && engineErr != "" {
				return &errdefs.ExitError{Code: 125, Silent: true}
			}
			return exitWith(ins.ExitCode)
		}
		if engineErr == "" {
			return &errdefs.ExitError{Code: 125, Err: fmt.Errorf("read the exit code of exec %s: %w", short(execID), err)}
		}
	}
	if strings.HasPrefix(engineErr, "exec: ") {
		return &errdefs.ExitError{Code: notRunnableCode(engineErr), Silent: true}
	}
	return &errdefs.ExitError{Code: 125, Silent: true}
}

// ---- attach / start -a --------------------------------------------------------------

// AttachCmd is `attach <ctr>`.
type AttachCmd struct {
	Container  string `arg:"" name:"container" help:"The container."`
	NoStdin    bool   `name:"no-stdin" help:"Do not attach stdin."`
	DetachKeys string `name:"detach-keys" default:"ctrl-p,ctrl-q" help:"Keys that detach (\"\" = none)."`
}

func (c *AttachCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	keys, err := parseDetachKeys(c.DetachKeys)
	if err != nil {
		return err
	}
	ins, err := api.ContainerInspect(ctx, c.Container)
	if err != nil {
		return err
	}
	stdin := !c.NoStdin && ins.Config.OpenStdin
	att, err := api.ContainerAttach(ctx, ins.ID, client.AttachOptions{Stdin: stdin, Stdout: true, Stderr: true})
	if err != nil {
		return err
	}
	return finishSession(ctx, api, out, attachedSession(ctx, api, out, att, ins.ID, ins.Config.Tty, stdin, keys), ins.ID)
}

func attachedSession(ctx context.Context, api *client.Client, out *Output, att *client.Attached, id string, tty, stdin bool, keys []byte) *session {
	s := &session{att: att, out: out, tty: tty, stdin: stdin, detachKeys: keys, ended: containerEnded(api, id)}
	if tty {
		s.resize = func(h, w int) error { return api.ContainerResize(ctx, id, h, w) }
	} else {
		s.signal = func(sig string) error { return api.ContainerKill(context.WithoutCancel(ctx), id, sig) }
	}
	return s
}

// startAttached is `start -a [-i] <ctr>`. A running container is attached to. Otherwise,
// without stdin, it is started and its log followed from this run's start (the log
// misses nothing, while an attach after the start could); with stdin, it is started
// and attached (output written before the attach is in `logs`).
func startAttached(ctx context.Context, cl *client.Client, out *Output, ref string, stdin bool) error {
	ins, err := cl.ContainerInspect(ctx, ref)
	if err != nil {
		return err
	}
	id := ins.ID
	stdin = stdin && ins.Config.OpenStdin
	opts := client.AttachOptions{Stdin: stdin, Stdout: true, Stderr: true}
	if !ins.State.Running && stdin {
		// Attached before the workload runs: nothing typed or printed is lost in between.
		rows, cols := 0, 0
		if ins.Config.Tty {
			rows, cols = termSize()
		}
		att, err := cl.ContainerStartAttach(ctx, id, true, rows, cols)
		if err != nil {
			return err
		}
		return finishSession(ctx, cl, out, attachedSession(ctx, cl, out, att, id, ins.Config.Tty, stdin, defaultDetachKeys), id)
	}
	if ins.State.Running {
		att, err := cl.ContainerAttach(ctx, id, opts)
		if err == nil {
			return finishSession(ctx, cl, out, attachedSession(ctx, cl, out, att, id, ins.Config.Tty, stdin, defaultDetachKeys), id)
		}
		if !errors.Is(err, errdefs.ErrConflict) {
			return err
		}
		// It already exited: its output is in the log.
	} else if err := cl.ContainerStart(ctx, id); err != nil {
		return err
	}
	since := ""
	if now, err := cl.ContainerInspect(ctx, id); err == nil && now.State.StartedAt != "" {
		since = now.State.StartedAt
	}
	stop := forwardTo(func(sig string) { cl.ContainerKill(context.WithoutCancel(ctx), id, sig) })
	w := newLogWriter(out, false)
	lerr := followLogs(ctx, cl, id, client.LogsOptions{Follow: true, Since: since}, w.write)
	stop()
	if lerr != nil && !errors.Is(lerr, errdefs.ErrNotFound) {
		fmt.Fprintf(out.Stderr, "[error] %v\n", lerr)
	}
	wr, err := cl.ContainerWait(ctx, id, client.WaitNextExit)
	if err != nil {
		return &errdefs.ExitError{Code: 125, Err: err}
	}
	if wr.Error != "" {
		fmt.Fprintf(out.Stderr, "[error] %s\n", wr.Error)
	}
	return exitWith(wr.ExitCode)
}
