package dockerapi

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/imgconv"
	"github.com/minibox/minibox/pkg/dockerapi/dockerconv"
	"github.com/minibox/minibox/pkg/engine/imagesvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/registry"
)

// imageRoute dispatches /images/<name>[/json|/tag|/push|/history|/get]: a name holds
// slashes, so the router hands over the rest of the path.
func (s *Server) imageRoute(ctx *fasthttp.RequestCtx) {
	rest, _ := url.PathUnescape(param(ctx, "rest"))
	method := string(ctx.Method())
	for _, suffix := range []string{"/json", "/tag", "/push", "/history", "/get"} {
		if name, ok := strings.CutSuffix(rest, suffix); ok && name != "" {
			switch {
			case suffix == "/json" && method == "GET":
				s.imageInspect(ctx, name)
				return
			case suffix == "/tag" && method == "POST":
				s.imageTag(ctx, name)
				return
			case suffix == "/push" && method == "POST":
				s.imagePush(ctx, name)
				return
			case suffix == "/history" && method == "GET":
				s.imageHistory(ctx, name)
				return
			case suffix == "/get" && method == "GET":
				s.imageSave(ctx, []string{name})
				return
			}
		}
	}
	if method == "DELETE" && rest != "" {
		s.imageDelete(ctx, rest)
		return
	}
	s.notFound(ctx)
}

func (s *Server) imageList(ctx *fasthttp.RequestCtx) {
	f, err := filters(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	rows, err := s.eng.ListImages(queryBool(ctx, "all"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	list := imgconv.Summaries(rows)
	byID := map[string]*image.Summary{}
	var order []string
	for _, im := range list {
		sum := byID[im.ID]
		if sum == nil {
			sum = &image.Summary{ID: im.ID, Created: im.Created.Unix(), Size: im.SizeBytes, Labels: map[string]string{},
				RepoTags: []string{}, RepoDigests: []string{}, Containers: -1, SharedSize: -1}
			byID[im.ID] = sum
			order = append(order, im.ID)
		}
		if im.Repository != "<none>" && im.Tag != "<none>" {
			sum.RepoTags = append(sum.RepoTags, im.Repository+":"+im.Tag)
		}
		if im.Repository != "<none>" && im.Digest != "" {
			sum.RepoDigests = append(sum.RepoDigests, im.Repository+"@"+im.Digest)
		}
	}
	out := make([]image.Summary, 0, len(order))
	for _, id := range order {
		sum := byID[id]
		if refs := f["reference"]; len(refs) > 0 && !dockerconv.MatchReference(sum.RepoTags, refs) {
			continue
		}
		if d := f["dangling"]; len(d) > 0 && (d[0] == "true") != (len(sum.RepoTags) == 0) {
			continue
		}
		out = append(out, *sum)
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) imageInspect(ctx *fasthttp.RequestCtx, name string) {
	in, err := s.inspectImage(name)
	if err != nil {
		writeImageError(ctx, name, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, dockerconv.ImageInspect(in))
}

// inspectImage is the image service's inspect in the native API's shape, which
// dockerconv turns into Docker's.
func (s *Server) inspectImage(name string) (*api.ImageInspect, error) {
	d, err := s.eng.InspectImage(name)
	if err != nil {
		return nil, err
	}
	return imgconv.Inspect(d), nil
}

// writeImageError says "No such image" as Docker does; clients match on it.
func writeImageError(ctx *fasthttp.RequestCtx, name string, err error) {
	if errdefs.HTTPStatus(err) == fasthttp.StatusNotFound {
		writeErr(ctx, fasthttp.StatusNotFound, "No such image: "+name)
		return
	}
	writeError(ctx, err)
}

func (s *Server) imageHistory(ctx *fasthttp.RequestCtx, name string) {
	in, err := s.inspectImage(name)
	if err != nil {
		writeImageError(ctx, name, err)
		return
	}
	out := []image.HistoryResponseItem{}
	// Docker lists the newest step first; only the top one carries the image's ID.
	for i := len(in.History) - 1; i >= 0; i-- {
		h := in.History[i]
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if i == len(in.History)-1 {
			item.ID, item.Tags = in.ID, in.RepoTags
		}
		out = append(out, item)
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func (s *Server) imageTag(ctx *fasthttp.RequestCtx, name string) {
	repo, tag := query(ctx, "repo"), query(ctx, "tag")
	if repo == "" {
		writeErr(ctx, fasthttp.StatusBadRequest, "query parameter repo is required")
		return
	}
	dst := repo
	if tag != "" {
		dst += ":" + tag
	}
	if _, err := s.eng.TagImage(name, dst); err != nil {
		writeImageError(ctx, name, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusCreated)
}

func (s *Server) imageDelete(ctx *fasthttp.RequestCtx, name string) {
	force := queryBool(ctx, "force")
	if in, err := s.inspectImage(name); err == nil && len(in.RepoTags) > 1 && !strings.HasPrefix(in.ID, name) && !strings.HasPrefix(in.ID, "sha256:"+name) {
		// One name of several goes alone, as docker rmi untags: the image stays for the
		// others and for the containers that use it.
		force = true
	}
	names, err := s.eng.RemoveImage(name, force)
	if err != nil {
		writeImageError(ctx, name, err)
		return
	}
	out := []image.DeleteResponse{}
	for _, n := range names {
		out = append(out, image.DeleteResponse{Untagged: n})
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// registryAuth reads X-Registry-Auth (base64 JSON, Docker's encoding).
func registryAuth(ctx *fasthttp.RequestCtx) (*registry.Auth, error) {
	return registry.DecodeAuthHeader(string(ctx.Request.Header.Peek("X-Registry-Auth")))
}

// imageCreate is POST /images/create: a pull (fromImage) with Docker's progress stream.
func (s *Server) imageCreate(ctx *fasthttp.RequestCtx) {
	from, tag := query(ctx, "fromImage"), query(ctx, "tag")
	if from == "" {
		if query(ctx, "fromSrc") != "" {
			writeErr(ctx, fasthttp.StatusNotImplemented, "import (fromSrc) is not supported by minibox's Docker API; use minibox import")
			return
		}
		writeErr(ctx, fasthttp.StatusBadRequest, "query parameter fromImage is required")
		return
	}
	ref := from
	if tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	if _, err := oci.ParseNormalized(ref); err != nil {
		writeError(ctx, err)
		return
	}
	auth, err := registryAuth(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	platform := query(ctx, "platform")
	eng, dctx := s.eng, s.ctx
	streamJSON(ctx, func(emit func(any) error) {
		emit(jsonstream.Message{Status: "Pulling from " + oci.Familiar(ref), ID: dockerconv.Tag(ref)})
		_, err := eng.PullImage(dctx, ref, platform, auth, func(ev imagesvc.PullEvent) error {
			return emit(dockerconv.Progress(imgconv.PullEvent(ev)))
		})
		if err != nil {
			emit(jsonstream.Message{Error: &jsonstream.Error{Message: errdefs.Message(err)}})
			return
		}
		emit(jsonstream.Message{Status: "Status: Downloaded newer image for " + oci.Familiar(ref)})
	})
}

func (s *Server) imagePush(ctx *fasthttp.RequestCtx, name string) {
	ref := name
	if tag := query(ctx, "tag"); tag != "" {
		ref += ":" + tag
	}
	auth, err := registryAuth(ctx)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if _, err := s.inspectImage(ref); err != nil {
		writeImageError(ctx, ref, err)
		return
	}
	eng, dctx := s.eng, s.ctx
	streamJSON(ctx, func(emit func(any) error) {
		emit(jsonstream.Message{Status: "The push refers to repository [" + oci.Familiar(ref) + "]"})
		dgst, err := eng.PushImage(dctx, ref, auth, func(ev imagesvc.PullEvent) error {
			m := dockerconv.Progress(imgconv.PullEvent(ev))
			if ev.Status == "complete" {
				m.Status = "Pushed"
			}
			return emit(m)
		})
		if err != nil {
			emit(jsonstream.Message{Error: &jsonstream.Error{Message: errdefs.Message(err)}})
			return
		}
		emit(jsonstream.Message{Status: fmt.Sprintf("%s: digest: %s", dockerconv.Tag(ref), dgst)})
	})
}

// imageSaveMany is GET /images/get?names=a&names=b.
func (s *Server) imageSaveMany(ctx *fasthttp.RequestCtx) {
	var names []string
	for _, v := range ctx.QueryArgs().PeekMulti("names") {
		names = append(names, string(v))
	}
	s.imageSave(ctx, names)
}

func (s *Server) imageSave(ctx *fasthttp.RequestCtx, names []string) {
	if err := s.eng.ResolveImages(names); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-tar")
	eng, dctx := s.eng, s.ctx
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(eng.SaveImages(dctx, pw, names)) }()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer pr.Close()
		io.Copy(w, pr)
		w.Flush()
	})
}

func (s *Server) imageLoad(ctx *fasthttp.RequestCtx) {
	res, err := s.eng.LoadImages(s.ctx, bodyReader(ctx))
	if err != nil {
		writeError(ctx, err)
		return
	}
	var b strings.Builder
	for _, n := range res.Names {
		fmt.Fprintf(&b, "{\"stream\":%q}\n", "Loaded image: "+oci.Familiar(n)+"\n")
	}
	if len(res.Names) == 0 {
		for _, id := range res.IDs {
			fmt.Fprintf(&b, "{\"stream\":%q}\n", "Loaded image ID: "+id+"\n")
		}
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(b.String())
}

// imagePrune removes dangling images (unnamed ones: minibox keeps none by name), then
// the blobs nothing uses.
func (s *Server) imagePrune(ctx *fasthttp.RequestCtx) {
	report, err := s.eng.Prune(s.ctx, false)
	if err != nil {
		writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, image.PruneReport{ImagesDeleted: []image.DeleteResponse{}, SpaceReclaimed: uint64(report.BytesFreed)})
}
