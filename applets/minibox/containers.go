package minibox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

// ContainerCmds are the container, volume and db commands: top-level (Docker's short
// forms and the original's) and as `container <sub>` with Docker's names.
type ContainerCmds struct {
	Run       RunCmd         `cmd:"" help:"Create and start a container (pulls a missing image)."`
	Create    CreateCmd      `cmd:"" help:"Create a container and print its ID."`
	Start     StartCmd       `cmd:"" help:"Start containers (same filesystem; running ones untouched)."`
	Stop      StopCmd        `cmd:"" help:"Stop containers: the stop signal, SIGKILL after -t seconds."`
	Kill      KillCmd        `cmd:"" help:"Send a signal to running containers (default KILL)."`
	Restart   RestartCmd     `cmd:"" help:"Stop then start containers."`
	Rm        RmCmd          `cmd:"" help:"Remove containers (-f kills running ones)."`
	Ps        PsCmd          `cmd:"" help:"List containers (-a: all)."`
	Inspect   InspectCmd     `cmd:"" help:"Show containers, images or volumes as JSON."`
	Logs      LogsCmd        `cmd:"" help:"Show a container's output (stdout and stderr kept apart)."`
	Exec      ExecCmd        `cmd:"" help:"Run a command in a running container (default /bin/sh)."`
	Attach    AttachCmd      `cmd:"" help:"Attach to a running container's stdio."`
	Wait      WaitCmd        `cmd:"" help:"Wait for containers to stop and print their exit codes."`
	Cp        CpCmd          `cmd:"" help:"Copy files between a container and the host (- = tar stream)."`
	Rename    RenameCmd      `cmd:"" help:"Rename a container."`
	Pause     PauseCmd       `cmd:"" help:"Freeze containers' processes."`
	Unpause   UnpauseCmd     `cmd:"" help:"Thaw paused containers."`
	Port      PortCmd        `cmd:"" help:"Show a container's published ports."`
	Stats     StatsCmd       `cmd:"" help:"Show containers' resource usage."`
	Top       TopCmd         `cmd:"" help:"Show a running container's processes."`
	Diff      DiffCmd        `cmd:"" help:"Show what a container changed in its filesystem (A added, C changed, D deleted)."`
	Export    ExportCmd      `cmd:"" help:"Write a container's filesystem as a tar."`
	Update    UpdateCmd      `cmd:"" help:"Change containers' limits and restart policy, live."`
	Events    EventsCmd      `cmd:"" help:"Stream container, image, network and volume events."`
	Commit    CommitCmd      `cmd:"" help:"Make an image of a container's changes."`
	Container ContainerGroup `cmd:"" help:"Manage containers: ls run create start stop kill restart rm inspect logs exec attach wait cp rename pause unpause port stats top diff export update commit prune."`
	Volume    VolumeGroup    `cmd:"" help:"Manage volumes: create ls inspect rm prune."`
	Network   NetworkGroup   `cmd:"" help:"Manage networks: create ls inspect rm prune connect disconnect."`
	DB        DBGroup        `cmd:"" name:"db" help:"Database containers: db run, db shell."`
}

// ContainerGroup is `container <sub>` under Docker's names.
type ContainerGroup struct {
	Ls      PsCmd             `cmd:"" aliases:"list,ps" help:"List containers."`
	Run     RunCmd            `cmd:"" help:"Create and start a container."`
	Create  CreateCmd         `cmd:"" help:"Create a container."`
	Start   StartCmd          `cmd:"" help:"Start containers."`
	Stop    StopCmd           `cmd:"" help:"Stop containers."`
	Kill    KillCmd           `cmd:"" help:"Send a signal to containers."`
	Restart RestartCmd        `cmd:"" help:"Restart containers."`
	Rm      RmCmd             `cmd:"" aliases:"remove" help:"Remove containers."`
	Inspect InspectCmd        `cmd:"" help:"Show containers as JSON."`
	Logs    LogsCmd           `cmd:"" help:"Show a container's output."`
	Exec    ExecCmd           `cmd:"" help:"Run a command in a running container."`
	Attach  AttachCmd         `cmd:"" help:"Attach to a running container."`
	Wait    WaitCmd           `cmd:"" help:"Wait for containers to stop."`
	Cp      CpCmd             `cmd:"" help:"Copy files between a container and the host."`
	Rename  RenameCmd         `cmd:"" help:"Rename a container."`
	Pause   PauseCmd          `cmd:"" help:"Freeze containers."`
	Unpause UnpauseCmd        `cmd:"" help:"Thaw containers."`
	Port    PortCmd           `cmd:"" help:"Show published ports."`
	Stats   StatsCmd          `cmd:"" help:"Show resource usage."`
	Top     TopCmd            `cmd:"" help:"Show a container's processes."`
	Diff    DiffCmd           `cmd:"" help:"Show a container's filesystem changes."`
	Export  ExportCmd         `cmd:"" help:"Write a container's filesystem as a tar."`
	Update  UpdateCmd         `cmd:"" help:"Change containers' limits."`
	Commit  CommitCmd         `cmd:"" help:"Make an image of a container's changes."`
	Prune   ContainerPruneCmd `cmd:"" help:"Remove all stopped containers."`
}

// eachRef runs fn for every reference, past failures: each success prints the
// reference as given, each failure one [error] line; exit 1 if any failed. An unreachable
// daemon stops at once (every other reference would fail the same way).
func eachRef(out *Output, refs []string, fn func(ref string) error) error {
	failed := false
	for _, r := range refs {
		if err := fn(r); err != nil {
			var ue *client.UnreachableError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(out.Stderr, "[error] %s: %v\n", r, err)
			failed = true
			continue
		}
		fmt.Fprintln(out.Stdout, r)
	}
	if failed {
		return &errdefs.ExitError{Code: 1, Silent: true}
	}
	return nil
}

// StartCmd is `start [-a] [-i] <ctr>...`.
type StartCmd struct {
	Attach      bool     `short:"a" help:"Attach stdout/stderr and exit with the container's code."`
	Interactive bool     `short:"i" help:"Attach stdin too."`
	Containers  []string `arg:"" name:"container" help:"Containers (name, ID or unique prefix)."`
}

func (c *StartCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	if c.Attach || c.Interactive {
		if len(c.Containers) != 1 {
			return usageError("start -a/-i takes one container; start the others without -a")
		}
		return startAttached(ctx, api, out, c.Containers[0], c.Interactive)
	}
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerStart(ctx, r) })
}

// StopCmd is `stop [-t N] <ctr>...`.
type StopCmd struct {
	Time       *int     `short:"t" name:"time" help:"Seconds to wait before SIGKILL (default: the container's, 10)."`
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *StopCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	if c.Time != nil && *c.Time < 0 && *c.Time != -1 {
		return usageError("-t %d: expected seconds (0 or more, -1 waits forever)", *c.Time)
	}
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerStop(ctx, r, c.Time) })
}

// RestartCmd is `restart [-t N] <ctr>...`.
type RestartCmd struct {
	Time       *int     `short:"t" name:"time" help:"Seconds to wait before SIGKILL."`
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *RestartCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerRestart(ctx, r, c.Time) })
}

// KillCmd is `kill [-s SIG] <ctr>...`.
type KillCmd struct {
	Signal     string   `short:"s" default:"KILL" help:"Signal (KILL, SIGKILL or 9)."`
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *KillCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	if err := checkSignal(c.Signal); err != nil {
		return err
	}
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerKill(ctx, r, c.Signal) })
}

// checkSignal accepts a name with or without SIG, or a number 1-64; the daemon decides
// which names exist.
func checkSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return usageError("-s %s: signal numbers go from 1 to 64", s)
		}
		return nil
	}
	t := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if t == "" || strings.Trim(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-") != "" {
		return usageError("-s %s: not a signal; use a name (TERM, SIGKILL) or a number", s)
	}
	return nil
}

// RmCmd is `rm [-f] [-v] <ctr>...`: prints each name as given.
type RmCmd struct {
	Force      bool     `short:"f" help:"Kill a running container first."`
	Volumes    bool     `short:"v" help:"Also remove its anonymous volumes (named ones never)."`
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *RmCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return eachRef(out, c.Containers, func(r string) error {
		err := api.ContainerRemove(ctx, r, c.Force, c.Volumes)
		if errors.Is(err, errdefs.ErrConflict) && !c.Force && !strings.Contains(err.Error(), "-f") {
			return fmt.Errorf("%v; stop it first or use rm -f", err)
		}
		return err
	})
}

// PauseCmd is `pause <ctr>...`.
type PauseCmd struct {
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *PauseCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerPause(ctx, r) })
}

// UnpauseCmd is `unpause <ctr>...`.
type UnpauseCmd struct {
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *UnpauseCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return eachRef(out, c.Containers, func(r string) error { return api.ContainerUnpause(ctx, r) })
}

// RenameCmd is `rename <ctr> <new>`.
type RenameCmd struct {
	Container string `arg:"" name:"container" help:"The container."`
	Name      string `arg:"" name:"new-name" help:"Its new name."`
}

func (c *RenameCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return api.ContainerRename(ctx, c.Container, c.Name)
}

// WaitCmd is `wait <ctr>...`: prints each exit code; exits 0 unless a wait failed.
type WaitCmd struct {
	Containers []string `arg:"" name:"container" help:"Containers."`
}

func (c *WaitCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	failed := false
	for _, r := range c.Containers {
		wr, err := api.ContainerWait(ctx, r, client.WaitNotRunning)
		if err != nil {
			var ue *client.UnreachableError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(out.Stderr, "[error] %s: %v\n", r, err)
			failed = true
			continue
		}
		fmt.Fprintln(out.Stdout, wr.ExitCode)
	}
	if failed {
		return &errdefs.ExitError{Code: 1, Silent: true}
	}
	return nil
}

// PortCmd is `port <ctr> [port[/proto]]`.
type PortCmd struct {
	Container string `arg:"" name:"container" help:"The container."`
	Port      string `arg:"" optional:"" name:"port" help:"A container port, 80 or 80/udp."`
}

func (c *PortCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	ins, err := api.ContainerInspect(ctx, c.Container)
	if err != nil {
		return err
	}
	type row struct {
		port, proto int
		key, addr   string
	}
	var rows []row
	add := func(ctrPort int, proto, ip string, hostPort string) {
		if proto == "" {
			proto = "tcp"
		}
		if ip == "" {
			ip = "0.0.0.0"
		}
		p := 0
		if proto == "udp" {
			p = 1
		}
		rows = append(rows, row{ctrPort, p, fmt.Sprintf("%d/%s", ctrPort, proto), ip + ":" + hostPort})
	}
	if len(ins.NetworkSettings.Ports) > 0 {
		for k, hs := range ins.NetworkSettings.Ports {
			ps, proto, _ := strings.Cut(k, "/")
			n, _ := strconv.Atoi(ps)
			for _, h := range hs {
				add(n, proto, h.HostIP, h.HostPort)
			}
		}
	} else {
		for _, b := range ins.HostConfig.PortBindings {
			add(b.ContainerPort, b.Protocol, b.HostIP, strconv.Itoa(b.HostPort))
		}
	}
	sortSlice(rows, func(a, b row) bool {
		if a.port != b.port {
			return a.port < b.port
		}
		if a.proto != b.proto {
			return a.proto < b.proto
		}
		return a.addr < b.addr
	})
	if c.Port != "" {
		want := c.Port
		if !strings.Contains(want, "/") {
			want += "/tcp"
		}
		found := false
		for _, r := range rows {
			if r.key == want {
				fmt.Fprintln(out.Stdout, r.addr)
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no public port %s published for %s; see \"minibox port %s\"", want, c.Container, c.Container)
		}
		return nil
	}
	for _, r := range rows {
		fmt.Fprintf(out.Stdout, "%s -> %s\n", r.key, r.addr)
	}
	return nil
}
