package minibox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

// VolumeGroup is `volume create|ls|inspect|rm`.
type VolumeGroup struct {
	Create  VolumeCreateCmd  `cmd:"" help:"Create a volume (a random 64-hex name if none)."`
	Ls      VolumeLsCmd      `cmd:"" aliases:"list" help:"List volumes."`
	Inspect VolumeInspectCmd `cmd:"" help:"Show volumes as JSON."`
	Rm      VolumeRmCmd      `cmd:"" aliases:"remove" help:"Remove volumes (-f: even if containers refer to them)."`
}

// VolumeCreateCmd is `volume create [-l K=V]... [name]`.
type VolumeCreateCmd struct {
	Label []string `short:"l" sep:"none" placeholder:"KEY=VAL" help:"Set a label (repeatable)."`
	Name  string   `arg:"" optional:"" name:"name" help:"Volume name."`
}

func (c *VolumeCreateCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	labels, err := keyValues("--label", c.Label, true)
	if err != nil {
		return err
	}
	v, err := api.VolumeCreate(ctx, &apiVolumeCreate{Name: c.Name, Labels: labels})
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, v.Name)
	return nil
}

type apiVolumeCreate = api.VolumeCreateRequest

// VolumeLsCmd is `volume ls [-q] [--json]`.
type VolumeLsCmd struct {
	Quiet bool `short:"q" help:"Print only names."`
	JSON  bool `help:"Print a JSON array."`
}

func (c *VolumeLsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	vs, err := cl.VolumeList(ctx)
	if err != nil {
		return err
	}
	sortSlice(vs, func(a, b api.Volume) bool { return a.Name < b.Name })
	if c.JSON {
		if vs == nil {
			vs = []api.Volume{}
		}
		return printJSON(out, vs)
	}
	if c.Quiet {
		for _, v := range vs {
			fmt.Fprintln(out.Stdout, v.Name)
		}
		return nil
	}
	var rows [][]string
	for _, v := range vs {
		driver := v.Driver
		if driver == "" {
			driver = "local"
		}
		used := "-"
		if len(v.UsedBy) > 0 {
			var ids []string
			for _, u := range v.UsedBy {
				ids = append(ids, short(u))
			}
			used = strings.Join(ids, ",")
		}
		rows = append(rows, []string{driver, v.Name, used})
	}
	out.Table([]string{"DRIVER", "VOLUME NAME", "USED BY"}, rows)
	return nil
}

// VolumeInspectCmd is `volume inspect <name>...`.
type VolumeInspectCmd struct {
	Names []string `arg:"" name:"name" help:"Volumes."`
}

func (c *VolumeInspectCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	all := []any{}
	failed := false
	for _, n := range c.Names {
		v, err := api.VolumeInspect(ctx, n)
		if err != nil {
			var ue *client.UnreachableError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(out.Stderr, "[error] %s: %v\n", n, err)
			failed = true
			continue
		}
		all = append(all, v)
	}
	if err := printJSON(out, all); err != nil {
		return err
	}
	if failed {
		return &errdefs.ExitError{Code: 1, Silent: true}
	}
	return nil
}

// VolumeRmCmd is `volume rm [-f] <name>...`.
type VolumeRmCmd struct {
	Force bool     `short:"f" help:"Remove even if containers refer to it."`
	Names []string `arg:"" name:"name" help:"Volumes."`
}

func (c *VolumeRmCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return eachRef(out, c.Names, func(n string) error {
		err := api.VolumeRemove(ctx, n, c.Force)
		if errors.Is(err, errdefs.ErrConflict) && !c.Force && !strings.Contains(err.Error(), "-f") {
			return fmt.Errorf("%v; remove its containers first or use volume rm -f", err)
		}
		return err
	})
}
