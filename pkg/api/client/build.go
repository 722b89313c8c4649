package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/minibox/minibox/pkg/api"
)

// Build runs POST /containers/build, calling onEvent for each log line and block state,
// and returns the result line. registryConfig is an X-Registry-Config value ("" = none).
// An error line, or a stream that ends without its result, is an error.
func (c *Client) Build(ctx context.Context, req api.BuildRequest, registryConfig string, onEvent func(api.BuildEvent)) (*api.BuildResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if registryConfig != "" {
		c.Headers.Set("X-Registry-Config", registryConfig)
		defer c.Headers.Del("X-Registry-Config")
	}
	var res *api.BuildResult
	err = c.Stream(ctx, "POST", "/containers/build", nil, bytes.NewReader(body), "application/json", func(line []byte) error {
		if bytes.HasPrefix(line, []byte(`{"result"`)) {
			var end api.BuildEnd
			if err := json.Unmarshal(line, &end); err != nil || end.Result == nil {
				return fmt.Errorf("the daemon sent a bad build result: %q", line)
			}
			res = end.Result
			return nil
		}
		var ev api.BuildEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("the daemon sent a line that is not a build event: %q", line)
		}
		if onEvent != nil {
			onEvent(ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("the build stream ended without a result; see the daemon's log")
	}
	return res, nil
}
