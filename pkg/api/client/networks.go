package client

import (
	"context"
	"net/url"

	"github.com/minibox/minibox/pkg/api"
)

// NetworkList runs GET /networks.
func (c *Client) NetworkList(ctx context.Context) ([]api.Network, error) {
	var out []api.Network
	return out, c.JSON(ctx, "GET", "/networks", nil, nil, &out)
}

// NetworkInspect runs GET /networks/inspect.
func (c *Client) NetworkInspect(ctx context.Context, name string) (*api.Network, error) {
	var out api.Network
	if err := c.JSON(ctx, "GET", "/networks/inspect", url.Values{"name": {name}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkCreate runs POST /networks/create.
func (c *Client) NetworkCreate(ctx context.Context, req *api.NetworkCreateRequest) (*api.Network, error) {
	var out api.Network
	if err := c.JSON(ctx, "POST", "/networks/create", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkRemove runs POST /networks/remove.
func (c *Client) NetworkRemove(ctx context.Context, name string) error {
	return c.JSON(ctx, "POST", "/networks/remove", url.Values{"name": {name}}, nil, nil)
}

// NetworkPrune runs POST /networks/prune.
func (c *Client) NetworkPrune(ctx context.Context) (*api.NetworkPruneResult, error) {
	var out api.NetworkPruneResult
	if err := c.JSON(ctx, "POST", "/networks/prune", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkConnect runs POST /networks/connect.
func (c *Client) NetworkConnect(ctx context.Context, req *api.NetworkConnectRequest) error {
	return c.JSON(ctx, "POST", "/networks/connect", nil, req, nil)
}

// NetworkDisconnect runs POST /networks/disconnect; force: no error when the container is
// not on the network.
func (c *Client) NetworkDisconnect(ctx context.Context, network, container string, force bool) error {
	q := url.Values{"network": {network}, "container": {container}}
	if force {
		q.Set("force", "1")
	}
	return c.JSON(ctx, "POST", "/networks/disconnect", q, nil, nil)
}
