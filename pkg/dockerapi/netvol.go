package dockerapi

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/errdefs"
)

// checkFilterKeys refuses a filter key the route does not take, as dockerd does
// ("invalid filter 'x'"), so that a typo is not an empty answer.
func checkFilterKeys(f map[string][]string, keys ...string) error {
	for k := range f {
		ok := false
		for _, want := range keys {
			ok = ok || k == want
		}
		if !ok {
			return errdefs.Invalid(fmt.Sprintf("invalid filter '%s': filters takes %s", k, strings.Join(keys, ", ")))
		}
	}
	return nil
}

// matchAny is true without values, else when one value matches.
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

// matchLabels requires every label filter: "key" present, or "key=value".
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

// boolFilter reads a filter that takes true/false (dangling, all): nil when absent.
func boolFilter(f map[string][]string, key string) (*bool, error) {
	vs := f[key]
	if len(vs) == 0 {
		return nil, nil
	}
	var out *bool
	for _, v := range vs {
		var b bool
		switch strings.ToLower(v) {
		case "true", "1":
			b = true
		case "false", "0":
		default:
			return nil, errdefs.Invalid(fmt.Sprintf("invalid filter '%s=%s': expected true or false", key, v))
		}
		if out != nil && *out != b {
			return nil, errdefs.Invalid(fmt.Sprintf("invalid filter '%s': both true and false", key))
		}
		out = &b
	}
	return out, nil
}

// untilFilter reads prune's until filter (a time or a duration before now).
func untilFilter(f map[string][]string) (time.Time, error) {
	if len(f["until"]) == 0 {
		return time.Time{}, nil
	}
	if len(f["until"]) > 1 {
		return time.Time{}, errdefs.Invalid("invalid filter 'until': give one value")
	}
	t, err := parseDockerTime(f["until"][0], time.Now())
	if err != nil {
		return time.Time{}, errdefs.Invalid("invalid filter 'until': " + errdefs.Message(err))
	}
	return t, nil
}

// ---- networks -----------------------------------------------------------------------

// networkOfAPI converts the engine's network to Docker's. The bridge device is shown only
// for the predefined bridge, as dockerd does: a user network's Options are the ones it
// was created with (compose compares them with its file on every up).
func networkOfAPI(n *api.Network) network.Inspect {
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
	if p, err := netip.ParsePrefix(n.Subnet); err == nil {
		c := network.IPAMConfig{Subnet: p}
		c.Gateway, _ = netip.ParseAddr(n.Gateway)
		out.IPAM.Config = append(out.IPAM.Config, c)
	}
	for id, c := range n.Containers {
		ep := network.EndpointResource{Name: c.Name, EndpointID: endpointID(n.ID, id), MacAddress: dockershape.MAC(c.MacAddress)}
		ep.IPv4Address, _ = netip.ParsePrefix(c.IPv4Address)
		out.Containers[id] = ep
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

var networkFilterKeys = []string{"dangling", "driver", "id", "label", "name", "scope", "type"}

func (s *Server) networkList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = checkFilterKeys(f, networkFilterKeys...)
	}
	var dangling *bool
	if err == nil {
		dangling, err = boolFilter(f, "dangling")
	}
	if err == nil {
		for _, t := range f["type"] {
			if t != "custom" && t != "builtin" {
				err = errdefs.Invalid(fmt.Sprintf("invalid filter 'type=%s': expected custom or builtin", t))
			}
		}
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	list, err := s.eng.Networks()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := []network.Summary{}
	for i := range list {
		n := &list[i]
		if !matchAny(f["name"], func(v string) bool { return strings.Contains(n.Name, v) }) ||
			!matchAny(f["id"], func(v string) bool { return strings.HasPrefix(n.ID, v) }) ||
			!matchAny(f["driver"], func(v string) bool { return n.Driver == v }) ||
			!matchAny(f["scope"], func(v string) bool { return v == "local" }) ||
			!matchLabels(n.Labels, f["label"]) ||
			!matchAny(f["type"], func(v string) bool { return v == "custom" && !n.Predefined || v == "builtin" && n.Predefined }) ||
			dangling != nil && *dangling != (!n.Predefined && len(n.Containers) == 0) {
			continue
		}
		out = append(out, network.Summary{Network: networkOfAPI(n).Network})
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) networkInspect(ctx *fasthttp.RequestCtx) {
	if sc := query(ctx, "scope"); sc != "" && sc != "local" {
		writeErr(ctx, fasthttp.StatusNotFound, fmt.Sprintf("network %s not found in scope %s (minibox has local networks only)", param(ctx, "id"), sc))
		return
	}
	n, err := s.eng.Network(param(ctx, "id"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, networkOfAPI(n))
}

// networkCreateRequest is Docker's create body (the wire types leave it to the client).
type networkCreateRequest struct {
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

// networkCreateOf checks Docker's create body and converts it; what minibox's bridge
// networks cannot do is a 400 naming the field.
func networkCreateOf(in *networkCreateRequest) (api.NetworkCreateRequest, error) {
	bad := func(format string, args ...any) (api.NetworkCreateRequest, error) {
		return api.NetworkCreateRequest{}, errdefs.Invalid(fmt.Sprintf(format, args...))
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
	req := api.NetworkCreateRequest{Name: in.Name, Driver: "bridge", Internal: in.Internal, Labels: in.Labels}
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

func (s *Server) networkCreate(ctx *fasthttp.RequestCtx) {
	var in networkCreateRequest
	err := decodeJSON(ctx, &in)
	var req api.NetworkCreateRequest
	if err == nil {
		req, err = networkCreateOf(&in)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	n, err := s.eng.CreateNetwork(s.ctx, req)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, network.CreateResponse{ID: n.ID})
}

func (s *Server) networkDelete(ctx *fasthttp.RequestCtx) {
	ref := param(ctx, "id")
	// dockerd answers 403 for its predefined networks.
	if n, err := s.eng.Network(ref); err == nil && n.Predefined {
		writeErr(ctx, fasthttp.StatusForbidden, fmt.Sprintf("%s is a pre-defined network and cannot be removed", n.Name))
		return
	}
	if err := s.eng.RemoveNetwork(s.ctx, ref); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// networkPrune removes the user-defined networks no container is on; with filters
// (label, label!, until) only those that match.
func (s *Server) networkPrune(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = checkFilterKeys(f, "label", "label!", "until")
	}
	var until time.Time
	if err == nil {
		until, err = untilFilter(f)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := network.PruneReport{NetworksDeleted: []string{}}
	if len(f) == 0 {
		res, err := s.eng.PruneNetworks(s.ctx)
		if res != nil {
			out.NetworksDeleted = append(out.NetworksDeleted, res.Removed...)
		}
		if err != nil && len(out.NetworksDeleted) == 0 {
			writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, out)
		return
	}
	list, err := s.eng.Networks()
	if err != nil {
		writeError(ctx, err)
		return
	}
	for i := range list {
		n := &list[i]
		if n.Predefined || len(n.Containers) > 0 || !matchLabels(n.Labels, f["label"]) || !notLabels(n.Labels, f["label!"]) ||
			!until.IsZero() && !n.Created.Before(until) {
			continue
		}
		if err := s.eng.RemoveNetwork(s.ctx, n.ID); err == nil {
			out.NetworksDeleted = append(out.NetworksDeleted, n.Name)
		} else if !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			writeError(ctx, err)
			return
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// notLabels is the label! filter: none of the labels may match.
func notLabels(have map[string]string, not []string) bool {
	for _, l := range not {
		if matchLabels(have, []string{l}) {
			return false
		}
	}
	return true
}

func (s *Server) networkConnect(ctx *fasthttp.RequestCtx) {
	var in network.ConnectRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	req := api.NetworkConnectRequest{Network: param(ctx, "id"), Container: in.Container}
	var bad string
	if in.Container == "" {
		bad = "Container: a container is required"
	}
	if ep := in.EndpointConfig; ep != nil && bad == "" {
		req.Aliases = ep.Aliases
		switch {
		case len(ep.Links) > 0:
			bad = "EndpointConfig.Links: links are not supported by minibox (use the network's names)"
		case len(ep.MacAddress) > 0:
			bad = "EndpointConfig.MacAddress: minibox derives a container's MAC address from its IP"
		case len(ep.DriverOpts) > 0:
			bad = "EndpointConfig.DriverOpts: not supported by minibox"
		case ep.IPAMConfig != nil && ep.IPAMConfig.IPv6Address.IsValid():
			bad = "EndpointConfig.IPAMConfig.IPv6Address: IPv6 is not supported by minibox"
		case ep.IPAMConfig != nil && len(ep.IPAMConfig.LinkLocalIPs) > 0:
			bad = "EndpointConfig.IPAMConfig.LinkLocalIPs: not supported by minibox"
		case ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid():
			req.IP = ep.IPAMConfig.IPv4Address.String()
		}
	}
	if bad != "" {
		writeErr(ctx, fasthttp.StatusBadRequest, bad)
		return
	}
	if n, err := s.eng.Network(req.Network); err == nil && n.Predefined {
		if !s.connectPredefined(ctx, n.Name, in.Container) {
			return
		}
		req.Network = n.Name
	}
	if err := s.eng.ConnectNetwork(s.ctx, req); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// connectPredefined answers a connect to host or none, or to bridge of a container
// already on it or sharing another namespace, with dockerd's status and words; a
// container of a user-defined network joins the default bridge (reports whether the
// caller goes on with the connect).
func (s *Server) connectPredefined(ctx *fasthttp.RequestCtx, netName, ref string) bool {
	c, err := ctrview.Inspect(s.eng.InspectContainer(ref))
	if err != nil {
		writeError(ctx, err)
		return false
	}
	mode, name := c.HostConfig.NetworkMode, strings.TrimPrefix(c.Name, "/")
	_, onBridge := c.NetworkSettings.Networks["bridge"]
	switch {
	case netName == "host" || mode == "host" || strings.HasPrefix(mode, "container:"):
		writeErr(ctx, fasthttp.StatusBadRequest, "container sharing network namespace with another container or host cannot be connected to any other network")
	case netName == "none" || mode == "none":
		writeErr(ctx, fasthttp.StatusBadRequest, "container cannot be connected to multiple networks with one of the networks in private (none) mode")
	case mode == "bridge" || mode == "default" || onBridge:
		writeErr(ctx, fasthttp.StatusForbidden, fmt.Sprintf("endpoint with name %s already exists in network bridge", name))
	default:
		return true
	}
	return false
}

func (s *Server) networkDisconnect(ctx *fasthttp.RequestCtx) {
	var in network.DisconnectRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	if in.Container == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "Container: a container is required")
		return
	}
	if err := s.eng.DisconnectNetwork(s.ctx, param(ctx, "id"), in.Container, in.Force); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// ---- volumes ------------------------------------------------------------------------

// volumeOf converts the engine's volume; usage (size and users) is df's, as in dockerd.
func volumeOf(v *api.Volume) volume.Volume {
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

func (s *Server) volumeList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = checkFilterKeys(f, "dangling", "driver", "label", "name")
	}
	var dangling *bool
	if err == nil {
		dangling, err = boolFilter(f, "dangling")
	}
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
	for i := range vs {
		v := &vs[i]
		if !matchAny(f["name"], func(n string) bool { return strings.Contains(v.Name, n) }) ||
			!matchAny(f["driver"], func(d string) bool { return d == "local" }) ||
			!matchLabels(v.Labels, f["label"]) ||
			dangling != nil && *dangling != (len(v.UsedBy) == 0) {
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
	writeJSON(ctx, fasthttp.StatusOK, volumeOf(&v))
}

func (s *Server) volumeCreate(ctx *fasthttp.RequestCtx) {
	var in volume.CreateRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	switch {
	case in.Driver != "" && in.Driver != "local":
		writeErr(ctx, fasthttp.StatusBadRequest, "Driver: "+in.Driver+" is not supported by minibox (local only)")
		return
	case len(in.DriverOpts) > 0:
		writeErr(ctx, fasthttp.StatusBadRequest, "DriverOpts: volume options (type, device, o) are not supported by minibox")
		return
	case in.ClusterVolumeSpec != nil:
		writeErr(ctx, fasthttp.StatusBadRequest, "ClusterVolumeSpec: cluster volumes are not supported by minibox")
		return
	}
	// dockerd answers an existing name with that volume, not a conflict (compose and
	// `docker volume create` rely on it).
	if in.Name != "" {
		if v, err := s.eng.Volume(in.Name); err == nil {
			writeJSON(ctx, fasthttp.StatusCreated, volumeOf(&v))
			return
		}
	}
	v, err := s.eng.CreateVolume(api.VolumeCreateRequest{Name: in.Name, Labels: in.Labels})
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, volumeOf(&v))
}

func (s *Server) volumeDelete(ctx *fasthttp.RequestCtx) {
	if err := s.eng.RemoveVolume(param(ctx, "name"), queryBool(ctx, "force")); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// volumePrune removes unused volumes: anonymous ones, and named ones too with all=true
// or for a client older than API 1.42 (where prune took every unused volume).
func (s *Server) volumePrune(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = checkFilterKeys(f, "label", "label!", "all")
	}
	var all *bool
	if err == nil {
		all, err = boolFilter(f, "all")
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	named := all != nil && *all || all == nil && versionBelow(ctx, "1.42")
	vs, err := s.eng.Volumes()
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range vs {
		if len(v.UsedBy) > 0 || !v.Anonymous && !named || !matchLabels(v.Labels, f["label"]) || !notLabels(v.Labels, f["label!"]) {
			continue
		}
		if err := s.eng.RemoveVolume(v.Name, false); err == nil {
			out.VolumesDeleted = append(out.VolumesDeleted, v.Name)
		} else if !errors.Is(err, errdefs.ErrConflict) && !errors.Is(err, errdefs.ErrNotFound) {
			writeError(ctx, err)
			return
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}
