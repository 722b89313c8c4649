package compose

import (
	"context"
	"github.com/minibox/minibox/pkg/compose/loader"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

const planFile = `services:
  app:
    image: busybox
    entrypoint: ["/bin/sh", "-c"]
    command: echo "a b" c
    env_file: app.env
    ports: ["127.0.0.1:8080-8081:80/udp"]
    volumes: ["./src:/src:ro,z", "data:/data", {type: tmpfs, target: /t}]
    secrets: [token]
    ulimits: {nofile: {soft: 10, hard: 20}}
    extra_hosts: ["h:1.2.3.4"]
    stop_grace_period: 3s
    deploy: {resources: {limits: {cpus: "0.5", memory: 64M, pids: 50}}}
    networks:
      front: {aliases: [www], ipv4_address: 10.9.0.5}
      back: {}
  side:
    image: busybox
    network_mode: service:app
networks: {front: {}, back: {internal: true}}
volumes: {data: {}}
secrets: {token: {file: ./token.txt}}
`

// planProject loads planFile as project proj and plans app's second container.
func planProject(t *testing.T) (dir string, r *Runner, pl *Plan) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range map[string]string{"compose.yaml": planFile, "app.env": "FROM_FILE=1\n", "token.txt": "s3cret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := loader.Load(context.Background(), loader.Options{WorkingDir: dir, Name: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	r = &Runner{P: p}
	pl, err = PlanContainer(p, p.Services["app"], 2, "sha256:x", r.containerOf)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r, pl
}

func TestPlanContainer(t *testing.T) {
	_, _, pl := planProject(t)
	q := pl.Request
	if q.Name != "proj-app-2" || q.Labels[LabelNumber] != "2" || q.Labels[LabelProject] != "proj" || q.Labels[LabelHash] != pl.Hash {
		t.Errorf("name/labels: %s %v", q.Name, q.Labels)
	}
	if !slices.Equal(q.Command, []string{"echo", "a b", "c"}) || q.Entrypoint == nil || (*q.Entrypoint)[0] != "/bin/sh" {
		t.Errorf("command %q entrypoint %v", q.Command, q.Entrypoint)
	}
	if !slices.Contains(q.Env, "FROM_FILE=1") {
		t.Errorf("env %v", q.Env)
	}
	// The second container takes the second port of the range.
	if len(q.Publish) != 1 || q.Publish[0].HostPort != 8081 || q.Publish[0].Protocol != "udp" || q.Publish[0].HostIP != "127.0.0.1" {
		t.Errorf("publish %+v", q.Publish)
	}
	if q.CPUs != 0.5 || q.MemoryBytes != 64<<20 || q.PidsLimit != 50 || *q.StopTimeout != 3 || q.Ulimits[0] != "nofile=10:20" || q.ExtraHosts[0] != "h:1.2.3.4" {
		t.Errorf("limits %+v", q)
	}
}

func TestPlanNetworks(t *testing.T) {
	_, r, pl := planProject(t)
	q := pl.Request
	if q.Network != "proj_back" || len(pl.Connects) != 1 || pl.Connects[0].Network != "proj_front" ||
		pl.Connects[0].IP != "10.9.0.5" || !slices.Contains(pl.Connects[0].Aliases, "www") || !slices.Contains(q.NetworkAlias, "app") {
		t.Errorf("network %s aliases %v connects %+v", q.Network, q.NetworkAlias, pl.Connects)
	}
	side, err := PlanContainer(r.P, r.P.Services["side"], 1, "", r.containerOf)
	if err != nil || side.Request.Network != "container:proj-app-1" {
		t.Errorf("network_mode service: %v %v", side.Request.Network, err)
	}
}

func TestPlanMounts(t *testing.T) {
	dir, _, pl := planProject(t)
	var kinds []string
	for _, m := range pl.Request.Mounts {
		kinds = append(kinds, m.Type+":"+m.Source+":"+m.Target)
	}
	want := []string{"bind:" + filepath.Join(dir, "src") + ":/src", "volume:proj_data:/data", "tmpfs::/t", "bind:" + filepath.Join(dir, "token.txt") + ":/run/secrets/token"}
	if !slices.Equal(kinds, want) {
		t.Errorf("mounts %v, want %v", kinds, want)
	}
}

// TestPlanHash: the number does not change the hash (scaling keeps the other
// containers); another image, or another value of a secret from the environment, does.
func TestPlanHash(t *testing.T) {
	_, r, pl := planProject(t)
	p := r.P
	pl1, _ := PlanContainer(p, p.Services["app"], 1, "sha256:x", r.containerOf)
	pl3, _ := PlanContainer(p, p.Services["app"], 1, "sha256:y", r.containerOf)
	if pl1.Hash != pl.Hash || pl3.Hash == pl.Hash {
		t.Errorf("hash: same config %v, other image %v", pl1.Hash == pl.Hash, pl3.Hash != pl.Hash)
	}
	p.Secrets["token"] = types.SecretConfig{Environment: "TOKEN"}
	p.Environment["TOKEN"] = "one"
	a, err := PlanContainer(p, p.Services["app"], 1, "sha256:x", r.containerOf)
	if err != nil {
		t.Fatal(err)
	}
	p.Environment["TOKEN"] = "two"
	b, _ := PlanContainer(p, p.Services["app"], 1, "sha256:x", r.containerOf)
	if a.Hash == b.Hash || a.Request.Mounts[3].Source != filepath.Join(runtimeDir(p), "secrets", "token") {
		t.Errorf("secret from the environment: hash changed %v, source %s", a.Hash != b.Hash, a.Request.Mounts[3].Source)
	}
	delete(p.Environment, "TOKEN")
	if _, err := PlanContainer(p, p.Services["app"], 1, "sha256:x", r.containerOf); err == nil || !strings.Contains(err.Error(), "TOKEN is not set") {
		t.Errorf("unset variable: %v", err)
	}
}

func TestLoadNoFile(t *testing.T) {
	if _, err := loader.Load(context.Background(), loader.Options{WorkingDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no configuration file") {
		t.Errorf("no file: %v", err)
	}
}

// A host port range gives each container the next port; past its end, none is left.
func TestPortBindingsRange(t *testing.T) {
	pc := types.ServicePortConfig{Target: 80, Published: "9000-9002"}
	for n, want := range map[int]int{1: 9000, 3: 9002} {
		bs, err := portBindings(pc, n)
		if err != nil || len(bs) != 1 || bs[0].HostPort != want {
			t.Errorf("container #%d: %+v %v, want host port %d", n, bs, err, want)
		}
	}
	if _, err := portBindings(pc, 4); err == nil || !strings.Contains(err.Error(), "no host port left for container #4") {
		t.Errorf("container #4: %v", err)
	}
	if _, err := portBindings(types.ServicePortConfig{Target: 80, Published: "9005-9001"}, 1); err == nil {
		t.Error("a range that ends before it starts was taken")
	}
}
