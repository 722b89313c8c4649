package minibox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/compose"
	"github.com/minibox/minibox/pkg/compose/loader"
	"github.com/minibox/minibox/pkg/errdefs"
)

// ComposeCmd is `compose`: a Compose project's services run through the same API as
// every other command.
type ComposeCmd struct {
	File             []string `short:"f" sep:"none" placeholder:"FILE" help:"Compose file (repeatable, merged in order; default compose.yaml and its override)."`
	ProjectName      string   `short:"p" name:"project-name" placeholder:"NAME" help:"Project name (default: the project directory's name)."`
	EnvFile          []string `name:"env-file" sep:"none" placeholder:"FILE" help:"Variables for interpolation (default .env)."`
	Profile          []string `name:"profile" sep:"none" placeholder:"NAME" help:"Enable a profile (repeatable; default COMPOSE_PROFILES)."`
	ProjectDirectory string   `name:"project-directory" placeholder:"DIR" help:"Working directory (default: the first file's directory)."`

	Up      ComposeUpCmd      `cmd:"" help:"Create and start the services' containers."`
	Down    ComposeDownCmd    `cmd:"" help:"Stop and remove the containers and networks (-v: volumes too)."`
	Ps      ComposePsCmd      `cmd:"" help:"List the project's containers."`
	Logs    ComposeLogsCmd    `cmd:"" help:"Show the services' output."`
	Config  ComposeConfigCmd  `cmd:"" help:"Print the resolved, merged project."`
	Exec    ComposeExecCmd    `cmd:"" help:"Run a command in a service's running container."`
	Run     ComposeRunCmd     `cmd:"" help:"Run a one-off command in a new container of a service."`
	Start   ComposeStartCmd   `cmd:"" help:"Start the services' existing containers."`
	Stop    ComposeStopCmd    `cmd:"" help:"Stop the services' containers."`
	Restart ComposeRestartCmd `cmd:"" help:"Restart the services' containers."`
	Rm      ComposeRmCmd      `cmd:"" help:"Remove the services' stopped containers."`
	Build   ComposeBuildCmd   `cmd:"" help:"Build the services' images."`
	Pull    ComposePullCmd    `cmd:"" help:"Pull the services' images."`
	Top     ComposeTopCmd     `cmd:"" help:"Show the processes of the services' running containers."`
	Kill    ComposeKillCmd    `cmd:"" help:"Send a signal to the services' running containers."`
	Pause   ComposePauseCmd   `cmd:"" help:"Freeze the services' running containers."`
	Unpause ComposeUnpauseCmd `cmd:"" help:"Thaw the services' paused containers."`
	Port    ComposePortCmd    `cmd:"" help:"Print the host address a service's port is published on."`
	Ls      ComposeLsCmd      `cmd:"" help:"List the projects that have containers."`
	Create  ComposeCreateCmd  `cmd:"" help:"Create the services' containers without starting them."`
	Scale   ComposeScaleCmd   `cmd:"" help:"Set how many containers services run (SERVICE=N)."`
	Cp      ComposeCpCmd      `cmd:"" help:"Copy files between a service's container and the host."`
	Images  ComposeImagesCmd  `cmd:"" help:"List the images of the project's containers."`
	Wait    ComposeWaitCmd    `cmd:"" help:"Wait for the services' containers to stop; exit with the last one's code."`
	Events  ComposeEventsCmd  `cmd:"" help:"Stream the events of the project's containers."`
	Stats   ComposeStatsCmd   `cmd:"" help:"Show the resource use of the project's containers."`
	Attach  ComposeAttachCmd  `cmd:"" help:"Attach to a service's running container."`
	Push    ComposePushCmd    `cmd:"" help:"Push the images of the services that build one."`
	Version ComposeVersionCmd `cmd:"" help:"Print the compose version."`
	Watch   ComposeWatchCmd   `cmd:"" help:"Follow develop.watch: sync files into the containers, restart or rebuild them as files change."`
}

// AfterApply hands the project flags to the subcommands.
func (c *ComposeCmd) AfterApply(kctx *kong.Context) error {
	kctx.Bind(c)
	return nil
}

// runner loads the project; services are those the command names, enabled whatever
// their profiles.
func (c *ComposeCmd) runner(ctx context.Context, cl *client.Client, out *Output, services ...string) (*compose.Runner, error) {
	p, err := loader.Load(ctx, loader.Options{Files: c.File, Name: c.ProjectName, EnvFiles: c.EnvFile,
		Profiles: c.Profile, WorkingDir: c.ProjectDirectory, Env: os.Environ(), Warn: func(m string) { out.Warn("%s", m) },
		Services: services})
	if err != nil {
		return nil, err
	}
	live := false
	if f, ok := out.Stderr.(*os.File); ok && out.Terminal() && term.IsTerminal(int(f.Fd())) {
		live = true
	}
	return &compose.Runner{C: cl, P: p, Out: out.Stdout, Progress: out.Stderr, Live: live, Colour: out.Terminal()}, nil
}

// withRunner runs fn on the project loaded for services (see runner), its progress
// closed after.
func (c *ComposeCmd) withRunner(ctx context.Context, cl *client.Client, out *Output, services []string, fn func(*compose.Runner) error) error {
	r, err := c.runner(ctx, cl, out, services...)
	if err != nil {
		return err
	}
	defer r.Close()
	return fn(r)
}

// ComposeUpCmd is `compose up`.
type ComposeUpCmd struct {
	Detach        bool     `short:"d" help:"Leave the containers running in the background."`
	Build         bool     `help:"Build images before starting."`
	NoBuild       bool     `name:"no-build" help:"Do not build missing images."`
	ForceRecreate bool     `name:"force-recreate" help:"Recreate containers even if nothing changed."`
	RemoveOrphans bool     `name:"remove-orphans" help:"Remove containers of services the file no longer has."`
	Wait          bool     `help:"Wait until the services are running (healthy, when they have a healthcheck)."`
	NoDeps        bool     `name:"no-deps" help:"Do not start the named services' dependencies."`
	Scale         []string `sep:"none" placeholder:"SERVICE=N" help:"Run N containers of a service (repeatable)."`
	AbortOnExit   bool     `name:"abort-on-container-exit" help:"Attached: stop every container once one ends."`
	ExitCodeFrom  string   `name:"exit-code-from" placeholder:"SERVICE" help:"Attached: stop every container once one ends, and exit with this service's code."`
	NoStart       bool     `name:"no-start" help:"Create the containers, start none."`
	NoRecreate    bool     `name:"no-recreate" help:"Keep existing containers even if their configuration changed."`
	RenewAnon     bool     `short:"V" name:"renew-anon-volumes" help:"Give recreated containers new anonymous volumes (default: their predecessors', data kept)."`
	Pull          string   `default:"policy" enum:"policy,always,missing,never,build" help:"Pull images: always, missing, never, build, or each service's pull_policy (policy)."`
	QuietPull     bool     `name:"quiet-pull" help:"Pull without progress lines."`
	Timeout       *int     `short:"t" placeholder:"SECONDS" help:"Stop timeout for the containers replaced, restarted, or stopped on Ctrl-C (default: each service's)."`
	WaitTimeout   int      `name:"wait-timeout" placeholder:"SECONDS" help:"With --wait: fail after this many seconds."`
	NoColor       bool     `name:"no-color" help:"Attached: no colour in the log prefixes."`
	NoLogPrefix   bool     `name:"no-log-prefix" help:"Attached: no service prefix on log lines."`
	Timestamps    bool     `help:"Attached: each log line's time."`
	Attach        []string `sep:"none" placeholder:"SERVICE" help:"Attached: follow only these services' output (repeatable)."`
	NoAttach      []string `name:"no-attach" sep:"none" placeholder:"SERVICE" help:"Attached: do not follow this service's output (repeatable)."`
	Watch         bool     `short:"w" help:"Follow develop.watch once up (compose watch), attached or with -d."`
	Services      []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (u *ComposeUpCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	abort := u.AbortOnExit || u.ExitCodeFrom != ""
	if abort && (u.Detach || u.Wait || u.NoStart) {
		return usageError("--abort-on-container-exit and --exit-code-from follow the containers: not with -d, --wait or --no-start")
	}
	switch {
	case u.NoRecreate && u.ForceRecreate:
		return usageError("--no-recreate and --force-recreate: one or the other")
	case u.NoStart && (u.Wait || u.Watch):
		return usageError("--no-start with --wait or --watch: nothing starts to wait for or watch")
	case u.WaitTimeout < 0 || u.WaitTimeout > 0 && !u.Wait:
		return usageError("--wait-timeout %d: a number of seconds, with --wait", u.WaitTimeout)
	case u.Timeout != nil && *u.Timeout < 0:
		return usageError("--timeout %d: a number of seconds", *u.Timeout)
	}
	listing := compose.ListContainers(ctx, cl) // while the file loads
	r, err := c.runner(ctx, cl, out, u.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, ok := r.P.Services[u.ExitCodeFrom]; u.ExitCodeFrom != "" && !ok {
		return usageError("--exit-code-from %s: no such service", u.ExitCodeFrom)
	}
	scale := map[string]int{}
	for _, s := range u.Scale {
		name, n, ok := strings.Cut(s, "=")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 0 {
			return usageError("--scale %s: expected SERVICE=N", s)
		}
		scale[name] = v
	}
	for _, n := range append(slices.Clone(u.Attach), u.NoAttach...) {
		if _, ok := r.P.Services[n]; !ok {
			return usageError("--attach/--no-attach %s: no such service", n)
		}
	}
	if u.Pull != "policy" {
		// --pull is every service's pull_policy for this up, as in Compose.
		for n, s := range r.P.Services {
			s.PullPolicy = u.Pull
			r.P.Services[n] = s
		}
	}
	r.QuietPull = u.QuietPull
	if u.Watch {
		if err := r.CheckWatch(u.Services); err != nil {
			return err
		}
		r.Live = false // the watch's notes come one at a time, for as long as it runs
	}
	err = r.Up(ctx, compose.UpOptions{Build: u.Build, NoBuild: u.NoBuild, ForceRecreate: u.ForceRecreate,
		RemoveOrphans: u.RemoveOrphans, Wait: u.Wait, Scale: scale, Services: u.Services, NoDeps: u.NoDeps, Listing: listing,
		NoStart: u.NoStart, NoRecreate: u.NoRecreate, Timeout: u.Timeout, WaitTimeout: time.Duration(u.WaitTimeout) * time.Second,
		RenewAnonVolumes: u.RenewAnon})
	if err != nil || u.NoStart || (u.Detach || u.Wait) && !u.Watch {
		return err
	}
	if u.Detach || u.Wait {
		// Detached, the watch runs in the foreground until Ctrl-C; the containers go on.
		wctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return r.Watch(wctx, compose.WatchOptions{Services: u.Services, NoUp: true})
	}
	if u.Watch {
		wctx, cancel := context.WithCancel(ctx)
		watched := make(chan error, 1)
		go func() { watched <- r.Watch(wctx, compose.WatchOptions{Services: u.Services, NoUp: true}) }()
		defer func() {
			cancel()
			if err := <-watched; err != nil {
				out.Warn("watch: %v", err)
			}
		}()
	}
	followed := u.Services
	if len(u.Attach) > 0 {
		followed = u.Attach
	}
	if len(u.NoAttach) > 0 {
		if len(followed) == 0 {
			followed = slices.Sorted(maps.Keys(r.P.Services))
		}
		followed = slices.DeleteFunc(slices.Clone(followed), func(n string) bool { return slices.Contains(u.NoAttach, n) })
	}
	r.Colour = r.Colour && !u.NoColor
	// Attached: follow the output until every container ended. An interrupt stops them
	// while their last lines still come (a second one leaves at once), as Compose does.
	r.Close()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	logs := make(chan error, 1)
	ended := make(chan struct{}) // closed when the first container ends (abort)
	var endOnce sync.Once
	var mu sync.Mutex
	exitCode := -1 // --exit-code-from's container's, once it ended
	lo := compose.LogsOptions{Follow: true, ExitStatus: true, Timestamps: u.Timestamps, NoPrefix: u.NoLogPrefix, OnExit: func(ctr api.ContainerSummary, code int) {
		if ctr.Labels[compose.LabelService] == u.ExitCodeFrom {
			mu.Lock()
			exitCode = code
			mu.Unlock()
		}
		if abort {
			endOnce.Do(func() { close(ended) })
		}
	}}
	go func() { logs <- r.Logs(ctx, followed, lo) }()
	select {
	case err := <-logs:
		return err
	case <-sig:
		fmt.Fprintln(out.Stderr, "Gracefully stopping... (press Ctrl+C again to force)")
	case <-ended:
		fmt.Fprintln(out.Stderr, "Aborting on container exit...")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(ctx, u.Services, u.Timeout) }()
	select {
	case err := <-stopped:
		<-logs
		if err != nil || u.ExitCodeFrom == "" {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if exitCode != 0 {
			return &errdefs.ExitError{Code: max(exitCode, 1), Silent: true}
		}
		return nil
	case <-sig:
		return errors.New("interrupted: the containers still stopping are left to the daemon")
	}
}

// ComposeDownCmd is `compose down`.
type ComposeDownCmd struct {
	Volumes       bool   `short:"v" help:"Remove the project's named volumes and the containers' anonymous ones."`
	RemoveOrphans bool   `name:"remove-orphans" help:"Remove containers of services the file no longer has."`
	Timeout       *int   `short:"t" placeholder:"SECONDS" help:"Stop timeout (default: each service's stop_grace_period, else 10)."`
	Rmi           string `name:"rmi" placeholder:"local|all" help:"Remove the images built for services without an image name (local), or every service's image (all)."`
}

func (d *ComposeDownCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	if d.Rmi != "" && d.Rmi != "local" && d.Rmi != "all" {
		return usageError("--rmi %s: expected local or all", d.Rmi)
	}
	return c.withRunner(ctx, cl, out, nil, func(r *compose.Runner) error {
		return r.Down(ctx, compose.DownOptions{Volumes: d.Volumes, RemoveOrphans: d.RemoveOrphans, Timeout: d.Timeout, RemoveImages: d.Rmi})
	})
}

// ComposePsCmd is `compose ps`.
type ComposePsCmd struct {
	All          bool     `short:"a" help:"Also stopped containers."`
	JSON         bool     `name:"json" help:"One JSON object a line."`
	Format       string   `placeholder:"FORMAT" help:"table, json, or a Go template over each container's fields ({{.Name}} {{.Service}} {{.State}} {{.Status}}...; \"table TEMPLATE\": with a header)."`
	Quiet        bool     `short:"q" help:"IDs only."`
	ServiceNames bool     `name:"services" help:"The services' names only."`
	Status       []string `sep:"none" placeholder:"STATE" help:"Only containers in this state (created, running, paused, restarting, exited, dead; repeatable)."`
	Filter       []string `sep:"none" placeholder:"status=STATE" help:"Only containers in this state (repeatable), as --status."`
	NoTrunc      bool     `name:"no-trunc" help:"Do not cut the command short."`
	Orphans      bool     `default:"true" negatable:"" help:"Include containers of services the file does not have (--no-orphans: not)."`
	Services     []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (p *ComposePsCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, p.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	status := slices.Clone(p.Status)
	for _, f := range p.Filter {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "status" || v == "" {
			return usageError("--filter %s: expected status=STATE", f)
		}
		status = append(status, v)
	}
	for _, st := range status {
		if !slices.Contains([]string{"created", "running", "paused", "restarting", "exited", "dead", "removing"}, st) {
			return usageError("--status %s: expected created, running, paused, restarting, exited or dead", st)
		}
	}
	o := compose.PsOptions{All: p.All, JSON: p.JSON || p.Format == "json", Quiet: p.Quiet, Services: p.ServiceNames,
		Status: status, NoTrunc: p.NoTrunc, NoOrphans: !p.Orphans}
	if p.Format != "" && p.Format != "json" && p.Format != "table" {
		o.Template = p.Format
	}
	return r.Ps(ctx, o, p.Services)
}

// ComposeLogsCmd is `compose logs`.
type ComposeLogsCmd struct {
	Follow      bool     `help:"Follow the output (-f after logs)."`
	Tail        string   `short:"n" placeholder:"N" help:"Lines from the end of each log (default all)."`
	Timestamps  bool     `short:"t" help:"Show each line's time."`
	Since       string   `placeholder:"TIME" help:"Lines since a time (RFC 3339, Unix time, or a duration ago: 10m)."`
	Until       string   `placeholder:"TIME" help:"Lines before a time (as --since)."`
	NoColor     bool     `name:"no-color" help:"Do not colour the prefixes."`
	NoLogPrefix bool     `name:"no-log-prefix" help:"Do not prefix the lines with their service."`
	Index       int      `help:"Only each service's container of this number."`
	Services    []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (l *ComposeLogsCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, l.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	r.Colour = r.Colour && !l.NoColor
	if l.Index < 0 {
		return usageError("--index %d: expected a container number from 1", l.Index)
	}
	o := compose.LogsOptions{Follow: l.Follow, Tail: l.Tail, Timestamps: l.Timestamps, NoPrefix: l.NoLogPrefix, Index: l.Index}
	now := time.Now()
	if _, err := logBound("--since", l.Since, now, &o.Since); err != nil {
		return err
	}
	if _, err := logBound("--until", l.Until, now, &o.Until); err != nil {
		return err
	}
	return r.Logs(ctx, l.Services, o)
}

// ComposeConfigCmd is `compose config`.
type ComposeConfigCmd struct {
	Services    bool   `help:"Print the services' names."`
	Volumes     bool   `help:"Print the volumes' names."`
	Networks    bool   `help:"Print the networks' names."`
	Images      bool   `help:"Print the services' image names."`
	Profiles    bool   `help:"Print the profiles the file declares."`
	Environment bool   `help:"Print the variables interpolation used (KEY=VALUE)."`
	Quiet       bool   `short:"q" help:"Only check the file."`
	Format      string `default:"yaml" help:"yaml or json."`
	Output      string `short:"o" placeholder:"FILE" help:"Write to FILE instead of standard output."`
}

func (cc *ComposeConfigCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	if cc.Format != "yaml" && cc.Format != "json" {
		return usageError("--format %s: expected yaml or json", cc.Format)
	}
	r, err := c.runner(ctx, cl, out)
	if err != nil {
		return err
	}
	defer r.Close()
	if cc.Quiet {
		return nil
	}
	var b []byte
	lines := func(names []string) {
		for _, n := range names {
			b = append(b, n+"\n"...)
		}
	}
	switch {
	case cc.Services:
		lines(r.P.ServiceNames())
	case cc.Volumes:
		lines(r.P.VolumeNames())
	case cc.Networks:
		lines(r.P.NetworkNames())
	case cc.Images:
		for _, n := range r.P.ServiceNames() {
			lines([]string{compose.ImageName(r.P, r.P.Services[n])})
		}
	case cc.Profiles:
		lines(compose.Profiles(r.P))
	case cc.Environment:
		for _, k := range slices.Sorted(maps.Keys(r.P.Environment)) {
			lines([]string{k + "=" + r.P.Environment[k]})
		}
	case cc.Format == "json":
		if b, err = r.P.MarshalJSON(); err == nil {
			b = append(b, '\n')
		}
	default:
		b, err = r.P.MarshalYAML()
	}
	if err != nil {
		return err
	}
	if cc.Output != "" {
		return atomicfile.WriteFile(cc.Output, b, 0o644)
	}
	_, err = out.Stdout.Write(b)
	return err
}

// ComposeExecCmd is `compose exec`.
type ComposeExecCmd struct {
	NoTTY      bool     `short:"T" name:"no-tty" help:"Do not allocate a terminal (the default when stdin is not one)."`
	Detach     bool     `short:"d" help:"Run in the background."`
	Env        []string `short:"e" sep:"none" placeholder:"KEY[=VAL]" help:"Set an environment variable."`
	User       string   `short:"u" help:"User."`
	Workdir    string   `short:"w" help:"Working directory."`
	Index      int      `default:"1" help:"Which container of a scaled service."`
	Privileged bool     `help:"Give the command every capability (the container's seccomp filter still holds)."`
	// Stdin is the command's unless -d or --no-interactive, as in Compose: a dump piped
	// into `exec -T db psql` reaches psql.
	Interactive bool     `short:"i" default:"true" negatable:"" help:"Keep stdin open and attach it (the default, as in Compose)."`
	Args        []string `arg:"" name:"service" passthrough:"partial" help:"The service, then the command and its arguments."`
}

func (e *ComposeExecCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output, env Env) error {
	if len(e.Args) < 2 {
		return usageError("a service and a command are required; usage: minibox compose exec [flags] SERVICE COMMAND [ARGS...]")
	}
	r, err := c.runner(ctx, cl, out, e.Args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	ctr, err := r.ServiceContainer(ctx, e.Args[0], e.Index)
	if err != nil {
		return err
	}
	tty := !e.NoTTY && !e.Detach && term.IsTerminal(int(os.Stdin.Fd()))
	ex := &ExecCmd{Detach: e.Detach, Interactive: e.Interactive && !e.Detach, TTY: tty, Env: e.Env, User: e.User, Workdir: e.Workdir, Privileged: e.Privileged,
		Args: append([]string{ctr.ID, "--"}, e.Args[1:]...)}
	return ex.Run(ctx, cl, out, env)
}

// ComposeRunCmd is `compose run`.
type ComposeRunCmd struct {
	Rm           bool     `help:"Remove the container when it exits."`
	Detach       bool     `short:"d" help:"Run in the background and print the container's ID."`
	NoTTY        bool     `short:"T" name:"no-tty" help:"Do not allocate a terminal (the default when stdin is not one)."`
	NoDeps       bool     `name:"no-deps" help:"Do not start the service's dependencies."`
	Env          []string `short:"e" sep:"none" placeholder:"KEY[=VAL]" help:"Set an environment variable (KEY alone: from this environment)."`
	Entrypoint   *string  `placeholder:"CMD" help:"Replace the service's entrypoint (split as a shell would; \"\" clears it)."`
	User         string   `short:"u" help:"User (name or uid[:gid])."`
	Workdir      string   `short:"w" help:"Working directory."`
	Name         string   `help:"Name the container (default <project>-<service>-run-<random>)."`
	Volume       []string `short:"v" sep:"none" placeholder:"SRC:DST[:OPTS]" help:"Bind a host path or mount a volume, as run -v."`
	Publish      []string `sep:"none" placeholder:"[IP:]HOST:CONTAINER[/PROTO]" help:"Publish a port, as run -p (--publish only: -p is the project name)."`
	ServicePorts bool     `name:"service-ports" help:"Publish the service's ports (a one-off publishes none by default)."`
	Label        []string `short:"l" sep:"none" placeholder:"KEY=VAL" help:"Add a label."`
	Build        bool     `help:"Build the service's image before running it."`
	Pull         string   `default:"policy" enum:"policy,always,missing,never" help:"Pull the image: always, missing, never, or the service's pull_policy (policy)."`
	QuietPull    bool     `name:"quiet-pull" help:"Pull without progress lines."`
	CapAdd       []string `name:"cap-add" sep:"none" placeholder:"CAP" help:"Add a Linux capability."`
	CapDrop      []string `name:"cap-drop" sep:"none" placeholder:"CAP" help:"Drop a Linux capability."`
	UseAliases   bool     `name:"use-aliases" help:"Give the container the service's network aliases (a one-off has none by default)."`
	Interactive  bool     `short:"i" default:"true" negatable:"" help:"Keep stdin open and attach it (the default, as in Compose: a file piped into run -T reaches the command)."`
	Args         []string `arg:"" name:"service" passthrough:"partial" help:"The service, then the command and its arguments (default: the service's)."`
}

func (u *ComposeRunCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output, env Env) error {
	if len(u.Args) == 0 {
		return usageError("a service is required; usage: minibox compose run [flags] SERVICE [COMMAND...]")
	}
	// The flags are checked before anything is made.
	flags := RunFlags{Volume: u.Volume, Publish: u.Publish}
	extra := &api.CreateRequest{}
	if err := flags.storage(extra, env, out.Warn); err != nil {
		return err
	}
	if err := flags.ports(extra); err != nil {
		return err
	}
	labels, err := keyValues("--label", u.Label, true)
	if err != nil {
		return err
	}
	var entrypoint *[]string
	if u.Entrypoint != nil {
		var sc types.ShellCommand
		if err := sc.DecodeMapstructure(*u.Entrypoint); err != nil {
			return usageError("--entrypoint %q: %v", *u.Entrypoint, err)
		}
		ep := []string(sc)
		if ep == nil {
			ep = []string{}
		}
		entrypoint = &ep
	}
	r, err := c.runner(ctx, cl, out, u.Args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	service, cmd := u.Args[0], u.Args[1:]
	if len(cmd) > 0 && cmd[0] == "--" {
		cmd = cmd[1:]
	}
	s, ok := r.P.Services[service]
	if !ok {
		return fmt.Errorf("no such service: %s", service)
	}
	if u.Pull != "policy" {
		s.PullPolicy = u.Pull
		r.P.Services[service] = s
	}
	r.QuietPull = u.QuietPull
	ids, err := r.Prepare(ctx, []string{service}, u.Build, false)
	if err != nil {
		return err
	}
	if !u.NoDeps && len(s.DependsOn) > 0 {
		var depNames []string
		for d := range s.DependsOn {
			depNames = append(depNames, d)
		}
		if err := r.Up(ctx, compose.UpOptions{Services: depNames}); err != nil {
			return err
		}
		for d, dep := range s.DependsOn {
			if err := r.WaitCondition(ctx, d, dep.Condition); err != nil {
				return err
			}
		}
	}
	req, err := r.OneOff(service, cmd, ids[service], u.ServicePorts, u.UseAliases)
	if err != nil {
		return err
	}
	req.AutoRemove = u.Rm
	req.Env = append(req.Env, envList(u.Env, env)...)
	if entrypoint != nil {
		req.Entrypoint = entrypoint
		if len(cmd) == 0 {
			req.Command = nil // as Compose: a new entrypoint drops the service's command
		}
	}
	if u.User != "" {
		req.User = u.User
	}
	if u.Workdir != "" {
		req.WorkingDir = u.Workdir
	}
	if u.Name != "" {
		req.Name = u.Name
	}
	for k, v := range labels {
		req.Labels[k] = v
	}
	req.Mounts = append(req.Mounts, extra.Mounts...)
	req.Publish = append(req.Publish, extra.Publish...)
	req.CapAdd = append(req.CapAdd, u.CapAdd...)
	req.CapDrop = append(req.CapDrop, u.CapDrop...)
	r.Close() // the dependencies' lines end here; the container's output follows
	tty := !u.NoTTY && !u.Detach && term.IsTerminal(int(os.Stdin.Fd()))
	if !u.Detach {
		// Attached, the one-off's terminal and stdin are this command's, as in Compose.
		req.Tty, req.Stdin = tty, u.Interactive
	}
	return runContainer(ctx, cl, out, req, RunFlags{Detach: u.Detach, Interactive: req.Stdin, TTY: req.Tty, SigProxy: true})
}

// ComposeStartCmd is `compose start`.
type ComposeStartCmd struct {
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeStartCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, s.Services, func(r *compose.Runner) error { return r.Start(ctx, s.Services) })
}

// ComposeStopCmd is `compose stop`.
type ComposeStopCmd struct {
	Timeout  *int     `short:"t" placeholder:"SECONDS" help:"Stop timeout."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeStopCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, s.Services, func(r *compose.Runner) error { return r.Stop(ctx, s.Services, s.Timeout) })
}

// ComposeRestartCmd is `compose restart`.
type ComposeRestartCmd struct {
	Timeout  *int     `short:"t" placeholder:"SECONDS" help:"Stop timeout."`
	NoDeps   bool     `name:"no-deps" help:"Do not restart the services that depend on these with restart: true."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeRestartCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, s.Services, func(r *compose.Runner) error { return r.Restart(ctx, s.Services, s.Timeout, s.NoDeps) })
}

// ComposeRmCmd is `compose rm`.
type ComposeRmCmd struct {
	Force    bool     `help:"Do not ask (minibox never asks; -f after rm)."`
	Stop     bool     `short:"s" help:"Stop running containers first."`
	Volumes  bool     `short:"v" help:"Remove the containers' anonymous volumes."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeRmCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, s.Services, func(r *compose.Runner) error { return r.Rm(ctx, s.Services, s.Stop, s.Volumes) })
}

// ComposeBuildCmd is `compose build`.
type ComposeBuildCmd struct {
	NoCache  bool     `name:"no-cache" help:"Build every step again, ignoring the cache."`
	Pull     bool     `help:"Pull the base images again even if present."`
	BuildArg []string `name:"build-arg" sep:"none" placeholder:"KEY[=VAL]" help:"Set a build argument for every service (KEY alone: from this environment)."`
	Quiet    bool     `short:"q" help:"Print nothing but errors."`
	Push     bool     `help:"Push the images built (the services with an image name) once built."`
	WithDeps bool     `name:"with-dependencies" help:"Build the named services' dependencies too."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeBuildCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output, env Env) error {
	o := compose.BuildOptions{NoCache: s.NoCache, Pull: s.Pull, Quiet: s.Quiet, WithDeps: s.WithDeps}
	for _, a := range s.BuildArg {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return usageError("--build-arg %q: expected KEY=VAL or KEY", a)
		}
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue // as Compose: an unset variable sets nothing
			}
		}
		if o.Args == nil {
			o.Args = map[string]string{}
		}
		o.Args[k] = v
	}
	r, err := c.runner(ctx, cl, out, s.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Build(ctx, s.Services, o); err != nil || !s.Push {
		return err
	}
	return pushImages(ctx, r, cl, out, env, s.Services, s.Quiet, false)
}

// ComposePullCmd is `compose pull`.
type ComposePullCmd struct {
	Quiet          bool     `short:"q" help:"Print nothing but errors."`
	IgnoreFailures bool     `name:"ignore-pull-failures" help:"Warn of an image that fails to pull and go on."`
	IncludeDeps    bool     `name:"include-deps" help:"Pull the named services' dependencies too."`
	Policy         string   `default:"always" enum:"always,missing" help:"always, or missing: only the images not present."`
	Services       []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposePullCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, s.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Pull(ctx, s.Services, compose.PullOptions{Quiet: s.Quiet, IgnoreFailures: s.IgnoreFailures,
		IncludeDeps: s.IncludeDeps, Missing: s.Policy == "missing"})
}

// ComposeTopCmd is `compose top`.
type ComposeTopCmd struct {
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeTopCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, s.Services, func(r *compose.Runner) error { return r.Top(ctx, s.Services) })
}

// ComposeKillCmd is `compose kill`.
type ComposeKillCmd struct {
	Signal   string   `short:"s" placeholder:"SIGNAL" help:"Signal (default SIGKILL)."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (k *ComposeKillCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, k.Services, func(r *compose.Runner) error { return r.Kill(ctx, k.Services, k.Signal) })
}

// ComposePauseCmd is `compose pause`.
type ComposePauseCmd struct {
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (p *ComposePauseCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, p.Services, func(r *compose.Runner) error { return r.Pause(ctx, p.Services) })
}

// ComposeUnpauseCmd is `compose unpause`.
type ComposeUnpauseCmd struct {
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (p *ComposeUnpauseCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	return c.withRunner(ctx, cl, out, p.Services, func(r *compose.Runner) error { return r.Unpause(ctx, p.Services) })
}

// ComposePortCmd is `compose port`.
type ComposePortCmd struct {
	Protocol string `default:"tcp" enum:"tcp,udp" help:"tcp or udp."`
	Index    int    `default:"1" help:"Which container of a scaled service."`
	Service  string `arg:"" help:"The service."`
	Port     int    `arg:"" help:"The container's port."`
}

func (p *ComposePortCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, p.Service)
	if err != nil {
		return err
	}
	defer r.Close()
	addr, err := r.Port(ctx, p.Service, p.Port, p.Protocol, p.Index)
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, addr)
	return nil
}

// ComposeLsCmd is `compose ls`.
type ComposeLsCmd struct {
	All    bool     `short:"a" help:"Also projects with no running container."`
	Quiet  bool     `short:"q" help:"Names only."`
	Format string   `default:"table" enum:"table,json" help:"table or json."`
	Filter []string `sep:"none" placeholder:"name=PATTERN" help:"Only projects whose name matches PATTERN (a regular expression; repeatable: any)."`
}

func (s *ComposeLsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	var names []*regexp.Regexp
	for _, f := range s.Filter {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "name" || v == "" {
			return usageError("--filter %s: expected name=PATTERN", f)
		}
		re, err := regexp.Compile(v)
		if err != nil {
			return usageError("--filter %s: %v", f, err)
		}
		names = append(names, re)
	}
	ps, err := compose.Projects(ctx, cl, s.All)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		ps = slices.DeleteFunc(ps, func(p compose.Project) bool {
			return !slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(p.Name) })
		})
	}
	switch {
	case s.Quiet:
		for _, p := range ps {
			fmt.Fprintln(out.Stdout, p.Name)
		}
		return nil
	case s.Format == "json":
		if ps == nil {
			ps = []compose.Project{}
		}
		return printJSON(out, ps)
	}
	w := tabwriter.NewWriter(out.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tSTATUS\tCONFIG FILES")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.Name, p.Status, p.ConfigFiles)
	}
	return w.Flush()
}

// composeArgs gives `compose logs -f` and `compose rm -f` their Docker meaning: kong lets
// no subcommand reuse a short flag of its parent (compose -f FILE), so -f after those
// words becomes the long flag.
func composeArgs(args []string) []string {
	if len(args) == 0 || args[0] != "compose" {
		return args
	}
	long := ""
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		switch a := out[i]; {
		case a == "--":
			return out
		case long == "" && (a == "logs" || a == "rm"):
			long = map[string]string{"logs": "--follow", "rm": "--force"}[a]
		case long == "" && !strings.HasPrefix(a, "-"):
			return out // another subcommand
		case long == "" && !strings.Contains(a, "="):
			i++ // a project flag's value
		case long != "" && a == "-f":
			out[i] = long
		case long != "" && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Contains(a, "f"):
			out[i] = strings.Replace(a, "f", "", 1)
			out = slices.Insert(out, i+1, long)
			i++
		}
	}
	return out
}
