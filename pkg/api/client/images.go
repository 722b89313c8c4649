package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minibox/minibox/pkg/api"
)

// Images runs GET /images; all includes unnamed images.
func (c *Client) Images(ctx context.Context, all bool) ([]api.ImageSummary, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	var out []api.ImageSummary
	return out, c.JSON(ctx, "GET", "/images", q, nil, &out)
}

// ImageInspect runs GET /images/inspect.
func (c *Client) ImageInspect(ctx context.Context, ref string) (*api.ImageInspect, error) {
	var out api.ImageInspect
	if err := c.JSON(ctx, "GET", "/images/inspect", url.Values{"image": {ref}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImagePull runs POST /images/pull, calling onEvent for each progress line, and returns
// the done event. registryAuth is an X-Registry-Auth value ("" = anonymous).
func (c *Client) ImagePull(ctx context.Context, ref, platform, registryAuth string, onEvent func(api.PullEvent)) (*api.PullEvent, error) {
	q := url.Values{"image": {ref}}
	if platform != "" {
		q.Set("platform", platform)
	}
	return c.pullPush(ctx, "/images/pull", q, registryAuth, onEvent)
}

// ImagePush runs POST /images/push; see ImagePull.
func (c *Client) ImagePush(ctx context.Context, ref, registryAuth string, onEvent func(api.PullEvent)) (*api.PullEvent, error) {
	return c.pullPush(ctx, "/images/push", url.Values{"image": {ref}}, registryAuth, onEvent)
}

func (c *Client) pullPush(ctx context.Context, path string, q url.Values, registryAuth string, onEvent func(api.PullEvent)) (*api.PullEvent, error) {
	if registryAuth != "" {
		c.Headers.Set("X-Registry-Auth", registryAuth)
		defer c.Headers.Del("X-Registry-Auth")
	}
	var done *api.PullEvent
	err := c.Stream(ctx, "POST", path, q, nil, "", func(line []byte) error {
		var ev api.PullEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("the daemon sent a line that is not an event: %q", line)
		}
		if ev.Status == api.PullDone {
			done = &ev
		}
		if onEvent != nil {
			onEvent(ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if done == nil {
		return nil, errors.New("the daemon's stream ended before the operation finished")
	}
	return done, nil
}

// ImageTag runs POST /images/tag.
func (c *Client) ImageTag(ctx context.Context, src, dst string) (*api.ImageTagged, error) {
	var out api.ImageTagged
	if err := c.JSON(ctx, "POST", "/images/tag", url.Values{"image": {src}, "target": {dst}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImageRemove runs POST /images/remove and returns the names untagged.
func (c *Client) ImageRemove(ctx context.Context, ref string, force bool) ([]string, error) {
	q := url.Values{"image": {ref}}
	if force {
		q.Set("force", "1")
	}
	var out api.ImageRemoved
	if err := c.JSON(ctx, "POST", "/images/remove", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Untagged, nil
}

// ImageSave runs GET /images/save and returns the archive stream; the caller closes it.
func (c *Client) ImageSave(ctx context.Context, refs []string) (io.ReadCloser, error) {
	resp, err := c.Raw(ctx, "GET", "/images/save", url.Values{"image": refs}, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImageLoad runs POST /images/load with the archive r (any size, no call timeout).
func (c *Client) ImageLoad(ctx context.Context, r io.Reader) (*api.ImagesLoaded, error) {
	resp, err := c.Raw(ctx, "POST", "/images/load", nil, r, "application/x-tar")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out api.ImagesLoaded
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the daemon's answer to load: %w", err)
	}
	return &out, nil
}

// ImageImport runs POST /images/import with the rootfs tarball r.
func (c *Client) ImageImport(ctx context.Context, r io.Reader, name string) (*api.ImageImported, error) {
	resp, err := c.Raw(ctx, "POST", "/images/import", url.Values{"name": {name}}, r, "application/x-tar")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out api.ImageImported
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the daemon's answer to import: %w", err)
	}
	return &out, nil
}

// Auth runs POST /auth: nil when the registry accepts the credentials. Its 401 is the
// registry's refusal unless the daemon's own Bearer realm says the API token was wrong.
func (c *Client) Auth(ctx context.Context, areq api.AuthRequest) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	b, err := json.Marshal(areq)
	if err != nil {
		return err
	}
	req, err := c.request(ctx, "POST", "/auth", nil, bytes.NewReader(b), "application/json")
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="minibox"`) {
		var e api.Error
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		if e.Error == "" {
			e.Error = "the registry rejected the credentials"
		}
		return &DaemonError{Status: resp.StatusCode, Message: e.Error}
	}
	if resp.StatusCode/100 != 2 {
		return responseError(resp)
	}
	return nil
}
