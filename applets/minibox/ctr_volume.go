package minibox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/errdefs"
)

// VolumeGroup is `volume create|ls|inspect|rm`.
type VolumeGroup struct {
	Create  VolumeCreateCmd  `cmd:"" help:"Create a volume (a random 64-hex name if none)."`
	Ls      VolumeLsCmd      `cmd:"" aliases:"list" help:"List volumes."`
	Inspect VolumeInspectCmd `cmd:"" help:"Show volumes as JSON."`
	Rm      VolumeRmCmd      `cmd:"" aliases:"remove" help:"Remove volumes (-f: even if containers refer to them)."`
	Prune   VolumePruneCmd   `cmd:"" help:"Remove anonymous volumes no container uses (-a: named ones too)."`
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

// VolumeLsCmd is `volume ls [-q] [--filter k=v]... [--format F|--json]`.
type VolumeLsCmd struct {
	Quiet  bool     `short:"q" help:"Print only names."`
	JSON   bool     `help:"Print a JSON array."`
	Filter []string `short:"f" sep:"none" placeholder:"KEY=VAL" help:"Filter: name=, label=KEY[=VAL], dangling=true|false, driver=local (repeatable)."`
	Format string   `placeholder:"TEMPLATE" help:"Go template per volume ({{.Name}} {{.Driver}} {{.Mountpoint}} {{.Labels}}), \"table TEMPLATE\" or json."`
}

// volumeMatch applies volume ls --filter: keys repeat as alternatives, labels must all hold.
func volumeMatch(filters []string, v api.Volume) (bool, error) {
	by := map[string][]string{}
	for _, kv := range filters {
		k, val, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return false, usageError("--filter %s: expected KEY=VALUE (name, label, dangling, driver)", kv)
		case k == "dangling" && val != "true" && val != "false" && val != "1" && val != "0":
			return false, usageError("--filter dangling=%s: expected true or false", val)
		case k != "name" && k != "label" && k != "dangling" && k != "driver":
			return false, usageError("--filter %s: unknown key %q; use name, label, dangling or driver", kv, k)
		}
		by[k] = append(by[k], val)
	}
	driver := v.Driver
	if driver == "" {
		driver = "local"
	}
	ok := anyOf(by["name"], func(n string) bool { return strings.Contains(v.Name, n) }) &&
		anyOf(by["driver"], func(d string) bool { return d == driver }) &&
		anyOf(by["dangling"], func(d string) bool { return (d == "true" || d == "1") == (len(v.UsedBy) == 0) })
	for _, l := range by["label"] {
		k, want, hasV := strings.Cut(l, "=")
		got, has := v.Labels[k]
		ok = ok && has && (!hasV || got == want)
	}
	return ok, nil
}

// volumeContext is one volume for --format, with Docker's field names.
type volumeContext struct {
	header bool
	v      api.Volume
}

func (c *volumeContext) setHeader() { c.header = true }

func (c *volumeContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *volumeContext) Name() string { return c.pick("VOLUME NAME", c.v.Name) }
func (c *volumeContext) Driver() string {
	d := c.v.Driver
	if d == "" {
		d = "local"
	}
	return c.pick("DRIVER", d)
}
func (c *volumeContext) Mountpoint() string { return c.pick("MOUNTPOINT", c.v.Mountpoint) }
func (c *volumeContext) Labels() string     { return c.pick("LABELS", dockershape.LabelsText(c.v.Labels)) }
func (c *volumeContext) Label(k string) string {
	return c.pick("LABEL", c.v.Labels[k])
}
func (c *volumeContext) Scope() string { return c.pick("SCOPE", "local") }
func (c *volumeContext) UsedBy() string {
	var ids []string
	for _, u := range c.v.UsedBy {
		ids = append(ids, short(u))
	}
	if len(ids) == 0 {
		return c.pick("USED BY", "-")
	}
	return c.pick("USED BY", strings.Join(ids, ","))
}
func (c *volumeContext) MarshalJSON() ([]byte, error) { return marshalFields(c) }

func (c *VolumeLsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	if c.JSON && c.Format != "" {
		return usageError("--json and --format: give one of them")
	}
	all, err := cl.VolumeList(ctx)
	if err != nil {
		return err
	}
	vs := []api.Volume{}
	for _, v := range all {
		ok, err := volumeMatch(c.Filter, v)
		if err != nil {
			return err
		}
		if ok {
			vs = append(vs, v)
		}
	}
	sortSlice(vs, func(a, b api.Volume) bool { return a.Name < b.Name })
	if c.JSON {
		return printJSON(out, vs)
	}
	if c.Quiet {
		for _, v := range vs {
			fmt.Fprintln(out.Stdout, v.Name)
		}
		return nil
	}
	rows := make([]rowContext, len(vs))
	for i, v := range vs {
		rows[i] = &volumeContext{v: v}
	}
	return formatRows(out, c.Format, "table {{.Driver}}\\t{{.Name}}\\t{{.UsedBy}}", &volumeContext{}, rows)
}

// VolumeInspectCmd is `volume inspect <name>...`.
type VolumeInspectCmd struct {
	Names []string `arg:"" name:"name" help:"Volumes."`
}

func (c *VolumeInspectCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	return inspectEach(out, c.Names, func(n string) (any, error) { return api.VolumeInspect(ctx, n) })
}

// inspectEach prints one JSON list of what inspect returns for each name; a name that
// fails is reported on stderr and the others still print (exit 1 then). An unreachable
// daemon ends it at once.
func inspectEach(out *Output, names []string, inspect func(string) (any, error)) error {
	all := []any{}
	failed := false
	for _, n := range names {
		v, err := inspect(n)
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
