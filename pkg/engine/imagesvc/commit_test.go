package imagesvc

import (
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChange(t *testing.T) {
	c := &ocispec.ImageConfig{Env: []string{"PATH=/bin", "A=1"}, Labels: map[string]string{"x": "1"}}
	for _, ch := range []string{`CMD ["cat", "/x"]`, `ENTRYPOINT run me`, `ENV A=2 B="two words"`, `ENV C three`,
		`LABEL y=2`, `EXPOSE 80 53/udp`, `USER nobody`, `WORKDIR /srv`, `VOLUME ["/data"]`, `STOPSIGNAL SIGINT`} {
		if err := applyChange(c, ch); err != nil {
			t.Fatalf("applyChange(%q): %v", ch, err)
		}
	}
	if !slices.Equal(c.Cmd, []string{"cat", "/x"}) || !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "run me"}) {
		t.Errorf("Cmd %q, Entrypoint %q", c.Cmd, c.Entrypoint)
	}
	if !slices.Equal(c.Env, []string{"PATH=/bin", "A=2", "B=two words", "C=three"}) {
		t.Errorf("Env = %q", c.Env)
	}
	if c.Labels["x"] != "1" || c.Labels["y"] != "2" || c.User != "nobody" || c.WorkingDir != "/srv" || c.StopSignal != "SIGINT" {
		t.Errorf("config = %+v", c)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok || len(c.ExposedPorts) != 2 {
		t.Errorf("ExposedPorts = %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("Volumes = %v", c.Volumes)
	}
	for _, bad := range []string{"RUN echo", "CMD", `ENV A="x`, "FROM x"} {
		if err := applyChange(c, bad); err == nil {
			t.Errorf("applyChange(%q) accepted", bad)
		}
	}
}
