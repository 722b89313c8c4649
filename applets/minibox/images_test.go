package minibox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/registry"
)

func TestCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	env := Env(func(k string) string {
		if k == "MINIBOX_CONFIG" {
			return dir
		}
		return ""
	})
	// Unknown keys of a Docker config.json survive our writes.
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{},"credsStore":"x"}`), 0o600)
	cf, p, err := readCreds(env)
	if err != nil {
		t.Fatal(err)
	}
	cf.Auths[registryKey("127.0.0.1:5000")] = credEntry{Auth: "dTpw"} // u:p
	cf.Auths[registryKey("docker.io")] = credEntry{Auth: "aHViOnNlY3JldA=="}
	if err := cf.write(p); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v, want 0600", fi.Mode())
	}
	var raw map[string]any
	b, _ := os.ReadFile(p)
	json.Unmarshal(b, &raw)
	if raw["credsStore"] != "x" || raw["auths"].(map[string]any)["https://index.docker.io/v1/"] == nil {
		t.Errorf("config.json = %s", b)
	}
	h, err := authFor(env, "127.0.0.1:5000/a/b:1")
	if err != nil {
		t.Fatal(err)
	}
	a, err := registry.DecodeAuthHeader(h)
	if err != nil || a.Username != "u" || a.Password != "p" {
		t.Errorf("auth for the local registry = %+v, %v", a, err)
	}
	h, _ = authFor(env, "alpine")
	if a, _ := registry.DecodeAuthHeader(h); a == nil || a.Username != "hub" {
		t.Errorf("auth for Docker Hub = %+v", a)
	}
	hc, err := RegistryConfigHeader(env)
	m, _ := registry.DecodeConfigHeader(hc)
	if err != nil || registry.ForRegistry(m, "docker.io") == nil || registry.ForRegistry(m, "127.0.0.1:5000").Password != "p" {
		t.Errorf("X-Registry-Config = %v, %v", m, err)
	}
	if h, _ := authFor(env, "ghcr.io/x/y"); h != "" {
		t.Errorf("auth for an unknown registry = %q, want none", h)
	}
}

func TestSaveArgs(t *testing.T) {
	for s, want := range map[string]bool{"out.tar": true, "x.tar.gz": true, "x.tgz": true, "/tmp/x": true, "./x": true,
		"../x": true, "busybox": false, "redis:7": false, "ghcr.io/a/b": false} {
		if archivePath(s) != want {
			t.Errorf("archivePath(%q) = %v", s, !want)
		}
	}
	if !strings.HasPrefix(bar(5, 10), "[===============               ]") {
		t.Errorf("bar(5,10) = %q", bar(5, 10))
	}
}
