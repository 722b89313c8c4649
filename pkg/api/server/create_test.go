package server

import (
	"strings"
	"testing"
	"time"
)

// Create and run validate at the edge: a refused field is a 400 naming it and the engine
// is never reached; an accepted request reaches it parsed, with the validator's warnings
// before the engine's.
func TestCreateValidatesAtTheEdge(t *testing.T) {
	for _, uri := range []string{"/containers/create", "/containers/run"} {
		for body, field := range map[string]string{
			`{"image":"x","memory":-5}`:                            `memory: `,
			`{"image":"x","publish":[{"container_port":0}]}`:       `publish[0].container_port: `,
			`{"image":"x","restart":"always","auto_remove":true}`:  `restart: `,
			`{"image":"x","healthcheck":{"test":["BOGUS"]}}`:       `healthcheck.test: `,
			`{"image":"x","ulimits":["nofile=2:1"]}`:               `ulimits[0]: `,
			`{"image":"","detached":true}`:                         `image: `,
			`{"image":"x","network":"container:","detached":true}`: `network: `,
		} {
			f := &fakeServices{}
			status, resp := do(t, serveFake(t, f), "POST", uri, body)
			if status != 400 || !strings.Contains(resp, `"`+field) {
				t.Errorf("POST %s %s: %d %s, want 400 naming %q", uri, body, status, resp, field)
			}
			if len(f.calls) != 0 {
				t.Errorf("POST %s %s: reached %v", uri, body, f.calls)
			}
		}
	}
	f := &fakeServices{}
	status, resp := do(t, serveFake(t, f), "POST", "/containers/create",
		`{"image":"x","memory":64,"restart":"on-failure:2","publish":[{"host_port":8080,"container_port":80}],"network":"host",
		"healthcheck":{"test":["CMD","true"],"interval":2000000000}}`)
	if status != 201 || !strings.Contains(resp, "published ports are discarded when using host network mode") {
		t.Errorf("create: %d %s", status, resp)
	}
	c := f.cfg
	if c.Memory != 64<<20 || c.Restart.Name != "on-failure" || c.Restart.MaxRetries != 2 || c.Publish != nil ||
		c.Healthcheck.Interval != 2*time.Second || c.Network != "host" {
		t.Errorf("the engine got %+v", c)
	}
}
