package loader

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
)

// A project that exercises what real files use: anchors and merge keys, extends (same
// file and another directory's file), an override file, .env, !reset and !override,
// profiles, build, env_file, secrets, ports and volumes in both syntaxes, healthchecks,
// deploy limits, networks with aliases, links and network_mode: service:.
var fixture = map[string]string{
	"proj/compose.yaml": `
name: ${NAME:-shop}
x-env: &env
  SHARED: "1"
x-svc: &svc
  restart: unless-stopped
  labels: [a=b]
services:
  web:
    <<: *svc
    extends: {file: ../common/base.yaml, service: base}
    build:
      context: ./web
      target: prod
      args: ["VERSION=${VERSION:-1.0}"]
    command: httpd -f -p ${PORT:-80}
    ports: ["${PORT:-8080}:80", {target: 443, published: "8443", protocol: tcp}]
    environment:
      <<: *env
      DB: postgres://db/${DB_NAME}
      FROM_HOST:
    env_file: [web.env, {path: missing.env, required: false}]
    depends_on:
      db: {condition: service_healthy, restart: true}
      cache: {condition: service_started}
    networks:
      front: {aliases: [www]}
      back:
    volumes: [./static:/srv/static:ro, data:/data, {type: tmpfs, target: /tmp, tmpfs: {size: 1m}}]
    secrets: [token]
    deploy: {replicas: 2, resources: {limits: {cpus: "0.5", memory: 64M}}}
    stop_grace_period: 3s
    stop_signal: SIGINT
    expose: ["9000"]
  db:
    image: postgres:16
    healthcheck: {test: ["CMD-SHELL", "pg_isready"], interval: 1s, retries: "${RETRIES:-5}"}
    volumes: [{type: volume, source: data, target: /var/lib/postgresql/data}]
    networks: [back]
    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}
  cache:
    image: redis
    links: [db]
  admin:
    image: busybox
    profiles: [cache]
  side:
    image: busybox
    network_mode: service:db
    ports: !reset []
  tool:
    extends: side
    command: ["echo", "$$HOME"]
    profiles: [tools]
networks:
  front: {}
  back: {internal: true}
  outside: {external: true}
volumes:
  data:
secrets:
  token: {file: ./token.txt}
`,
	"proj/compose.override.yaml": `
services:
  web:
    environment:
      OVERRIDDEN: "yes"
    labels: !override [c=d]
  side:
    ports: ["1000:1000"]
    dns: !reset []
`,
	"proj/.env":           "DB_NAME=shopdb\nVERSION=2.0\n",
	"proj/web.env":        "FROM_FILE=1\n",
	"proj/token.txt":      "s3cret",
	"common/base.yaml":    "services:\n  base:\n    image: busybox\n    working_dir: /app\n    volumes: [./conf:/conf]\n    dns: [1.1.1.1]\n",
	"proj/other.env":      "DB_NAME=otherdb\n",
	"proj/second.yaml":    "services:\n  db:\n    environment: {EXTRA: \"2\"}\n",
	"proj/web/MiniBox":    "FROM busybox\n",
	"proj/static/index":   "hi\n",
	"inc/compose.yaml":    "include:\n  - ../lib/db/compose.yaml\n  - path: [../lib/cache.yaml]\n    project_directory: ../lib\n    env_file: ../lib/cache.env\nservices:\n  web:\n    image: busybox\n    depends_on: [db, cache]\n    volumes: [./www:/www]\n",
	"lib/db/compose.yaml": "services:\n  db:\n    image: busybox:${DB_TAG}\n    volumes: [./init:/init, dbdata:/data]\nvolumes:\n  dbdata: {}\n",
	"lib/db/.env":         "DB_TAG=1.36\n",
	"lib/cache.yaml":      "services:\n  cache:\n    image: busybox\n    environment: [\"MODE=${CACHE_MODE}\"]\n    volumes: [./conf:/conf]\n",
	"lib/cache.env":       "CACHE_MODE=lru\n",
}

func writeFixture(t *testing.T) string {
	dir := t.TempDir()
	for name, body := range fixture {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadMatchesComposeGo loads the same projects with our pipeline and with
// compose-go's own loader (linked into this test only) and wants the same project.
func TestLoadMatchesComposeGo(t *testing.T) {
	dir := writeFixture(t)
	proj := filepath.Join(dir, "proj")
	env := []string{"FROM_HOST=host-value", "PORT=8081", "HOME=/root"}
	cases := []Options{
		{WorkingDir: proj},
		{WorkingDir: proj, Profiles: []string{"cache", "tools"}},
		{WorkingDir: proj, EnvFiles: []string{filepath.Join(proj, "other.env")}, Name: "other"},
		{Files: []string{filepath.Join(proj, "compose.yaml"), filepath.Join(proj, "second.yaml")}},
		{WorkingDir: filepath.Join(dir, "inc")},
	}
	for i, o := range cases {
		o.Env = env
		ours, err := Load(context.Background(), o)
		if err != nil {
			t.Fatalf("case %d: ours: %v", i, err)
		}
		opts := []cli.ProjectOptionsFn{cli.WithEnv(o.Env), cli.WithEnvFiles(o.EnvFiles...), cli.WithDotEnv,
			cli.WithDefaultConfigPath, cli.WithDefaultProfiles(o.Profiles...), cli.WithName(o.Name), cli.WithResolvedPaths(true)}
		if o.WorkingDir != "" {
			opts = append([]cli.ProjectOptionsFn{cli.WithWorkingDirectory(o.WorkingDir)}, opts...)
		}
		po, err := cli.NewProjectOptions(o.Files, opts...)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := po.LoadProject(context.Background())
		if err != nil {
			t.Fatalf("case %d: compose-go: %v", i, err)
		}
		a, err := ours.MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		b, err := theirs.MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(b), string(a)); d != "" {
			t.Errorf("case %d: ours differs from compose-go (-theirs +ours):\n%s", i, d)
		}
		if ours.Name != theirs.Name || !cmp.Equal(ours.ComposeFiles, theirs.ComposeFiles) || ours.WorkingDir != theirs.WorkingDir ||
			!cmp.Equal(ours.DisabledServiceNames(), theirs.DisabledServiceNames()) {
			t.Errorf("case %d: name %q/%q files %v/%v dir %q/%q disabled %v/%v", i, ours.Name, theirs.Name, ours.ComposeFiles, theirs.ComposeFiles,
				ours.WorkingDir, theirs.WorkingDir, ours.DisabledServiceNames(), theirs.DisabledServiceNames())
		}
	}
}

// TestLoadErrors: bad input is one error naming the file and the key.
func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"services:\n  web:\n    image: busybox\n    bogus: 1\n", `services.web: unknown key "bogus"`},
		{"servics:\n  web:\n    image: busybox\n", `"servics": unknown top-level key`},
		{"services:\n  web:\n    image: busybox\n    healthcheck: {test: [CMD, x], intervl: 1s}\n", `services.web.healthcheck: unknown key "intervl"`},
		{"services:\n  web:\n    image: busybox\n    ports: [{target: abc}]\n", `services.web.ports`},
		{"services:\n  web:\n    image: busybox\n    read_only: maybe\n", `read_only`},
		{"services:\n  web:\n    image: busybox\n    depends_on: [nosuch]\n", `services.web.depends_on: unknown service "nosuch"`},
		{"services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n", `dependency cycle: a -> b -> a`},
		{"services:\n  web:\n    image: busybox\n    environment: [\"X=${NEED:?set NEED first}\"]\n", `services.web.environment`},
		{"services:\n  web:\n    image: busybox\n    networks: [nonet]\n", `services.web.networks: undefined network "nonet"`},
		{"services:\n  web:\n    image: busybox\n    volumes: [novol:/x]\n", `undefined volume "novol"`},
		{"services:\n  web:\n    command: x\n", `services.web: neither image nor build`},
		{"services:\n  web:\n    extends: web\n    image: busybox\n", `services.web.extends: cycle`},
		{"- a\n- b\n", `the top level must be a mapping`},
		{"services:\n  web:\n    image: busybox\n  web:\n    image: other\n", `already defined`},
	} {
		dir := t.TempDir()
		f := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(f, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), Options{Files: []string{f}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%q: err = %v, want it to name bad.yaml and say %q", c.file, err, c.want)
		}
	}
}

// TestLoadOriginal: the original dialect's keys, and its meanings in minibox-compose files
// only.
func TestLoadOriginal(t *testing.T) {
	const body = "services:\n  db:\n    image: busybox\n    db_mode: true\n    shm_size: 64\n  web:\n    image: busybox\n    data: /d\n"
	for _, c := range []struct {
		file string
		shm  int64
	}{{"minibox-compose.yaml", 64 << 20}, {"compose.yaml", 64}} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), Options{WorkingDir: dir, Name: "legacy"})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		db := p.Services["db"]
		if int64(db.ShmSize) != c.shm {
			t.Errorf("%s: shm_size = %d, want %d", c.file, db.ShmSize, c.shm)
		}
		if on, data := DBMode(db); !on || data != DefaultDBData {
			t.Errorf("%s: db_mode = %v at %q, want on at %s", c.file, on, data, DefaultDBData)
		}
		if on, data := DBMode(p.Services["web"]); on || data != "/d" {
			t.Errorf("%s: web db_mode = %v at %q, want off at /d", c.file, on, data)
		}
		for svc, target := range map[string]string{"db": DefaultDBData, "web": "/d"} {
			vols := p.Services[svc].Volumes
			if len(vols) != 1 || vols[0].Source != svc+"-data" || vols[0].Target != target || p.Volumes[svc+"-data"].Name != "legacy-"+svc+"-data" {
				t.Errorf("%s: %s volumes = %+v, top level %+v", c.file, svc, vols, p.Volumes)
			}
		}
	}
}

// TestImagesResolved runs compose-go's digest pinning over the stand-in for
// distribution/reference the build links (go.mod replaces it): short names are
// normalised, a tag kept, a digested image left alone, a bad name refused.
func TestImagesResolved(t *testing.T) {
	const sum = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	p := &types.Project{Services: types.Services{}}
	for name, image := range map[string]string{"a": "busybox", "b": "localhost:5000/team/app:1.2", "c": "alpine@" + sum} {
		s := types.ServiceConfig{Name: name}
		s.Image = image
		p.Services[name] = s
	}
	var asked []string
	var mu sync.Mutex
	out, err := p.WithImagesResolved(func(n reference.Named) (digest.Digest, error) {
		mu.Lock()
		asked = append(asked, n.String())
		mu.Unlock()
		return digest.Digest(sum), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	if want := []string{"docker.io/library/busybox:latest", "localhost:5000/team/app:1.2"}; !slices.Equal(asked, want) {
		t.Errorf("resolver asked for %v, want %v", asked, want)
	}
	for svc, want := range map[string]string{"a": "docker.io/library/busybox:latest@" + sum, "b": "localhost:5000/team/app:1.2@" + sum, "c": "docker.io/library/alpine@" + sum} {
		if got := out.Services[svc].Image; got != want {
			t.Errorf("%s: image %q, want %q", svc, got, want)
		}
	}
	for _, bad := range []string{"docker.io/UPPER/x", "a:b:c", "x@sha256:12", "-x"} {
		s := types.ServiceConfig{Name: "a"}
		s.Image = bad
		p := &types.Project{Services: types.Services{"a": s}}
		if _, err := p.WithImagesResolved(func(reference.Named) (digest.Digest, error) { return sum, nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
