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
	want, err := dfTypes(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	du, err := s.eng.DiskUsage(s.ctx, true)
	if err != nil {
		writeError(ctx, err)
		return
	}
	d := &dfReport{want: want, du: du, sizes: map[string]int64{}}
	for _, it := range du.Items {
		d.sizes[it.Kind+"/"+it.Name] = it.SizeBytes
	}
	d.containers(s.eng)
	if d.wants("image") {
		if err := d.images(s.eng); err != nil {
			writeError(ctx, err)
			return
		}
	}
	if d.wants("volume") {
		if err := d.volumes(s.eng); err != nil {
			writeError(ctx, err)
			return
		}
	}
	if d.wants("build-cache") {
		for _, it := range du.Items {
			if it.Kind == "build_cache" {
				d.cache = append(d.cache, build.CacheRecord{ID: it.Name, Type: "regular", Description: it.Detail, Size: it.SizeBytes})
			}
		}
	}
	verbose := queryBool(ctx, "verbose")
	out := diskUsage{}
	if versionBelow(ctx, "1.53") && !(verbose && !versionBelow(ctx, "1.52")) {
		d.legacy(&out, versionBelow(ctx, "1.44"))
	}
	if !versionBelow(ctx, "1.52") {
		d.usage(&out, verbose)
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// dfTypes reads the type filter (none: every kind).
func dfTypes(ctx *fasthttp.RequestCtx) (map[string]bool, error) {
	want := map[string]bool{}
	for _, t := range ctx.QueryArgs().PeekMulti("type") {
		switch v := system.DiskUsageObject(t); v {
		case system.ContainerObject, system.ImageObject, system.VolumeObject, system.BuildCacheObject:
			want[string(v)] = true
		default:
			return nil, errdefs.Invalid(fmt.Sprintf("query parameter type: %q is not container, image, volume or build-cache", t))
		}
	}
	return want, nil
}

// dfReport gathers what system/df answers, one kind of object per method.
type dfReport struct {
	want  map[string]bool
	du    *api.DiskUsage
	sizes map[string]int64 // kind/name -> bytes

	users      map[string]int64 // image ID -> containers using it
	ctrs       []container.Summary
	running    int64
	imgs       []image.Summary
	activeImgs int64
	imgReclaim int64
	imgSize    int64
	vols       []volume.Volume
	activeVols int64
	volSize    int64
	volReclaim int64
	cache      []build.CacheRecord
}

func (d *dfReport) wants(kind string) bool { return len(d.want) == 0 || d.want[kind] }

func (d *dfReport) containers(eng *engine.Engine) {
	now := time.Now()
	listed, _ := eng.ListContainers(engine.ContainerFilter{})
	d.users = map[string]int64{}
	for i := range listed {
		l := &listed[i]
		d.users[strings.TrimPrefix(l.ImageID, "sha256:")]++
		c := summaryOf(l, now)
		c.SizeRw = d.sizes["container/"+l.ID[:min(12, len(l.ID))]]
		if l.Status == "running" || l.Status == "paused" || l.Status == "restarting" {
			d.running++
		}
		d.ctrs = append(d.ctrs, c)
	}
}

// images lists each image once with all its names, and how many containers use it.
func (d *dfReport) images(eng *engine.Engine) error {
	list, err := eng.ListImages(false)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, in := range list {
		tag := ""
		if in.Repository != "<none>" && in.Tag != "<none>" {
			tag = in.Repository + ":" + in.Tag
		}
		if i, ok := seen[in.ID]; ok { // one image, several names
			if tag != "" {
				d.imgs[i].RepoTags = append(d.imgs[i].RepoTags, tag)
			}
			continue
		}
		seen[in.ID] = len(d.imgs)
		sum := image.Summary{ID: in.ID, Created: in.Created.Unix(), Size: in.SizeBytes, SharedSize: 0,
			Containers: d.users[strings.TrimPrefix(in.ID, "sha256:")], RepoTags: []string{}, RepoDigests: []string{}, Labels: map[string]string{}}
		if tag != "" {
			sum.RepoTags = append(sum.RepoTags, tag)
		}
		d.imgs = append(d.imgs, sum)
	}
	for i := range d.imgs {
		d.imgSize += d.imgs[i].Size
		if d.imgs[i].Containers > 0 {
			d.activeImgs++
		} else {
			d.imgReclaim += d.imgs[i].Size
		}
	}
	return nil
}

func (d *dfReport) volumes(eng *engine.Engine) error {
	vs, err := eng.Volumes()
	if err != nil {
		return err
	}
	for i := range vs {
		v := volumeOf(&vs[i])
		size := d.sizes["volume/"+vs[i].Name]
		v.UsageData = &volume.UsageData{Size: size, RefCount: int64(len(vs[i].UsedBy))}
		d.volSize += size
		if len(vs[i].UsedBy) > 0 {
			d.activeVols++
		} else {
			d.volReclaim += size
		}
		d.vols = append(d.vols, v)
	}
	return nil
}

// legacy fills the per-object shape of API versions before 1.53.
func (d *dfReport) legacy(out *diskUsage, virtualSize bool) {
	if d.wants("image") {
		legacy := make([]dfImage, len(d.imgs))
		for i := range d.imgs {
			legacy[i] = dfImage{Summary: d.imgs[i]}
			if virtualSize {
				legacy[i].VirtualSize = d.imgs[i].Size
			}
		}
		// The CLI takes the reclaimable part as LayersSize less the images in use.
		out.LayersSize, out.Images = d.imgSize, &legacy
	}
	if d.wants("container") {
		out.Containers = nonNil(d.ctrs)
	}
	if d.wants("volume") {
		out.Volumes = nonNil(d.vols)
	}
	if d.wants("build-cache") {
		out.BuildCache = nonNil(d.cache)
	}
}

// usage fills the per-kind totals of API 1.52 and later (with the objects when verbose).
func (d *dfReport) usage(out *diskUsage, verbose bool) {
	du := d.du
	if d.wants("image") {
		out.ImageUsage = &image.DiskUsage{ActiveCount: d.activeImgs, TotalCount: int64(len(d.imgs)), TotalSize: du.Images.SizeBytes, Reclaimable: d.imgReclaim}
		if verbose {
			out.ImageUsage.Items = d.imgs
		}
	}
	if d.wants("container") {
		out.CtrUsage = &container.DiskUsage{ActiveCount: d.running, TotalCount: int64(len(d.ctrs)), TotalSize: du.Containers.SizeBytes, Reclaimable: du.Containers.ReclaimableBytes}
		if verbose {
			out.CtrUsage.Items = d.ctrs
		}
	}
	if d.wants("volume") {
		out.VolUsage = &volume.DiskUsage{ActiveCount: d.activeVols, TotalCount: int64(len(d.vols)), TotalSize: d.volSize, Reclaimable: d.volReclaim}
		if verbose {
			out.VolUsage.Items = d.vols
		}
	}
	if d.wants("build-cache") {
		out.BuildUsage = &build.DiskUsage{TotalCount: int64(len(d.cache)), TotalSize: du.BuildCache.SizeBytes, Reclaimable: du.BuildCache.ReclaimableBytes}
		if verbose {
			out.BuildUsage.Items = d.cache
		}
	}
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
