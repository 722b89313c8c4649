package client

import (
	"context"
	"net/url"

	"github.com/minibox/minibox/pkg/api"
)

// Prune runs POST /system/prune. It has no call timeout: a prune of a large store, or one
// waiting for stale mounts, may take longer than a minute.
func (c *Client) Prune(ctx context.Context, buildCache bool) (*api.PruneReport, error) {
	q := url.Values{}
	if buildCache {
		q.Set("build_cache", "1")
	}
	var r api.PruneReport
	if err := c.JSONNoTimeout(ctx, "POST", "/system/prune", q, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// DiskUsage runs GET /system/df; verbose lists every object.
func (c *Client) DiskUsage(ctx context.Context, verbose bool) (*api.DiskUsage, error) {
	q := url.Values{}
	if verbose {
		q.Set("verbose", "1")
	}
	var du api.DiskUsage
	if err := c.JSONNoTimeout(ctx, "GET", "/system/df", q, nil, &du); err != nil {
		return nil, err
	}
	return &du, nil
}

// PruneObjects runs POST /<kind>/prune, kind one of containers, images, volumes, build:
// all is -a, filters Docker's --filter values.
func (c *Client) PruneObjects(ctx context.Context, kind string, all bool, filters []string) (*api.PruneResult, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	for _, f := range filters {
		q.Add("filter", f)
	}
	var r api.PruneResult
	if err := c.JSONNoTimeout(ctx, "POST", "/"+kind+"/prune", q, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Commit runs POST /containers/commit and returns the new image's ID.
func (c *Client) Commit(ctx context.Context, req *api.CommitRequest) (string, error) {
	var r api.Committed
	if err := c.JSONNoTimeout(ctx, "POST", "/containers/commit", nil, req, &r); err != nil {
		return "", err
	}
	return r.ID, nil
}
