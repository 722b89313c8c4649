package minibox

import (
	"context"
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
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
	Quiet bool `short:"q" help:"Print only names."`
	JSON  bool `help:"Print a JSON array."`
}

func (c *NetworkLsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	ns, err := cl.NetworkList(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		if ns == nil {
			ns = []api.Network{}
		}
		return printJSON(out, ns)
	}
	if c.Quiet {
		for _, n := range ns {
			fmt.Fprintln(out.Stdout, n.Name)
		}
		return nil
	}
	var rows [][]string
	for _, n := range ns {
		id := n.ID
		if len(id) > 12 {
			id = id[:12]
		}
		flags := "-"
		if n.Internal {
			flags = "internal"
		}
		subnet := n.Subnet
		if subnet == "" {
			subnet = "-"
		}
		rows = append(rows, []string{id, n.Name, n.Driver, subnet, flags})
	}
	out.Table([]string{"NETWORK ID", "NAME", "DRIVER", "SUBNET", "FLAGS"}, rows)
	return nil
}

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
