package server

import (
	"bufio"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// registryAuth reads the credentials the CLI sends for ref's registry: X-Registry-Auth,
// else the matching entry of X-Registry-Config. The daemon keeps none of them.
func registryAuth(ctx *fasthttp.RequestCtx, ref string) (*registry.Auth, error) {
	a, err := registry.DecodeAuthHeader(string(ctx.Request.Header.Peek("X-Registry-Auth")))
	if err != nil || a != nil {
		return a, err
	}
	m, err := registry.DecodeConfigHeader(string(ctx.Request.Header.Peek("X-Registry-Config")))
	if err != nil || m == nil {
		return nil, err
	}
	r, err := oci.ParseNormalized(ref)
	if err != nil {
		return nil, err
	}
	return registry.ForRegistry(m, r.Domain), nil
}

func (s *Server) auth(ctx *fasthttp.RequestCtx) {
	var req api.AuthRequest
	if err := decodeJSON(ctx, &req); err != nil {
		writeError(ctx, err)
		return
	}
	if strings.TrimSpace(req.Registry) == "" {
		writeError(ctx, errdefs.Invalid("registry is required: the registry host to log in to, e.g. docker.io"))
		return
	}
	if err := s.eng.CheckRegistryAuth(ctx, req.Registry, registry.Auth{Username: req.Username, Password: req.Password}); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) imagesList(ctx *fasthttp.RequestCtx) {
	list, err := s.eng.ListImages(queryBool(ctx, "all"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, imgconv.Summaries(list))
}

func (s *Server) imageInspect(ctx *fasthttp.RequestCtx) {
	ref, err := requireQuery(ctx, "image")
	if err != nil {
		writeError(ctx, err)
		return
	}
	out, err := s.eng.InspectImage(ref)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, imgconv.Inspect(out))
}

func (s *Server) imagePull(ctx *fasthttp.RequestCtx) {
	s.pullOrPush(ctx, true)
}

func (s *Server) imagePush(ctx *fasthttp.RequestCtx) {
	s.pullOrPush(ctx, false)
}

// pullOrPush streams PullEvents; the request is checked (reference, platform,
// credentials header) before the stream starts, so those errors keep their status.
func (s *Server) pullOrPush(ctx *fasthttp.RequestCtx, pull bool) {
	ref, err := requireQuery(ctx, "image")
	if err != nil {
		writeError(ctx, err)
		return
	}
	if _, err := oci.ParseNormalized(ref); err != nil {
		writeError(ctx, err)
		return
	}
	platform := queryString(ctx, "platform")
	if _, err := oci.ParsePlatform(platform); err != nil {
		writeError(ctx, err)
		return
	}
	auth, err := registryAuth(ctx, ref)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if !pull {
		if err := s.eng.ResolveImages([]string{ref}); err != nil {
			writeError(ctx, err)
			return
		}
	}
	conn := ctx.Conn()
	streamJSON(ctx, func(emit func(any) error) error {
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		send := func(ev imagesvc.PullEvent) error {
			if err := emit(imgconv.PullEvent(ev)); err != nil {
				cancel() // the client went away: stop downloading for nobody
				return err
			}
			return nil
		}
		if pull {
			_, err := s.eng.PullImage(opCtx, ref, platform, auth, send)
			return err
		}
		_, err := s.eng.PushImage(opCtx, ref, auth, send)
		return err
	})
}

func (s *Server) imageTag(ctx *fasthttp.RequestCtx) {
	src, err := requireQuery(ctx, "image")
	if err != nil {
		writeError(ctx, err)
		return
	}
	dst, err := requireQuery(ctx, "target")
	if err != nil {
		writeError(ctx, err)
		return
	}
	img, err := s.eng.TagImage(src, dst)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, imgconv.Tagged(img))
}

func (s *Server) imageRemove(ctx *fasthttp.RequestCtx) {
	ref, err := requireQuery(ctx, "image")
	if err != nil {
		writeError(ctx, err)
		return
	}
	names, err := s.eng.RemoveImage(ref, queryBool(ctx, "force"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, api.ImageRemoved{Untagged: names})
}

// imageSaveGet streams the archive of ?image=... (repeatable) to the client, which
// writes it (never a daemon-host path chosen by the client, unless allowed).
func (s *Server) imageSaveGet(ctx *fasthttp.RequestCtx) {
	refs := queryStrings(ctx, "image")
	if len(refs) == 0 {
		writeError(ctx, errdefs.Invalid("missing query parameter image: name at least one image to save"))
		return
	}
	if err := s.eng.ResolveImages(refs); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-tar")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="images.tar"`)
	conn := ctx.Conn()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		if err := s.eng.SaveImages(opCtx, w, refs); err != nil {
			// The status is sent: cutting the stream short makes the client's tar fail.
			s.log.Warn("image save failed mid-stream", "images", refs, "err", err)
			return
		}
		w.Flush()
	})
}

// imageSavePost is the original's form: with ?path the archive is written on the daemon's
// host (MINIBOX_BUILD_PREFIXES apply); without, it is streamed as GET does.
func (s *Server) imageSavePost(ctx *fasthttp.RequestCtx) {
	path := queryString(ctx, "path")
	if path == "" {
		s.imageSaveGet(ctx)
		return
	}
	refs := queryStrings(ctx, "image")
	if len(refs) == 0 {
		writeError(ctx, errdefs.Invalid("missing query parameter image: name at least one image to save"))
		return
	}
	if err := hostpath.Check("path", path); err != nil {
		writeError(ctx, err)
		return
	}
	opCtx, cancel := s.opContext(ctx.Conn())
	defer cancel()
	if err := s.eng.SaveImagesToPath(opCtx, refs, path); err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"saved": refs, "path": path})
}

func (s *Server) imageLoad(ctx *fasthttp.RequestCtx) {
	opCtx, cancel := s.opContext(ctx.Conn())
	defer cancel()
	var out imagesvc.Loaded
	var err error
	if path := queryString(ctx, "path"); path != "" {
		if err := hostpath.Check("path", path); err != nil {
			writeError(ctx, err)
			return
		}
		out, err = s.eng.LoadImagesFromPath(opCtx, path)
	} else {
		out, err = s.eng.LoadImages(opCtx, bodyReader(ctx))
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, imgconv.Loaded(out))
}

func (s *Server) imageImport(ctx *fasthttp.RequestCtx) {
	name, err := requireQuery(ctx, "name")
	if err != nil {
		writeError(ctx, err)
		return
	}
	if _, err := oci.ParseNormalized(name); err != nil {
		writeError(ctx, err)
		return
	}
	opCtx, cancel := s.opContext(ctx.Conn())
	defer cancel()
	var out *image.Image
	if path := queryString(ctx, "path"); path != "" {
		if err := hostpath.Check("path", path); err != nil {
			writeError(ctx, err)
			return
		}
		out, err = s.eng.ImportImageFromPath(opCtx, path, name)
	} else {
		out, err = s.eng.ImportImage(opCtx, bodyReader(ctx), name)
	}
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, imgconv.Imported(out))
}
