package dockerapi

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/events"
	"github.com/minibox/minibox/pkg/errdefs"
	mbregistry "github.com/minibox/minibox/pkg/registry"
)

// events streams GET /events: the recent past from since, then live events, until until
// or the client leaves.
func (s *Server) events(ctx *fasthttp.RequestCtx) {
	now := time.Now()
	var since, until time.Time
	f, err := filters(ctx)
	var ef events.Filter
	if err == nil {
		ef, err = dockerconv.EventFilter(f)
	}
	if err == nil {
		if since, err = dockerconv.ParseTime(query(ctx, "since"), now); err != nil {
			err = errdefs.Invalid("query parameter since: " + errdefs.Message(err))
		}
	}
	if err == nil {
		if until, err = dockerconv.ParseTime(query(ctx, "until"), now); err != nil {
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
		s.bus.Events(opCtx, since, until, ef, func(ev events.Event) error {
			if err := enc.Encode(dockerconv.Event(&ev, legacy)); err != nil {
				return err
			}
			return w.Flush()
		})
	})
}

func (s *Server) systemDF(ctx *fasthttp.RequestCtx) {
	want, err := dfTypes(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	du, err := s.imgs.DiskUsage(s.ctx, true)
	if err != nil {
		writeError(ctx, err)
		return
	}
	d := dockerconv.NewDiskReport(want, imgconv.DiskUsage(du))
	listed, _ := s.eng.ListContainers(ctrlist.Filter{})
	d.Containers(listed, time.Now())
	if d.Wants("image") {
		list, err := s.imgs.ListImages(false)
		if err != nil {
			writeError(ctx, err)
			return
		}
		d.Images(imgconv.Summaries(list))
	}
	if d.Wants("volume") {
		vs, err := s.vols.List()
		if err != nil {
			writeError(ctx, err)
			return
		}
		d.Volumes(vs)
	}
	verbose := queryBool(ctx, "verbose")
	legacy := versionBelow(ctx, "1.53") && !(verbose && !versionBelow(ctx, "1.52"))
	writeJSON(ctx, fasthttp.StatusOK, d.Answer(legacy, versionBelow(ctx, "1.44"), !versionBelow(ctx, "1.52"), verbose))
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
	if err := s.imgs.CheckRegistryAuth(s.ctx, reg, mbregistry.Auth{Username: user, Password: pass}); err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}
