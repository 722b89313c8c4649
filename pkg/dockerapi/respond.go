package dockerapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/dockerapi/rawconn"
	"github.com/minibox/minibox/pkg/errdefs"
)

// errorResponse is Docker's error body.
type errorResponse struct {
	Message string `json:"message"`
}

// writeError answers err in Docker's shape with the status of its kind.
func writeError(ctx *fasthttp.RequestCtx, err error) {
	writeErr(ctx, errdefs.HTTPStatus(err), errdefs.Message(err))
}

func writeErr(ctx *fasthttp.RequestCtx, status int, msg string) {
	writeJSON(ctx, status, errorResponse{Message: msg})
}

// writeJSON answers v as JSON with status.
func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = fasthttp.StatusInternalServerError, []byte(fmt.Sprintf(`{"message":%q}`, "encode response: "+err.Error()))
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// decodeJSON reads the body (within the route's limit) into v. Fields Docker knows and
// the wire types do not are ignored, as dockerd does; an empty body leaves v as it is.
func decodeJSON(ctx *fasthttp.RequestCtx, v any) error {
	body, err := limitedBody(ctx, int64(bodyLimit(string(ctx.Path()))))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errdefs.Invalid("invalid JSON body: " + err.Error())
	}
	return nil
}

// limitedBody reads at most limit bytes of the body; more is a 413.
func limitedBody(ctx *fasthttp.RequestCtx, limit int64) ([]byte, error) {
	if n := ctx.Request.Header.ContentLength(); n > 0 && int64(n) > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(io.LimitReader(bodyReader(ctx), limit+1))
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

// bodyReader streams the request body, extending the read deadline while bytes come.
func bodyReader(ctx *fasthttp.RequestCtx) io.Reader {
	if r := ctx.RequestBodyStream(); r != nil {
		return &idleBody{ctx: ctx, r: r}
	}
	return bytes.NewReader(ctx.PostBody())
}

type idleBody struct {
	ctx  *fasthttp.RequestCtx
	r    io.Reader
	last time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.last) > time.Second {
		b.last = now
		b.ctx.SetReadDeadline(now.Add(streamIdle))
	}
	return b.r.Read(p)
}

func query(ctx *fasthttp.RequestCtx, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// queryBool reads a boolean as dockerd does: empty, 0, no, false and none are false,
// anything else true.
func queryBool(ctx *fasthttp.RequestCtx, name string) bool {
	switch strings.ToLower(strings.TrimSpace(query(ctx, name))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// queryInt reads an integer parameter; absent is def, a bad one a 400 naming it.
func queryInt(ctx *fasthttp.RequestCtx, name string, def int) (int, error) {
	v := query(ctx, name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errdefs.Invalid(fmt.Sprintf("query parameter %s: %q is not an integer", name, v))
	}
	return n, nil
}

// filters reads Docker's filters parameter: {"key": {"value": true}} (or the old
// {"key": ["value"]}), as key -> values.
func filters(ctx *fasthttp.RequestCtx) (map[string][]string, error) {
	raw := ctx.QueryArgs().Peek("filters")
	out := map[string][]string{}
	if len(raw) == 0 {
		return out, nil
	}
	var m map[string]map[string]bool
	if err := json.Unmarshal(raw, &m); err == nil {
		for k, vs := range m {
			for v, on := range vs {
				if on {
					out[k] = append(out[k], v)
				}
			}
		}
		return out, nil
	}
	var old map[string][]string
	if err := json.Unmarshal(raw, &old); err != nil {
		return nil, errdefs.Invalid("query parameter filters: expected a JSON object such as {\"label\":{\"a=b\":true}}")
	}
	return old, nil
}

// streamJSON answers a stream of JSON messages, each flushed; produce runs after the
// handler returns and must not touch ctx.
func streamJSON(ctx *fasthttp.RequestCtx, produce func(emit func(any) error)) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		enc := json.NewEncoder(w)
		produce(func(v any) error {
			if err := enc.Encode(v); err != nil {
				return err
			}
			return w.Flush()
		})
	})
}

// lingerTimeout is how long a finished stream waits for its client to close.
const lingerTimeout = 2 * time.Second

// dropBody ends the connection of a request answered before its body was read, once the
// answer is out, reading a little of what still comes so the close does not reset it.
func dropBody(raw net.Conn) fasthttp.HijackHandler {
	return func(c net.Conn) {
		rawconn.CloseWrite(raw)
		c.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.CopyN(io.Discard, c, 1<<20)
	}
}
