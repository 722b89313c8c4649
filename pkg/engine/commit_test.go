package engine

import (
	"slices"
	"testing"
	"time"

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

func TestPruneFilter(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	f, err := ParsePruneFilter([]string{"until=24h", "label=a", "label!=b=2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	old := now.Add(-48 * time.Hour)
	for _, c := range []struct {
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{old, map[string]string{"a": "x"}, true},
		{now, map[string]string{"a": "x"}, false},
		{old, map[string]string{}, false},
		{old, map[string]string{"a": "", "b": "2"}, false},
		{old, map[string]string{"a": "", "b": "3"}, true},
	} {
		if got := f.match(c.created, c.labels); got != c.want {
			t.Errorf("match(%v, %v) = %v, want %v", c.created, c.labels, got, c.want)
		}
	}
	for _, bad := range []string{"bogus=1", "until=soon", "label"} {
		if _, err := ParsePruneFilter([]string{bad}, now); err == nil {
			t.Errorf("ParsePruneFilter(%q) accepted", bad)
		}
	}
}
