package minibox

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
)

// NetworkGroup is `network create|ls|inspect|rm|prune|connect|disconnect`.
type NetworkGroup struct {
	Create     NetworkCreateCmd     `cmd:"" help:"Create a network: a bridge of its own with its own subnet."`
	Ls         NetworkLsCmd         `cmd:"" aliases:"list" help:"List networks."`
	Inspect    NetworkInspectCmd    `cmd:"" help:"Show networks as JSON."`
	Rm         NetworkRmCmd         `cmd:"" aliases:"remove" help:"Remove networks no container is on."`
	Prune      NetworkPruneCmd      `cmd:"" help:"Remove every network no container is on."`
	Connect    NetworkConnectCmd    `cmd:"" help:"Put a container on a network (a running one at once)."`
	Disconnect NetworkDisconnectCmd `cmd:"" help:"Take a container off a network."`
}

// NetworkCreateCmd is `network create [--subnet CIDR] [--gateway IP] [--internal] [-l K=V] [-d bridge] NAME`.
type NetworkCreateCmd struct {
	Subnet   string   `placeholder:"CIDR" help:"IPv4 subnet (default: a free /24 from the pool)."`
	Gateway  string   `placeholder:"IP" help:"The bridge's address (default: the subnet's first)."`
	Internal bool     `help:"No route out: containers reach only each other."`
	Label    []string `short:"l" sep:"none" placeholder:"KEY=VAL" help:"Set a label (repeatable)."`
	Driver   string   `short:"d" default:"bridge" help:"Driver (bridge)."`
	Name     string   `arg:"" name:"name" help:"Network name (letters, digits, inner dashes and underscores)."`
}

func (c *NetworkCreateCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	labels, err := keyValues("--label", c.Label, true)
	if err != nil {
		return err
	}
	n, err := cl.NetworkCreate(ctx, &api.NetworkCreateRequest{Name: c.Name, Driver: c.Driver, Subnet: c.Subnet,
		Gateway: c.Gateway, Internal: c.Internal, Labels: labels})
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, n.ID)
	return nil
}

// NetworkLsCmd is `network ls [-q] [--json]`.
type NetworkLsCmd struct {
	Quiet   bool     `short:"q" help:"Print only names."`
	JSON    bool     `help:"Print a JSON array."`
	Filter  []string `short:"f" sep:"none" placeholder:"KEY=VAL" help:"Filter: name=, id=, driver=, label=KEY[=VAL], type=custom|builtin (repeatable)."`
	Format  string   `placeholder:"TEMPLATE" help:"Go template per network ({{.ID}} {{.Name}} {{.Driver}} {{.Subnet}} {{.Internal}} {{.Labels}}...), \"table TEMPLATE\" or json."`
	NoTrunc bool     `name:"no-trunc" help:"Print full network IDs."`
}

func (c *NetworkLsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	if c.JSON && c.Format != "" {
		return usageError("--json and --format: give one of them")
	}
	all, err := cl.NetworkList(ctx)
	if err != nil {
		return err
	}
	ns := []api.Network{}
	for _, n := range all {
		ok, err := networkMatch(c.Filter, n)
		if err != nil {
			return err
		}
		if ok {
			ns = append(ns, n)
		}
	}
	if c.JSON {
		return printJSON(out, ns)
	}
	if c.Quiet {
		for _, n := range ns {
			fmt.Fprintln(out.Stdout, n.Name)
		}
		return nil
	}
	rows := make([]rowContext, len(ns))
	for i, n := range ns {
		rows[i] = &networkContext{n: n, trunc: !c.NoTrunc}
	}
	return formatRows(out, c.Format, "table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Subnet}}\\t{{.Flags}}", &networkContext{}, rows)
}

// networkMatch applies network ls --filter: keys repeat as alternatives, labels must all
// hold, as Docker's.
func networkMatch(filters []string, n api.Network) (bool, error) {
	by := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" && k != "label" {
			return false, usageError("--filter %s: expected KEY=VALUE", f)
		}
		switch k {
		case "name", "id", "driver", "label":
		case "type":
			if v != "custom" && v != "builtin" {
				return false, usageError("--filter type=%s: expected custom or builtin", v)
			}
		default:
			return false, usageError("--filter %s: expected name, id, driver, label or type", k)
		}
		by[k] = append(by[k], v)
	}
	for _, l := range by["label"] {
		k, v, withValue := strings.Cut(l, "=")
		if got, ok := n.Labels[k]; !ok || withValue && got != v {
			return false, nil
		}
	}
	return anyOf(by["name"], func(v string) bool { return strings.Contains(n.Name, v) }) &&
		anyOf(by["id"], func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		anyOf(by["driver"], func(v string) bool { return v == n.Driver }) &&
		anyOf(by["type"], func(v string) bool { return (v == "builtin") == n.Predefined }), nil
}

// networkContext is one network for --format, with Docker's field names.
type networkContext struct {
	header bool
	n      api.Network
	trunc  bool
}

func (c *networkContext) setHeader() { c.header = true }

func (c *networkContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *networkContext) ID() string {
	id := c.n.ID
	if c.trunc && len(id) > 12 {
		id = id[:12]
	}
	return c.pick("NETWORK ID", id)
}
func (c *networkContext) Name() string   { return c.pick("NAME", c.n.Name) }
func (c *networkContext) Driver() string { return c.pick("DRIVER", c.n.Driver) }
func (c *networkContext) Scope() string  { return c.pick("SCOPE", "local") }
func (c *networkContext) Subnet() string {
	if c.n.Subnet == "" {
		return c.pick("SUBNET", "-")
	}
	return c.pick("SUBNET", c.n.Subnet)
}
func (c *networkContext) Flags() string {
	if c.n.Internal {
		return c.pick("FLAGS", "internal")
	}
	return c.pick("FLAGS", "-")
}
func (c *networkContext) Internal() string {
	return c.pick("INTERNAL", strconv.FormatBool(c.n.Internal))
}
func (c *networkContext) IPv6() string   { return c.pick("IPV6", "false") }
func (c *networkContext) Labels() string { return c.pick("LABELS", dockershape.LabelsText(c.n.Labels)) }
func (c *networkContext) Label(k string) string {
	return c.pick("LABEL", c.n.Labels[k])
}
func (c *networkContext) CreatedAt() string {
	return c.pick("CREATED AT", c.n.Created.Format("2006-01-02 15:04:05 -0700 MST"))
}
func (c *networkContext) MarshalJSON() ([]byte, error) { return marshalFields(c) }

// NetworkInspectCmd is `network inspect NAME...`.
type NetworkInspectCmd struct {
	Names []string `arg:"" name:"name" help:"Networks."`
}

func (c *NetworkInspectCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	return inspectEach(out, c.Names, func(n string) (any, error) { return cl.NetworkInspect(ctx, n) })
}

// NetworkRmCmd is `network rm NAME...`.
type NetworkRmCmd struct {
	Names []string `arg:"" name:"name" help:"Networks."`
}

func (c *NetworkRmCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	return eachRef(out, c.Names, func(n string) error { return cl.NetworkRemove(ctx, n) })
}

// NetworkPruneCmd is `network prune`.
type NetworkPruneCmd struct {
	Force bool `short:"f" help:"Do not ask (there is no prompt; accepted for Docker's scripts)."`
}

func (c *NetworkPruneCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	res, err := cl.NetworkPrune(ctx)
	if res != nil && len(res.Removed) > 0 {
		fmt.Fprintln(out.Stdout, "Deleted Networks:\n"+strings.Join(res.Removed, "\n"))
	}
	return err
}

// NetworkConnectCmd is `network connect [--alias A] [--ip IP] NET CTR`.
type NetworkConnectCmd struct {
	Alias     []string `sep:"none" help:"A name the container also has on this network (repeatable)."`
	IP        string   `name:"ip" help:"The container's IPv4 address on this network."`
	Network   string   `arg:"" name:"network" help:"Network."`
	Container string   `arg:"" name:"container" help:"Container."`
}

func (c *NetworkConnectCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	return cl.NetworkConnect(ctx, &api.NetworkConnectRequest{Network: c.Network, Container: c.Container, Aliases: c.Alias, IP: c.IP})
}

// NetworkDisconnectCmd is `network disconnect [-f] NET CTR`.
type NetworkDisconnectCmd struct {
	Force     bool   `short:"f" help:"No error when the container is not on the network."`
	Network   string `arg:"" name:"network" help:"Network."`
	Container string `arg:"" name:"container" help:"Container."`
}

func (c *NetworkDisconnectCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	return cl.NetworkDisconnect(ctx, c.Network, c.Container, c.Force)
}
