package dockerapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/ctrview"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/errdefs"
)

// ---- networks -----------------------------------------------------------------------

var networkFilterKeys = []string{"dangling", "driver", "id", "label", "name", "scope", "type"}

func (s *Server) networkList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = dockerconv.CheckFilterKeys(f, networkFilterKeys...)
	}
	var dangling *bool
	if err == nil {
		dangling, err = dockerconv.BoolFilter(f, "dangling")
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
		if !dockerconv.MatchAny(f["name"], func(v string) bool { return strings.Contains(n.Name, v) }) ||
			!dockerconv.MatchAny(f["id"], func(v string) bool { return strings.HasPrefix(n.ID, v) }) ||
			!dockerconv.MatchAny(f["driver"], func(v string) bool { return n.Driver == v }) ||
			!dockerconv.MatchAny(f["scope"], func(v string) bool { return v == "local" }) ||
			!dockerconv.MatchLabels(n.Labels, f["label"]) ||
			!dockerconv.MatchAny(f["type"], func(v string) bool { return v == "custom" && !n.Predefined || v == "builtin" && n.Predefined }) ||
			dangling != nil && *dangling != (!n.Predefined && len(n.Containers) == 0) {
			continue
		}
		out = append(out, network.Summary{Network: dockerconv.Network(n).Network})
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
	writeJSON(ctx, fasthttp.StatusOK, dockerconv.Network(n))
}

func (s *Server) networkCreate(ctx *fasthttp.RequestCtx) {
	var in dockerconv.NetworkCreateRequest
	err := decodeJSON(ctx, &in)
	var req netsvc.CreateOptions
	if err == nil {
		req, err = dockerconv.NetworkCreate(&in)
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
		err = dockerconv.CheckFilterKeys(f, "label", "label!", "until")
	}
	var until time.Time
	if err == nil {
		until, err = dockerconv.UntilFilter(f)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := network.PruneReport{NetworksDeleted: []string{}}
	if len(f) == 0 {
		removed, err := s.eng.PruneNetworks(s.ctx)
		out.NetworksDeleted = append(out.NetworksDeleted, removed...)
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
		if n.Predefined || len(n.Containers) > 0 || !dockerconv.MatchLabels(n.Labels, f["label"]) || !dockerconv.NotLabels(n.Labels, f["label!"]) ||
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

func (s *Server) networkConnect(ctx *fasthttp.RequestCtx) {
	var in network.ConnectRequest
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	req := netsvc.ConnectOptions{Network: param(ctx, "id"), Container: in.Container}
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

func (s *Server) volumeList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err == nil {
		err = dockerconv.CheckFilterKeys(f, "dangling", "driver", "label", "name")
	}
	var dangling *bool
	if err == nil {
		dangling, err = dockerconv.BoolFilter(f, "dangling")
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
		if !dockerconv.MatchAny(f["name"], func(n string) bool { return strings.Contains(v.Name, n) }) ||
			!dockerconv.MatchAny(f["driver"], func(d string) bool { return d == "local" }) ||
			!dockerconv.MatchLabels(v.Labels, f["label"]) ||
			dangling != nil && *dangling != (len(v.UsedBy) == 0) {
			continue
		}
		out.Volumes = append(out.Volumes, dockerconv.Volume(v))
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) volumeInspect(ctx *fasthttp.RequestCtx) {
	v, err := s.eng.Volume(param(ctx, "name"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, dockerconv.Volume(&v))
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
			writeJSON(ctx, fasthttp.StatusCreated, dockerconv.Volume(&v))
			return
		}
	}
	v, err := s.eng.CreateVolume(in.Name, in.Labels)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, dockerconv.Volume(&v))
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
		err = dockerconv.CheckFilterKeys(f, "label", "label!", "all")
	}
	var all *bool
	if err == nil {
		all, err = dockerconv.BoolFilter(f, "all")
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
		if len(v.UsedBy) > 0 || !v.Anonymous && !named || !dockerconv.MatchLabels(v.Labels, f["label"]) || !dockerconv.NotLabels(v.Labels, f["label!"]) {
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
