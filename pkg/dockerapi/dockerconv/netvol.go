package dockerconv

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"

	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/errdefs"
)

// Network converts the engine's network to Docker's. The bridge device is shown only
// for the predefined bridge, as dockerd does: a user network's Options are the ones it
// was created with (compose compares them with its file on every up).
func Network(n *netsvc.Network) network.Inspect {
	out := network.Inspect{Network: network.Network{Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local",
		Driver: n.Driver, EnableIPv4: n.Driver == "bridge", Internal: n.Internal, Attachable: !n.Predefined,
		Labels: n.Labels, Options: map[string]string{},
		IPAM: network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}}},
		Containers: map[string]network.EndpointResource{}}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if n.Predefined && n.Bridge != "" {
		out.Options["com.docker.network.bridge.name"] = n.Bridge
		out.Options["com.docker.network.bridge.default_bridge"] = "true"
	}
	if n.Subnet.IsValid() {
		out.IPAM.Config = append(out.IPAM.Config, network.IPAMConfig{Subnet: n.Subnet, Gateway: n.Gateway})
	}
	for id, c := range n.Containers {
		out.Containers[id] = network.EndpointResource{Name: c.Name, EndpointID: endpointID(n.ID, id), IPv4Address: c.Addr,
			MacAddress: network.HardwareAddr(c.MAC)}
	}
	return out
}

// endpointID names a container's endpoint on a network, stably (Docker's is a random
// 64-hex ID; clients only compare it).
func endpointID(netID, ctrID string) string {
	n, c := netID, ctrID
	if len(n) > 32 {
		n = n[:32]
	}
	if len(c) > 32 {
		c = c[:32]
	}
	return n + c
}

// NetworkCreateRequest is Docker's create body (the wire types leave it to the client).
type NetworkCreateRequest struct {
	Name           string
	CheckDuplicate *bool
	Driver         string
	Scope          string
	EnableIPv4     *bool
	EnableIPv6     *bool
	IPAM           *network.IPAM
	Internal       bool
	Attachable     bool
	Ingress        bool
	ConfigOnly     bool
	ConfigFrom     *network.ConfigReference
	Options        map[string]string
	Labels         map[string]string
}

// NetworkCreate checks Docker's create body and converts it; what minibox's bridge
// networks cannot do is a 400 naming the field.
func NetworkCreate(in *NetworkCreateRequest) (netsvc.CreateOptions, error) {
	bad := func(format string, args ...any) (netsvc.CreateOptions, error) {
		return netsvc.CreateOptions{}, errdefs.Invalid(fmt.Sprintf(format, args...))
	}
	switch {
	case strings.TrimSpace(in.Name) == "":
		return bad("Name: a network name is required")
	case in.Driver != "" && in.Driver != "bridge":
		return bad("Driver: %s is not supported by minibox (bridge only)", in.Driver)
	case in.Scope != "" && in.Scope != "local":
		return bad("Scope: %s is not supported by minibox (local only)", in.Scope)
	case in.EnableIPv4 != nil && !*in.EnableIPv4:
		return bad("EnableIPv4: minibox's networks are IPv4 networks")
	case in.EnableIPv6 != nil && *in.EnableIPv6:
		return bad("EnableIPv6: IPv6 networks are not supported by minibox")
	case in.Ingress:
		return bad("Ingress: swarm's ingress network is not supported by minibox")
	case in.ConfigOnly || in.ConfigFrom != nil && in.ConfigFrom.Network != "":
		return bad("ConfigOnly, ConfigFrom: configuration-only networks are not supported by minibox")
	}
	if len(in.Options) > 0 {
		keys := make([]string, 0, len(in.Options))
		for k := range in.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return bad("Options: minibox's bridge networks take no driver options (got %s)", strings.Join(keys, ", "))
	}
	req := netsvc.CreateOptions{Name: in.Name, Driver: "bridge", Internal: in.Internal, Labels: in.Labels}
	if in.IPAM == nil {
		return req, nil
	}
	if in.IPAM.Driver != "" && in.IPAM.Driver != "default" {
		return bad("IPAM.Driver: %s is not supported by minibox (default only)", in.IPAM.Driver)
	}
	if len(in.IPAM.Options) > 0 {
		return bad("IPAM.Options: IPAM options are not supported by minibox")
	}
	if len(in.IPAM.Config) > 1 {
		return bad("IPAM.Config: minibox's networks have one subnet")
	}
	if len(in.IPAM.Config) == 1 {
		c := in.IPAM.Config[0]
		switch {
		case c.Subnet.IsValid() && !c.Subnet.Addr().Is4():
			return bad("IPAM.Config.Subnet: %s is not an IPv4 subnet", c.Subnet)
		case c.IPRange.IsValid():
			return bad("IPAM.Config.IPRange: address ranges are not supported by minibox")
		case len(c.AuxAddress) > 0:
			return bad("IPAM.Config.AuxiliaryAddresses: not supported by minibox")
		case c.Gateway.IsValid() && !c.Subnet.IsValid():
			return bad("IPAM.Config.Gateway: needs a Subnet")
		}
		if c.Subnet.IsValid() {
			req.Subnet = c.Subnet.String()
		}
		if c.Gateway.IsValid() {
			req.Gateway = c.Gateway.String()
		}
	}
	return req, nil
}

// Volume converts the engine's volume; usage (size and users) is df's, as in dockerd.
func Volume(v *volumesvc.Volume) volume.Volume {
	out := volume.Volume{Name: v.Name, Driver: "local", Mountpoint: v.Mountpoint, Labels: v.Labels, Scope: "local",
		Options: map[string]string{}}
	if !v.CreatedAt.IsZero() {
		out.CreatedAt = v.CreatedAt.Format(time.RFC3339)
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if v.Anonymous {
		// dockerd marks the volumes it named itself.
		out.Labels = map[string]string{"com.docker.volume.anonymous": ""}
		for k, val := range v.Labels {
			out.Labels[k] = val
		}
	}
	return out
}
