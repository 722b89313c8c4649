package dockerapi

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
)

func networkOfAPI(n *api.Network) network.Inspect {
	out := network.Inspect{Network: network.Network{Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local",
		Driver: n.Driver, EnableIPv4: true, Internal: n.Internal, Attachable: !n.Predefined, Labels: n.Labels,
		Options: map[string]string{}, IPAM: network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}}},
		Containers: map[string]network.EndpointResource{}}
	if n.Bridge != "" {
		out.Options["com.docker.network.bridge.name"] = n.Bridge
	}
	if p, err := netip.ParsePrefix(n.Subnet); err == nil {
		c := network.IPAMConfig{Subnet: p}
		c.Gateway, _ = netip.ParseAddr(n.Gateway)
		out.IPAM.Config = append(out.IPAM.Config, c)
	}
	for id, c := range n.Containers {
		ep := network.EndpointResource{Name: c.Name, EndpointID: id, MacAddress: mac(c.MacAddress)}
		ep.IPv4Address, _ = netip.ParsePrefix(c.IPv4Address)
		out.Containers[id] = ep
	}
	return out
}

func (s *Server) networkList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	list, err := s.eng.Networks()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := []network.Inspect{}
	for i := range list {
		n := &list[i]
		if !matchAny(f["name"], func(v string) bool { return strings.Contains(n.Name, v) }) ||
			!matchAny(f["id"], func(v string) bool { return strings.HasPrefix(n.ID, v) }) ||
			!matchAny(f["driver"], func(v string) bool { return n.Driver == v }) ||
			!matchLabels(n.Labels, f["label"]) ||
			!matchAny(f["type"], func(v string) bool { return v == "custom" && !n.Predefined || v == "builtin" && n.Predefined }) {
			continue
		}
		out = append(out, networkOfAPI(n))
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func matchAny(vs []string, ok func(string) bool) bool {
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if ok(v) {
			return true
		}
	}
	return false
}

func matchLabels(have map[string]string, want []string) bool {
	for _, l := range want {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := have[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

func (s *Server) networkInspect(ctx *fasthttp.RequestCtx) {
	n, err := s.eng.Network(param(ctx, "id"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, networkOfAPI(n))
}

// networkCreateRequest is Docker's create body (the wire types leave it to the client).
type networkCreateRequest struct {
	Name       string
	Driver     string
	Internal   bool
	Attachable bool
	EnableIPv6 *bool
	IPAM       *network.IPAM
	Options    map[string]string
	Labels     map[string]string
}

func (s *Server) networkCreate(ctx *fasthttp.RequestCtx) {
	var in networkCreateRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	if in.Name == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "Name: a network name is required")
		return
	}
	if in.Driver != "" && in.Driver != "bridge" {
		writeErr(ctx, fasthttp.StatusBadRequest, "Driver: "+in.Driver+" is not supported by minibox (bridge only)")
		return
	}
	if in.EnableIPv6 != nil && *in.EnableIPv6 {
		writeErr(ctx, fasthttp.StatusBadRequest, "EnableIPv6: IPv6 networks are not supported by minibox")
		return
	}
	req := api.NetworkCreateRequest{Name: in.Name, Driver: "bridge", Internal: in.Internal, Labels: in.Labels}
	if in.IPAM != nil {
		if len(in.IPAM.Config) > 1 {
			writeErr(ctx, fasthttp.StatusBadRequest, "IPAM.Config: one subnet per network")
			return
		}
		if len(in.IPAM.Config) == 1 {
			c := in.IPAM.Config[0]
			if c.Subnet.IsValid() {
				req.Subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				req.Gateway = c.Gateway.String()
			}
		}
	}
	n, err := s.eng.CreateNetwork(s.ctx, req)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, network.CreateResponse{ID: n.ID})
}

func (s *Server) networkDelete(ctx *fasthttp.RequestCtx) {
	if err := s.eng.RemoveNetwork(s.ctx, param(ctx, "id")); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) networkPrune(ctx *fasthttp.RequestCtx) {
	res, err := s.eng.PruneNetworks(s.ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := network.PruneReport{NetworksDeleted: res.Removed}
	if out.NetworksDeleted == nil {
		out.NetworksDeleted = []string{}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) networkConnect(ctx *fasthttp.RequestCtx) {
	var in network.ConnectRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	if in.Container == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "Container: a container is required")
		return
	}
	req := api.NetworkConnectRequest{Network: param(ctx, "id"), Container: in.Container}
	if ep := in.EndpointConfig; ep != nil {
		req.Aliases = ep.Aliases
		if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
			req.IP = ep.IPAMConfig.IPv4Address.String()
		}
	}
	if err := s.eng.ConnectNetwork(s.ctx, req); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

func (s *Server) networkDisconnect(ctx *fasthttp.RequestCtx) {
	var in network.DisconnectRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	if err := s.eng.DisconnectNetwork(s.ctx, param(ctx, "id"), in.Container, in.Force); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

func volumeOf(v api.Volume) volume.Volume {
	out := volume.Volume{Name: v.Name, Driver: "local", Mountpoint: v.Mountpoint, Labels: v.Labels, Scope: "local",
		Options: map[string]string{}, UsageData: &volume.UsageData{RefCount: int64(len(v.UsedBy)), Size: -1}}
	if !v.CreatedAt.IsZero() {
		out.CreatedAt = v.CreatedAt.UTC().Format(time.RFC3339)
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
}

func (s *Server) volumeList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	vs, err := s.eng.Volumes()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := volume.ListResponse{Volumes: []volume.Volume{}, Warnings: []string{}}
	for _, v := range vs {
		if !matchAny(f["name"], func(n string) bool { return strings.Contains(v.Name, n) }) ||
			!matchLabels(v.Labels, f["label"]) ||
			!matchAny(f["dangling"], func(d string) bool { return (d == "true" || d == "1") == (len(v.UsedBy) == 0) }) {
			continue
		}
		out.Volumes = append(out.Volumes, volumeOf(v))
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) volumeInspect(ctx *fasthttp.RequestCtx) {
	v, err := s.eng.Volume(param(ctx, "name"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, volumeOf(v))
}

func (s *Server) volumeCreate(ctx *fasthttp.RequestCtx) {
	var in volume.CreateRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	if in.Driver != "" && in.Driver != "local" {
		writeErr(ctx, fasthttp.StatusBadRequest, "Driver: "+in.Driver+" is not supported by minibox (local only)")
		return
	}
	if len(in.DriverOpts) > 0 {
		writeErr(ctx, fasthttp.StatusBadRequest, "DriverOpts: volume options are not supported by minibox")
		return
	}
	v, err := s.eng.CreateVolume(api.VolumeCreateRequest{Name: in.Name, Labels: in.Labels})
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, volumeOf(v))
}

func (s *Server) volumeDelete(ctx *fasthttp.RequestCtx) {
	if err := s.eng.RemoveVolume(param(ctx, "name"), queryBool(ctx, "force")); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// volumePrune removes unused volumes: anonymous ones, and named ones with all=true
// (Docker's default since API 1.42).
func (s *Server) volumePrune(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	all := matchAny(f["all"], func(v string) bool { return v == "true" || v == "1" }) && len(f["all"]) > 0
	vs, err := s.eng.Volumes()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range vs {
		if len(v.UsedBy) > 0 || !v.Anonymous && !all || !matchLabels(v.Labels, f["label"]) {
			continue
		}
		if err := s.eng.RemoveVolume(v.Name, false); err == nil {
			out.VolumesDeleted = append(out.VolumesDeleted, v.Name)
		} else if !errors.Is(err, errdefs.ErrConflict) {
			writeError(ctx, err)
			return
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}
