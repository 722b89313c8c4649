package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const planFile = `services:
  app:
    image: busybox
    entrypoint: ["/bin/sh", "-c"]
    command: echo "a b" c
    env_file: app.env
    ports: ["127.0.0.1:8080:80/udp"]
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

func TestPlanContainer(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"compose.yaml": planFile, "app.env": "FROM_FILE=1\n", "token.txt": "s3cret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Load(context.Background(), Options{WorkingDir: dir, Name: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{P: p}
	pl, err := PlanContainer(p, p.Services["app"], 2, "sha256:x", r.containerOf)
	if err != nil {
		t.Fatal(err)
	}
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
	if len(q.Publish) != 1 || q.Publish[0].HostPort != 8080 || q.Publish[0].Protocol != "udp" || q.Publish[0].HostIP != "127.0.0.1" {
		t.Errorf("publish %+v", q.Publish)
	}
	if q.Network != "proj_back" || len(pl.Connects) != 1 || pl.Connects[0].Network != "proj_front" ||
		pl.Connects[0].IP != "10.9.0.5" || !slices.Contains(pl.Connects[0].Aliases, "www") || !slices.Contains(q.NetworkAlias, "app") {
		t.Errorf("network %s aliases %v connects %+v", q.Network, q.NetworkAlias, pl.Connects)
	}
	var kinds []string
	for _, m := range q.Mounts {
		kinds = append(kinds, m.Type+":"+m.Source+":"+m.Target)
	}
	want := []string{"bind:" + filepath.Join(dir, "src") + ":/src", "volume:proj_data:/data", "tmpfs::/t", "bind:" + filepath.Join(dir, "token.txt") + ":/run/secrets/token"}
	if !slices.Equal(kinds, want) {
		t.Errorf("mounts %v, want %v", kinds, want)
	}
	if q.CPUs != 0.5 || q.MemoryBytes != 64<<20 || q.PidsLimit != 50 || *q.StopTimeout != 3 || q.Ulimits[0] != "nofile=10:20" || q.ExtraHosts[0] != "h:1.2.3.4" {
		t.Errorf("limits %+v", q)
	}
	// The number does not change the hash: scaling keeps the other containers.
	pl1, _ := PlanContainer(p, p.Services["app"], 1, "sha256:x", r.containerOf)
	pl3, _ := PlanContainer(p, p.Services["app"], 1, "sha256:y", r.containerOf)
	if pl1.Hash != pl.Hash || pl3.Hash == pl.Hash {
		t.Errorf("hash: same config %v, other image %v", pl1.Hash == pl.Hash, pl3.Hash != pl.Hash)
	}
	side, err := PlanContainer(p, p.Services["side"], 1, "", r.containerOf)
	if err != nil || side.Request.Network != "container:proj-app-1" {
		t.Errorf("network_mode service: %v %v", side.Request.Network, err)
	}
	if _, err := Load(context.Background(), Options{WorkingDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no configuration file") {
		t.Errorf("no file: %v", err)
	}
}
