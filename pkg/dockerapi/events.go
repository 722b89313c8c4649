package dockerapi

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/errdefs"
)

// eventMessage is Docker's event; clients of API 1.51 and older also get the status, id
// and from fields dockerd filled for container and image events (compose 1.x reads them).
type eventMessage struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

func eventOf(ev *engine.Event, legacy bool) eventMessage {
	out := eventMessage{Message: events.Message{Type: events.Type(ev.Type), Action: events.Action(ev.Action),
		Actor: events.Actor{ID: ev.ID, Attributes: ev.Attributes}, Scope: "local",
		Time: ev.Time.Unix(), TimeNano: ev.Time.UnixNano()}}
	if out.Actor.Attributes == nil {
		out.Actor.Attributes = map[string]string{}
	}
	if legacy && (ev.Type == engine.EventContainer || ev.Type == engine.EventImage) {
		out.Status, out.ID = ev.Action, ev.ID
		if ev.Type == engine.EventContainer {
			out.From = ev.Attributes["image"]
		}
	}
	return out
}

// eventFilterOf converts Docker's event filters to the engine's; scope=local is every
// event minibox has.
func eventFilterOf(f map[string][]string) (engine.EventFilter, error) {
	out := engine.EventFilter{}
	for k, vs := range f {
		if k == "scope" {
			for _, v := range vs {
				if v != "local" && v != "swarm" {
					return nil, errdefs.Invalid(fmt.Sprintf("invalid filter 'scope=%s': expected local or swarm", v))
				}
			}
			if len(vs) == 1 && vs[0] == "swarm" {
				out["type"] = append(out["type"], "none") // no swarm events: nothing matches
			}
			continue
		}
		out[k] = vs
	}
	if vs := out["type"]; len(vs) == 1 && vs[0] == "none" {
		return out, nil
	}
	if err := engine.CheckEventFilter(out); err != nil {
		return nil, errdefs.Invalid("filters: " + errdefs.Message(err))
	}
	return out, nil
}

// events streams GET /events: the recent past from since, then live events, until until
// or the client leaves.
func (s *Server) events(ctx *fasthttp.RequestCtx) {
	now := time.Now()
	var since, until time.Time
	f, err := filters(ctx)
	var ef engine.EventFilter
	if err == nil {
		ef, err = eventFilterOf(f)
	}
	if err == nil {
		if since, err = parseDockerTime(query(ctx, "since"), now); err != nil {
			err = errdefs.Invalid("query parameter since: " + errdefs.Message(err))
		}
	}
	if err == nil {
		if until, err = parseDockerTime(query(ctx, "until"), now); err != nil {
			err = errdefs.Invalid("query parameter until: " + errdefs.Message(err))
		}
	}
	if err == nil && !since.IsZero() && !until.IsZero() && until.Before(since) {
		err = errdefs.Invalid("query parameter until: before since")
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	legacy := versionBelow(ctx, "1.52")
	conn := ctx.Conn()
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		w.Flush() // the headers now: the first event may be long in coming
		if vs := ef["type"]; len(vs) == 1 && vs[0] == "none" {
			return
		}
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		enc := json.NewEncoder(w)
		s.eng.Events(opCtx, since, until, ef, func(ev engine.Event) error {
			if err := enc.Encode(eventOf(&ev, legacy)); err != nil {
				return err
			}
			return w.Flush()
		})
	})
}

// diskUsage is GET /system/df in both shapes: the per-object lists (LayersSize, Images,
// ...) up to API 1.52, the per-kind totals (ImageUsage, ...) from 1.52.
type diskUsage struct {
	LayersSize int64                `json:"LayersSize,omitempty"`
	Images     *[]dfImage           `json:"Images,omitempty"`
	Containers *[]container.Summary `json:"Containers,omitempty"`
	Volumes    *[]volume.Volume     `json:"Volumes,omitempty"`
	BuildCache *[]build.CacheRecord `json:"BuildCache,omitempty"`
	ImageUsage *image.DiskUsage     `json:"ImageUsage,omitempty"`
	CtrUsage   *container.DiskUsage `json:"ContainerUsage,omitempty"`
	VolUsage   *volume.DiskUsage    `json:"VolumeUsage,omitempty"`
	BuildUsage *build.DiskUsage     `json:"BuildCacheUsage,omitempty"`
}

// dfImage carries VirtualSize for clients older than API 1.44, which count an image in
// use from it.
type dfImage struct {
	image.Summary
	VirtualSize int64 `json:"VirtualSize,omitempty"`
}

func (s *Server) systemDF(ctx *fasthttp.RequestCtx) {
	want := map[string]bool{}
	for _, t := range ctx.QueryArgs().PeekMulti("type") {
		switch v := system.DiskUsageObject(t); v {
		case system.ContainerObject, system.ImageObject, system.VolumeObject, system.BuildCacheObject:
			want[string(v)] = true
		default:
			writeErr(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("query parameter type: %q is not container, image, volume or build-cache", t))
			return
		}
	}
	all := len(want) == 0
	verbose := queryBool(ctx, "verbose")
	du, err := s.eng.DiskUsage(s.ctx, true)
	if err != nil {
		writeError(ctx, err)
		return
	}
	sizes := map[string]int64{}
	for _, it := range du.Items {
		sizes[it.Kind+"/"+it.Name] = it.SizeBytes
	}
	now := time.Now()
	listed, _ := s.eng.ListContainers(engine.ContainerFilter{})
	users := map[string]int64{}
	var ctrs []container.Summary
	running := int64(0)
	for i := range listed {
		l := &listed[i]
		users[strings.TrimPrefix(l.ImageID, "sha256:")]++
		c := summaryOf(l, now)
		c.SizeRw = sizes["container/"+l.ID[:min(12, len(l.ID))]]
		if l.Status == "running" || l.Status == "paused" || l.Status == "restarting" {
			running++
		}
		ctrs = append(ctrs, c)
	}
	var imgs []image.Summary
	var activeImages, imageReclaim, imageSize int64
	if all || want["image"] {
		list, err := s.eng.ListImages(false)
		if err != nil {
			writeError(ctx, err)
			return
		}
		seen := map[string]int{}
		for _, in := range list {
			n := users[strings.TrimPrefix(in.ID, "sha256:")]
			tag := ""
			if in.Repository != "<none>" && in.Tag != "<none>" {
				tag = in.Repository + ":" + in.Tag
			}
			if i, ok := seen[in.ID]; ok { // one image, several names
				if tag != "" {
					imgs[i].RepoTags = append(imgs[i].RepoTags, tag)
				}
				continue
			}
			seen[in.ID] = len(imgs)
			sum := image.Summary{ID: in.ID, Created: in.Created.Unix(), Size: in.SizeBytes, SharedSize: 0,
				Containers: n, RepoTags: []string{}, RepoDigests: []string{}, Labels: map[string]string{}}
			if tag != "" {
				sum.RepoTags = append(sum.RepoTags, tag)
			}
			imgs = append(imgs, sum)
		}
		for i := range imgs {
			imageSize += imgs[i].Size
			if imgs[i].Containers > 0 {
				activeImages++
			} else {
				imageReclaim += imgs[i].Size
			}
		}
	}
	var vols []volume.Volume
	var activeVols, volSize, volReclaim int64
	if all || want["volume"] {
		vs, err := s.eng.Volumes()
		if err != nil {
			writeError(ctx, err)
			return
		}
		for i := range vs {
			v := volumeOf(&vs[i])
			size := sizes["volume/"+vs[i].Name]
			v.UsageData = &volume.UsageData{Size: size, RefCount: int64(len(vs[i].UsedBy))}
			volSize += size
			if len(vs[i].UsedBy) > 0 {
				activeVols++
			} else {
				volReclaim += size
			}
			vols = append(vols, v)
		}
	}
	var cache []build.CacheRecord
	if all || want["build-cache"] {
		for _, it := range du.Items {
			if it.Kind == "build_cache" {
				cache = append(cache, build.CacheRecord{ID: it.Name, Type: "regular", Description: it.Detail, Size: it.SizeBytes})
			}
		}
	}
	out := diskUsage{}
	if versionBelow(ctx, "1.53") && !(verbose && !versionBelow(ctx, "1.52")) {
		if all || want["image"] {
			legacy := make([]dfImage, len(imgs))
			for i := range imgs {
				legacy[i] = dfImage{Summary: imgs[i]}
				if versionBelow(ctx, "1.44") {
					legacy[i].VirtualSize = imgs[i].Size
				}
			}
			// The CLI takes the reclaimable part as LayersSize less the images in use.
			out.LayersSize, out.Images = imageSize, &legacy
		}
		if all || want["container"] {
			out.Containers = nonNil(ctrs)
		}
		if all || want["volume"] {
			out.Volumes = nonNil(vols)
		}
		if all || want["build-cache"] {
			out.BuildCache = nonNil(cache)
		}
	}
	if !versionBelow(ctx, "1.52") {
		if all || want["image"] {
			out.ImageUsage = &image.DiskUsage{ActiveCount: activeImages, TotalCount: int64(len(imgs)), TotalSize: du.Images.SizeBytes, Reclaimable: imageReclaim}
		}
		if all || want["container"] {
			out.CtrUsage = &container.DiskUsage{ActiveCount: running, TotalCount: int64(len(ctrs)), TotalSize: du.Containers.SizeBytes, Reclaimable: du.Containers.ReclaimableBytes}
		}
		if all || want["volume"] {
			out.VolUsage = &volume.DiskUsage{ActiveCount: activeVols, TotalCount: int64(len(vols)), TotalSize: volSize, Reclaimable: volReclaim}
		}
		if all || want["build-cache"] {
			out.BuildUsage = &build.DiskUsage{TotalCount: int64(len(cache)), TotalSize: du.BuildCache.SizeBytes, Reclaimable: du.BuildCache.ReclaimableBytes}
		}
		if verbose {
			if out.ImageUsage != nil {
				out.ImageUsage.Items = imgs
			}
			if out.CtrUsage != nil {
				out.CtrUsage.Items = ctrs
			}
			if out.VolUsage != nil {
				out.VolUsage.Items = vols
			}
			if out.BuildUsage != nil {
				out.BuildUsage.Items = cache
			}
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func nonNil[T any](s []T) *[]T {
	if s == nil {
		s = []T{}
	}
	return &s
}

// auth is POST /auth: the engine logs in to the registry once to check the credentials
// (it keeps none: clients send them with each pull and push).
func (s *Server) auth(ctx *fasthttp.RequestCtx) {
	var in registry.AuthConfig
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	user, pass := in.Username, in.Password
	if user == "" && in.Auth != "" {
		b, err := base64.StdEncoding.DecodeString(in.Auth)
		u, p, ok := strings.Cut(string(b), ":")
		if err != nil || !ok {
			writeErr(ctx, fasthttp.StatusBadRequest, "auth: expected base64 of user:password")
			return
		}
		user, pass = u, p
	}
	if in.IdentityToken != "" || in.RegistryToken != "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "identitytoken, registrytoken: token logins are not supported by minibox; send a username and password")
		return
	}
	if user == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "username: required")
		return
	}
	reg := in.ServerAddress
	if reg == "" {
		reg = "docker.io" // dockerd's default, the CLI's https://index.docker.io/v1/
	}
	if err := s.eng.CheckRegistryAuth(s.ctx, api.AuthRequest{Registry: reg, Username: user, Password: pass}); err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}
