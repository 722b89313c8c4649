package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/errdefs"
)

// writeError answers {"error": "..."} with the status of err's kind.
func writeError(ctx *fasthttp.RequestCtx, err error) {
	writeJSON(ctx, errdefs.HTTPStatus(err), errorBody(err))
}

// errorBody is the error as people read it; the status code carries its kind.
func errorBody(err error) map[string]string {
	return map[string]string{"error": errdefs.Message(err)}
}

// writeJSON answers v as JSON with status.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	if err := json.NewEncoder(ctx).Encode(v); err != nil {
		ctx.ResetBody()
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		fmt.Fprintf(ctx, `{"error":%q}`, "encode response: "+err.Error())
	}
}

// decodeJSON reads the request body (within the route's limit) into v; unknown fields
// and trailing data are 400.
func decodeJSON(ctx *fasthttp.RequestCtx, v any) error {
	body, err := limitedBody(ctx, bodyLimit(string(ctx.Path())))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errdefs.Invalid("request body is empty; expected a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errdefs.Invalid("invalid JSON body: " + err.Error())
	}
	if d.More() {
		return errdefs.Invalid("invalid JSON body: data after the object")
	}
	return nil
}

// queryString returns a query parameter (a copy: ctx buffers are reused).
func queryString(ctx *fasthttp.RequestCtx, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// queryStrings returns every value of a repeatable query parameter.
func queryStrings(ctx *fasthttp.RequestCtx, name string) []string {
	var out []string
	for _, v := range ctx.QueryArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// queryBool reads 1|true|0|false; a present but empty flag (?force) is true.
func queryBool(ctx *fasthttp.RequestCtx, name string) bool {
	args := ctx.QueryArgs()
	if !args.Has(name) {
		return false
	}
	switch strings.ToLower(string(args.Peek(name))) {
	case "", "1", "true", "yes":
		return true
	}
	return false
}

// requireQuery returns a required query parameter or a 400-kind error naming it.
func requireQuery(ctx *fasthttp.RequestCtx, name string) (string, error) {
	v := queryString(ctx, name)
	if v == "" {
		return "", errdefs.Invalid(fmt.Sprintf("query parameter %q is required", name))
	}
	return v, nil
}

// streamJSON answers a newline-delimited JSON stream: each emitted value is one flushed
// line; a returned error becomes the last line {"error": ...}. produce runs after the
// handler returns, so it must not touch ctx; emit fails once the client is gone.
func streamJSON(ctx *fasthttp.RequestCtx, produce func(emit func(any) error) error) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-ndjson")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		emit := func(v any) error {
			if err := enc.Encode(v); err != nil {
				return err
			}
			return w.Flush()
		}
		if err := produce(emit); err != nil {
			emit(errorBody(err))
		}
	})
}

// limitedBody reads at most limit bytes of the body; more is a 413-kind error.
func limitedBody(ctx *fasthttp.RequestCtx, limit int64) ([]byte, error) {
	if n := ctx.Request.Header.ContentLength(); n > 0 && int64(n) > limit {
		return nil, tooLarge(limit)
	}
	r := bodyReader(ctx)
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

func tooLarge(limit int64) error {
	return errdefs.New(errdefs.ErrTooLarge, fmt.Sprintf("request body is larger than the %d MiB this route accepts", limit>>20))
}

// bodyReader streams the request body (archives have no size limit here) under the
// streamIdle timeout.
func bodyReader(ctx *fasthttp.RequestCtx) io.Reader {
	if r := ctx.RequestBodyStream(); r != nil {
		return &idleBody{ctx: ctx, r: r}
	}
	return bytes.NewReader(ctx.PostBody())
}
