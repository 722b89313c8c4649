package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
)

const (
	connectTimeout = 10 * time.Second
	callTimeout    = 60 * time.Second
)

// Client talks to one daemon.
type Client struct {
	base    string // "http://host:port" (a unix socket is dialled behind "http://unix")
	display string // what the user configured, for messages
	token   string
	dial    func(ctx context.Context) (net.Conn, error)
	http    *http.Client
	// Headers are added to every request (registry credentials).
	Headers http.Header
	// Trace, when set, is told of each request once its answer's headers came: when it
	// was sent, what, and how long the answer took (MINIBOX_TRACE; to line a command's
	// requests up with the daemon's debug log).
	Trace func(sent time.Time, method, path string, status int, took time.Duration)
}

// New parses MINIBOX_API-style addresses: http://host[:port] or unix:///path.
func New(api, token string) (*Client, error) {
	if api == "" {
		api = "http://127.0.0.1:8080"
	}
	c := &Client{display: api, token: strings.TrimSpace(token), Headers: http.Header{}}
	u, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("MINIBOX_API=%s does not parse: %v; expected http://host:port or unix:///path", api, err)
	}
	d := &net.Dialer{Timeout: connectTimeout}
	local := true // a connection is cheap to make: the daemon is on this host
	switch u.Scheme {
	case "http":
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
		c.base = "http://" + host
		c.dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", host) }
		ip := net.ParseIP(u.Hostname())
		local = u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
	case "unix":
		path := u.Path
		c.base = "http://unix"
		c.dial = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
	default:
		return nil, fmt.Errorf("MINIBOX_API=%s: unsupported scheme %q; expected http://host:port or unix:///path", api, u.Scheme)
	}
	var transport http.RoundTripper = &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return c.dial(ctx) },
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}
	// A daemon elsewhere keeps the Transport's pooled connections: one of its own for each
	// request would cost a round trip more each.
	if local {
		transport = &directTransport{dial: c.dial, fallback: transport}
	}
	c.http = &http.Client{Transport: transport}
	return c, nil
}

// Addr is the daemon address as configured.
func (c *Client) Addr() string { return c.display }

func (c *Client) request(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Request, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.Headers {
		req.Header[k] = v
	}
	return req, nil
}

// Raw sends a request and returns the response when its status is 2xx or 101; otherwise
// the daemon's error. The caller closes the body.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := c.request(ctx, method, path, query, body, contentType)
	if err != nil {
		return nil, err
	}
	sent := time.Now()
	resp, err := c.http.Do(req)
	if c.Trace != nil {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		c.Trace(sent, method, req.URL.RequestURI(), status, time.Since(sent))
	}
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// JSON sends body (if not nil) as JSON and decodes a JSON answer into out (if not nil),
// within the call timeout.
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.JSONNoTimeout(ctx, method, path, query, body, out)
}

// JSONNoTimeout is JSON for calls that may take long (wait, stop with a long grace).
func (c *Client) JSONNoTimeout(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var r io.Reader
	ct := ""
	if body != nil {
		b, err := marshalBody(body)
		if err != nil {
			return err
		}
		r, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := c.Raw(ctx, method, path, query, r, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the daemon's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// rawAccept is Raw with an Accept header (a stream format the daemon may answer in).
func (c *Client) rawAccept(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType, accept string) (*http.Response, error) {
	req, err := c.request(ctx, method, path, query, body, contentType)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// readLines calls onLine for each line of a newline-delimited JSON stream; a line
// {"error": ...} ends it with that error.
func readLines(body io.Reader, onLine func([]byte) error) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte(`{"error"`)) {
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(line, &e) == nil && e.Error != "" {
				return &DaemonError{Status: 0, Message: e.Error}
			}
		}
		if err := onLine(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("the daemon's stream broke off: %w", err)
	}
	return nil
}

// Stream reads a newline-delimited JSON stream, calling onLine for each line. A line
// {"error": ...} ends it with that error; so does a stream that ends before done reports
// that its last line arrived (done may be nil: any clean end is success).
func (c *Client) Stream(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, onLine func([]byte) error) error {
	resp, err := c.Raw(ctx, method, path, query, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readLines(resp.Body, onLine)
}

// DaemonError is a non-2xx answer or an in-band error line.
type DaemonError struct {
	Status  int
	Message string
}

func (e *DaemonError) Error() string { return e.Message }

// Is lets callers test kinds: errors.Is(err, errdefs.ErrNotFound).
func (e *DaemonError) Is(target error) bool {
	switch e.Status {
	case 400:
		return target == errdefs.ErrInvalid
	case 401:
		return target == errdefs.ErrUnauthorized
	case 403:
		return target == errdefs.ErrForbidden
	case 404:
		return target == errdefs.ErrNotFound
	case 409:
		return target == errdefs.ErrConflict
	}
	return false
}

func responseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = resp.Status
	}
	if resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="minibox"`) {
		msg = "the daemon rejected the API token: " + msg
		if !strings.Contains(msg, "MINIBOX_API_TOKEN") {
			msg += "; set MINIBOX_API_TOKEN to the daemon's token"
		}
	}
	return &DaemonError{Status: resp.StatusCode, Message: msg}
}

func (c *Client) transportError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	reason := err.Error()
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, syscall.ENOENT):
		reason = "no such socket"
	case errors.As(err, &op):
		reason = op.Err.Error()
	}
	return &UnreachableError{Addr: c.display, Reason: reason}
}

// UnreachableError says the daemon could not be reached, and what to do.
type UnreachableError struct{ Addr, Reason string }

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the minibox daemon at %s: %s; start it with \"sudo -E miniboxd\" or set MINIBOX_API", e.Addr, e.Reason)
}

// Ping checks the daemon.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.Raw(ctx, http.MethodGet, "/ping", nil, nil, "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Upgrade sends a request with "Connection: Upgrade, Upgrade: tcp" and returns the raw
// connection after 101 (attach, interactive run and exec), with the response headers.
func (c *Client) Upgrade(ctx context.Context, method, path string, query url.Values, body []byte) (net.Conn, *bufio.Reader, http.Header, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, nil, nil, c.transportError(err)
	}
	req, err := c.request(ctx, method, path, query, bytes.NewReader(body), "application/json")
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, nil, c.transportError(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, nil, c.transportError(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, nil, nil, responseError(resp)
	}
	return conn, br, resp.Header, nil
}
