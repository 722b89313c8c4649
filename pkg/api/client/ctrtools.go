package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/minibox/minibox/pkg/api"
)

// ContainerTop runs GET /containers/top.
func (c *Client) ContainerTop(ctx context.Context, id string) (*api.Top, error) {
	var out api.Top
	return &out, c.JSON(ctx, "GET", "/containers/top", url.Values{"id": {id}}, nil, &out)
}

// ImageHistory runs GET /images/history.
func (c *Client) ImageHistory(ctx context.Context, name string) ([]api.HistoryItem, error) {
	var out []api.HistoryItem
	return out, c.JSON(ctx, "GET", "/images/history", url.Values{"name": {name}}, nil, &out)
}

// ContainerChanges runs GET /containers/changes.
func (c *Client) ContainerChanges(ctx context.Context, id string) ([]api.Change, error) {
	var out []api.Change
	return out, c.JSONNoTimeout(ctx, "GET", "/containers/changes", url.Values{"id": {id}}, nil, &out)
}

// ContainerExport runs GET /containers/export and copies the tar to w.
func (c *Client) ContainerExport(ctx context.Context, id string, w io.Writer) error {
	resp, err := c.Raw(ctx, "GET", "/containers/export", url.Values{"id": {id}}, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("the daemon's export broke off: %w", err)
	}
	return nil
}

// ContainerUpdate runs POST /containers/update.
func (c *Client) ContainerUpdate(ctx context.Context, id string, req *api.UpdateRequest) (*api.UpdateResult, error) {
	var out api.UpdateResult
	return &out, c.JSON(ctx, "POST", "/containers/update", url.Values{"id": {id}}, req, &out)
}

// EventsOptions are the parameters of GET /events.
type EventsOptions struct {
	Since, Until string
	Filters      []string // key=value
}

// Events runs GET /events and calls onEvent for each event until the stream ends (until
// passed) or ctx does.
func (c *Client) Events(ctx context.Context, o EventsOptions, onEvent func(api.Event) error) error {
	q := url.Values{}
	if o.Since != "" {
		q.Set("since", o.Since)
	}
	if o.Until != "" {
		q.Set("until", o.Until)
	}
	if len(o.Filters) > 0 {
		q["filter"] = o.Filters
	}
	return c.Stream(ctx, "GET", "/events", q, nil, "", func(line []byte) error {
		var ev api.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("the daemon sent a line that is not an event: %q", line)
		}
		return onEvent(ev)
	})
}
