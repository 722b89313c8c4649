package minibox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/compose"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/version"
)

// The Compose commands that work on what other commands made: each picks the project's
// containers (or images) and hands them to the command minibox has for one container.

// ComposeCreateCmd is `compose create`: up without starting anything.
type ComposeCreateCmd struct {
	Build         bool     `help:"Build images before creating the containers."`
	NoBuild       bool     `name:"no-build" help:"Never build; a missing image is an error."`
	ForceRecreate bool     `name:"force-recreate" help:"Recreate containers even if their configuration is unchanged."`
	RemoveOrphans bool     `name:"remove-orphans" help:"Remove containers of services not in the file."`
	RenewAnon     bool     `short:"V" name:"renew-anon-volumes" help:"Give recreated containers new anonymous volumes (default: their predecessors')."`
	Scale         []string `sep:"none" placeholder:"SERVICE=N" help:"Create N containers of a service (repeatable)."`
	Services      []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (u *ComposeCreateCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	if u.Build && u.NoBuild {
		return usageError("--build and --no-build: one or the other")
	}
	o, err := compose.ScaleOptions(u.Scale, false)
	if err != nil {
		return usageError("--scale %v", err)
	}
	r, err := c.runner(ctx, cl, out, u.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Up(ctx, compose.UpOptions{Build: u.Build, NoBuild: u.NoBuild, ForceRecreate: u.ForceRecreate,
		RemoveOrphans: u.RemoveOrphans, Scale: o.Scale, Services: u.Services, NoStart: true, RenewAnonVolumes: u.RenewAnon})
}

// ComposeScaleCmd is `compose scale SERVICE=N...`: an up of those services with that many
// containers each.
type ComposeScaleCmd struct {
	NoDeps bool     `name:"no-deps" help:"Do not start the services they depend on."`
	Scales []string `arg:"" name:"service=replicas" help:"SERVICE=N (several at once)."`
}

func (s *ComposeScaleCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	o, err := compose.ScaleOptions(s.Scales, s.NoDeps)
	if err != nil {
		return usageError("scale %v", err)
	}
	return c.withRunner(ctx, cl, out, o.Services, func(r *compose.Runner) error { return r.Up(ctx, o) })
}

// ComposeCpCmd is `compose cp`: cp with SERVICE:PATH on one side.
type ComposeCpCmd struct {
	Index   int    `help:"Which container of a scaled service (default: from a service its first, to a service every one)."`
	All     bool   `help:"Take the service's one-off containers (compose run) in too."`
	Archive bool   `short:"a" help:"Keep the files' owners (uid and gid); without it what goes into a container belongs to its root."`
	Follow  bool   `short:"L" name:"follow-link" help:"Follow a symbolic link in the source."`
	Src     string `arg:"" name:"src" help:"SERVICE:PATH, a host path, or - (a tar on stdin)."`
	Dst     string `arg:"" name:"dst" help:"SERVICE:PATH, a host path, or - (a tar on stdout)."`
}

func (p *ComposeCpCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	if p.Index < 0 {
		return usageError("--index %d: expected a container number from 1", p.Index)
	}
	ss, sp, sok := splitCtrPath(p.Src)
	ds, dp, dok := splitCtrPath(p.Dst)
	switch {
	case sok && dok:
		return usageError("cp between two services is not supported; copy to the host first")
	case !sok && !dok:
		return usageError("cp needs SERVICE:PATH on one side (compose cp web:/etc/hosts ./hosts)")
	}
	service := ss
	if dok {
		service = ds
	}
	r, err := c.runner(ctx, cl, out, service)
	if err != nil {
		return err
	}
	defer r.Close()
	targets, err := r.CopyTargets(ctx, service, p.Index, dok, p.All)
	if err != nil {
		return err
	}
	if dok && p.Src == "-" && len(targets) > 1 {
		return usageError("- (a tar on stdin) reaches one container: --index says which of %s's %d", service, len(targets))
	}
	cp := &CpCmd{Follow: p.Follow, Archive: p.Archive}
	if sok {
		return cp.fromContainer(ctx, cl, out, targets[0].ID, sp, p.Dst)
	}
	var errs []error
	for _, t := range targets {
		if err := cp.toContainer(ctx, cl, p.Src, t.ID, dp); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}

// ComposeImagesCmd is `compose images`.
type ComposeImagesCmd struct {
	Quiet    bool     `short:"q" help:"Print only image IDs."`
	Format   string   `default:"table" enum:"table,json" help:"table or json."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeImagesCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, s.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	rows, err := r.Images(ctx, s.Services)
	if err != nil {
		return err
	}
	switch {
	case s.Quiet:
		seen := map[string]bool{}
		for _, row := range rows {
			if row.ID != "" && !seen[row.ID] {
				seen[row.ID] = true
				fmt.Fprintln(out.Stdout, row.ID)
			}
		}
		return nil
	case s.Format == "json":
		return printJSON(out, rows)
	}
	w := tabwriter.NewWriter(out.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE")
	for _, row := range rows {
		id, size := "<none>", "<none>"
		if row.ID != "" {
			id, size = short(strings.TrimPrefix(row.ID, "sha256:")), humanSize(float64(row.Size))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", row.ContainerName, row.Repository, row.Tag, id, size)
	}
	return w.Flush()
}

// ComposeWaitCmd is `compose wait`.
type ComposeWaitCmd struct {
	DownProject bool     `name:"down-project" help:"Take the project down once they stopped."`
	Services    []string `arg:"" help:"Services."`
}

func (s *ComposeWaitCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, s.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	code, err := r.Wait(ctx, s.Services)
	if err != nil {
		return err
	}
	if s.DownProject {
		if err := r.Down(ctx, compose.DownOptions{RemoveOrphans: true}); err != nil {
			return err
		}
	}
	if code != 0 {
		return &errdefs.ExitError{Code: code, Silent: true}
	}
	return nil
}

// ComposeEventsCmd is `compose events`.
type ComposeEventsCmd struct {
	JSON     bool     `help:"One JSON object a line."`
	Since    string   `placeholder:"T" help:"Replay events from T (RFC 3339, Unix time or a duration ago)."`
	Until    string   `placeholder:"T" help:"Stop at T."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (e *ComposeEventsCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	o := compose.EventOptions{Services: e.Services, JSON: e.JSON}
	now := time.Now()
	if _, err := logBound("--since", e.Since, now, &o.Since); err != nil {
		return err
	}
	if _, err := logBound("--until", e.Until, now, &o.Until); err != nil {
		return err
	}
	return c.withRunner(ctx, cl, out, e.Services, func(r *compose.Runner) error { return r.Events(ctx, o) })
}

// ComposeStatsCmd is `compose stats`: stats of the project's containers.
type ComposeStatsCmd struct {
	All      bool     `short:"a" help:"Stopped containers too (default: running ones)."`
	NoStream bool     `name:"no-stream" help:"Print once and exit."`
	Format   string   `placeholder:"TEMPLATE" help:"Go template per container, \"table TEMPLATE\" or json."`
	Services []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (s *ComposeStatsCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, s.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	cs, err := r.Pick(ctx, s.Services)
	if err != nil {
		return err
	}
	st := &StatsCmd{NoStream: s.NoStream, Format: s.Format}
	for _, ctr := range cs {
		if s.All || ctr.Status == "running" {
			st.Containers = append(st.Containers, ctr.ID)
		}
	}
	if len(st.Containers) == 0 {
		return st.print(out, nil, true) // the header alone, as for no running container
	}
	return st.Run(ctx, cl, out)
}

// ComposeAttachCmd is `compose attach`.
type ComposeAttachCmd struct {
	Index      int    `default:"1" help:"Which container of a scaled service."`
	NoStdin    bool   `name:"no-stdin" help:"Do not attach stdin."`
	DetachKeys string `name:"detach-keys" default:"ctrl-p,ctrl-q" help:"Keys that detach (\"\" = none)."`
	Service    string `arg:"" help:"The service."`
}

func (a *ComposeAttachCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, a.Service)
	if err != nil {
		return err
	}
	ctr, err := r.ServiceContainer(ctx, a.Service, a.Index)
	r.Close()
	if err != nil {
		return err
	}
	return (&AttachCmd{Container: ctr.ID, NoStdin: a.NoStdin, DetachKeys: a.DetachKeys}).Run(ctx, cl, out)
}

// ComposePushCmd is `compose push`.
type ComposePushCmd struct {
	IgnoreFailures bool     `name:"ignore-push-failures" help:"Push the other images when one fails."`
	Quiet          bool     `short:"q" help:"Print nothing but errors."`
	Services       []string `arg:"" optional:"" help:"Services (default: all)."`
}

func (p *ComposePushCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output, env Env) error {
	return c.withRunner(ctx, cl, out, p.Services, func(r *compose.Runner) error {
		return pushImages(ctx, r, cl, out, env, p.Services, p.Quiet, p.IgnoreFailures)
	})
}

// pushImages pushes the images of the services that have both build and image (push,
// build --push).
func pushImages(ctx context.Context, r *compose.Runner, cl *client.Client, out *Output, env Env, services []string, quiet, ignoreFailures bool) error {
	refs, err := r.PushTargets(services)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := (PushCmd{Ref: ref, Quiet: quiet}).Run(ctx, cl, out, env); err != nil {
			if !ignoreFailures {
				return fmt.Errorf("push %s: %w", ref, err)
			}
			out.Warn("push %s: %v", ref, err)
		}
	}
	return nil
}

// ComposeVersionCmd is `compose version`.
type ComposeVersionCmd struct {
	Short  bool   `help:"Print the version alone."`
	Format string `default:"pretty" enum:"pretty,json" help:"pretty or json."`
}

func (v *ComposeVersionCmd) Run(out *Output) error {
	switch {
	case v.Short:
		fmt.Fprintln(out.Stdout, version.Version)
	case v.Format == "json":
		return printJSON(out, map[string]string{"version": version.Version})
	default:
		fmt.Fprintf(out.Stdout, "minibox compose version %s\n", version.Version)
	}
	return nil
}

// ComposeWatchCmd is `compose watch`.
type ComposeWatchCmd struct {
	NoUp     bool     `name:"no-up" help:"Do not bring the services up first: watch only."`
	Services []string `arg:"" optional:"" help:"Services (default: all that have develop.watch)."`
}

func (w *ComposeWatchCmd) Run(ctx context.Context, c *ComposeCmd, cl *client.Client, out *Output) error {
	r, err := c.runner(ctx, cl, out, w.Services...)
	if err != nil {
		return err
	}
	defer r.Close()
	// Plain lines: the watch's notes come one at a time, for as long as it runs.
	r.Live = false
	// Ctrl-C ends the watch; the containers go on running, as after up -d.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return r.Watch(ctx, compose.WatchOptions{Services: w.Services, NoUp: w.NoUp})
}
