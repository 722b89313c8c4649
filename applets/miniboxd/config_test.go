package miniboxd

import (
	"github.com/minibox/minibox/pkg/build"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"MINIBOX_DATA_ROOT", c.DataRoot, "/var/lib/minibox"},
		{"MINIBOX_HTTP_ADDR", c.HTTPAddr, "127.0.0.1:8080"},
		{"MINIBOX_API_TOKEN", c.APIToken, ""},
		{"MINIBOX_BUILD_PREFIXES", len(c.BuildPrefixes), 0},
		{"MINIBOX_SUBUID_BASE", c.SubUIDBase, uint32(100000)},
		{"MINIBOX_SUBUID_COUNT", c.SubUIDCount, uint32(65536)},
		{"MINIBOX_USERNS", c.UserNS, "host"},
		{"MINIBOX_INDEX_ON_STARTUP", c.IndexOnStartup, true},
		{"MINIBOX_BRIDGE_ON_STARTUP", c.BridgeOnStartup, true},
		{"MINIBOX_INDEX_LAYERS", c.IndexLayers, true},
		{"MINIBOX_ENCRYPTION_KEY", c.EncryptionKey == nil, true},
		{"MINIBOX_BRIDGE_SUBNET", c.BridgeSubnet, netip.MustParsePrefix("172.19.0.0/24")},
		{"MINIBOX_LAZY", c.Lazy, false},
		{"MINIBOX_BUILD_WORKERS", c.BuildWorkers, build.DefaultWorkers},
		{"MINIBOX_WARM_SHIMS", c.WarmShims, 2},
		{"MINIBOX_MAX_IMPORT_SIZE", c.MaxImportSize, int64(64 << 30)},
		{"MINIBOX_LOG_LEVEL", c.LogLevel, slog.LevelInfo},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s default = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigValues(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"MINIBOX_DATA_ROOT": " /srv/mb/ ", "MINIBOX_HTTP_ADDR": "unix:/run/mb.sock", "MINIBOX_API_TOKEN": "t0k",
		"MINIBOX_BUILD_PREFIXES": "/srv/a, ,/srv/b", "MINIBOX_SUBUID_BASE": "200000", "MINIBOX_SUBUID_COUNT": "1000",
		"MINIBOX_USERNS": "auto", "MINIBOX_INDEX_ON_STARTUP": "0", "MINIBOX_BRIDGE_ON_STARTUP": "0",
		"MINIBOX_INDEX_LAYERS": "0", "MINIBOX_ENCRYPTION_KEY": strings.Repeat("ab", 32),
		"MINIBOX_BRIDGE_SUBNET": "10.9.0.5/16", "MINIBOX_LAZY": "1", "MINIBOX_BUILD_WORKERS": "3", "MINIBOX_DEBUG": "1",
		"MINIBOX_WARM_SHIMS": "0", "MINIBOX_MAX_IMPORT_SIZE": "3g",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataRoot != "/srv/mb" || c.HTTPAddr != "unix:/run/mb.sock" || c.APIToken != "t0k" ||
		len(c.BuildPrefixes) != 2 || c.SubUIDBase != 200000 || c.SubUIDCount != 1000 || c.UserNS != "auto" ||
		c.IndexOnStartup || c.BridgeOnStartup || c.IndexLayers || len(c.EncryptionKey) != 32 ||
		c.BridgeSubnet != netip.MustParsePrefix("10.9.0.0/16") || !c.Lazy || c.BuildWorkers != 3 || c.LogLevel != slog.LevelDebug || c.WarmShims != 0 ||
		c.MaxImportSize != 3<<30 {
		t.Fatalf("parsed %+v", c)
	}
}

func TestConfigBadValues(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"MINIBOX_DATA_ROOT", "rel/dir", "MINIBOX_DATA_ROOT=rel/dir: not an absolute path; expected"},
		{"MINIBOX_DATA_ROOT", "/usr", "a system directory"},
		{"MINIBOX_HTTP_ADDR", "localhost", "does not parse as host:port"},
		{"MINIBOX_HTTP_ADDR", "127.0.0.1:99999", "port \"99999\" is not 1-65535"},
		{"MINIBOX_HTTP_ADDR", "unix:rel.sock", "not absolute"},
		{"MINIBOX_API_TOKEN", "a b", "MINIBOX_API_TOKEN=<hidden>: contains a space"},
		{"MINIBOX_BUILD_PREFIXES", "/ok,rel", "\"rel\" is not absolute"},
		{"MINIBOX_SUBUID_BASE", "-1", "MINIBOX_SUBUID_BASE=-1: not a positive integer"},
		{"MINIBOX_SUBUID_COUNT", "lots", "MINIBOX_SUBUID_COUNT=lots: not a positive integer"},
		{"MINIBOX_SUBUID_COUNT", "4294967295", "reaches 2^32"},
		{"MINIBOX_USERNS", "private", "MINIBOX_USERNS=private: unknown mode; expected host or auto"},
		{"MINIBOX_INDEX_ON_STARTUP", "true", "not 0 or 1; expected 0 or 1"},
		{"MINIBOX_BRIDGE_ON_STARTUP", "yes", "not 0 or 1"},
		{"MINIBOX_INDEX_LAYERS", "2", "not 0 or 1"},
		{"MINIBOX_ENCRYPTION_KEY", "deadbeef", "8 characters, not 64 hex digits"},
		{"MINIBOX_ENCRYPTION_KEY", strings.Repeat("zz", 32), "not 64 hex digits"},
		{"MINIBOX_BRIDGE_SUBNET", "172.19.0.0/30", "not an IPv4 CIDR from /8 to /29"},
		{"MINIBOX_BRIDGE_SUBNET", "fd00::/64", "not an IPv4 CIDR"},
		{"MINIBOX_LAZY", "on", "MINIBOX_LAZY=on: not 0 or 1"},
		{"MINIBOX_BUILD_WORKERS", "0", "MINIBOX_BUILD_WORKERS=0: not a positive integer"},
		{"MINIBOX_WARM_SHIMS", "-1", "MINIBOX_WARM_SHIMS=-1: not an integer from 0 to 64"},
		{"MINIBOX_WARM_SHIMS", "many", "not an integer from 0 to 64"},
		{"MINIBOX_MAX_IMPORT_SIZE", "lots", "MINIBOX_MAX_IMPORT_SIZE=lots: not a size of at least 1 MiB"},
		{"MINIBOX_MAX_IMPORT_SIZE", "1000", "not a size of at least 1 MiB"},
		{"MINIBOX_MAX_IMPORT_SIZE", "-5G", "not a size"},
		{"MINIBOX_MAX_IMPORT_SIZE", "99999999T", "not a size"},
		{"MINIBOX_LOG_DRIVER", "syslog", "MINIBOX_LOG_DRIVER=syslog: unknown log driver; expected local, json-file or none"},
		{"MINIBOX_LOG_MAX_SIZE", "ten", "MINIBOX_LOG_MAX_SIZE=ten: not a size"},
		{"MINIBOX_LOG_MAX_SIZE", "-1m", "not a size"},
		{"MINIBOX_LOG_MAX_FILE", "0", "MINIBOX_LOG_MAX_FILE=0: not a number from 1 to 1000"},
		{"MINIBOX_GPU_DRIVER_ROOT", "run/nvidia/driver", "MINIBOX_GPU_DRIVER_ROOT=run/nvidia/driver: not an existing absolute directory"},
		{"MINIBOX_GPU_DRIVER_ROOT", "/nonexistent/driver", "not an existing absolute directory"},
		{"MINIBOX_LOG_LEVEL", "loud", "MINIBOX_LOG_LEVEL=loud: unknown level; expected debug, info, warn or error"},
	} {
		_, err := LoadConfig(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "miniboxd: "+tc.name+"=") {
			t.Errorf("%s=%s: error %v, want it to contain %q", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:80": true,
		":8080": false, "0.0.0.0:80": false, "10.0.0.1:80": false, "unix:/run/x": true} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestConfigDockerAPI(t *testing.T) {
	long := "/srv/" + strings.Repeat("d", 120)
	cases := []struct {
		env          map[string]string
		want, errHas string
	}{
		{nil, "unix:/run/minibox/docker.sock", ""},
		{map[string]string{"MINIBOX_DATA_ROOT": "/srv/mb"}, "unix:/srv/mb/docker.sock", ""},
		{map[string]string{"MINIBOX_HTTP_ADDR": "unix:/run/mb/api.sock"}, "unix:/run/mb/docker.sock", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "off"}, "", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "unix:///tmp/d.sock"}, "unix:/tmp/d.sock", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "unix:/tmp/d.sock"}, "unix:/tmp/d.sock", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "127.0.0.1:2375", "MINIBOX_API_TOKEN": "t"}, "127.0.0.1:2375", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "tcp://127.0.0.1:2375", "MINIBOX_API_TOKEN": "t"}, "127.0.0.1:2375", ""},
		{map[string]string{"MINIBOX_DOCKER_API": "127.0.0.1:2375"}, "", "needs MINIBOX_API_TOKEN"},
		{map[string]string{"MINIBOX_DOCKER_API": "unix://relative.sock"}, "", "not absolute"},
		{map[string]string{"MINIBOX_DOCKER_API": "nonsense"}, "", "MINIBOX_DOCKER_API=nonsense"},
		{map[string]string{"MINIBOX_DOCKER_API": "127.0.0.1:8080", "MINIBOX_API_TOKEN": "t"}, "", "same address"},
		{map[string]string{"MINIBOX_DOCKER_API": "unix://" + long + "/d.sock"}, "", "longer than 107"},
		{map[string]string{"MINIBOX_DATA_ROOT": long}, "", "set MINIBOX_DOCKER_API"},
	}
	for _, c := range cases {
		cfg, err := LoadConfig(env(c.env))
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("%v: err = %v, want one containing %q", c.env, err, c.errHas)
			}
			continue
		}
		if err != nil || cfg.DockerAPI != c.want {
			t.Errorf("%v: DockerAPI = %q, %v; want %q", c.env, cfg.DockerAPI, err, c.want)
		}
	}
}
