package miniboxd

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/build"

	"github.com/minibox/minibox/pkg/engine"
)

// systemDirs may never be a data root: prune and clean-data would wreck the host.
var systemDirs = map[string]bool{"/": true, "/bin": true, "/boot": true, "/dev": true, "/etc": true,
	"/home": true, "/lib": true, "/proc": true, "/root": true, "/run": true, "/sbin": true,
	"/sys": true, "/usr": true, "/var": true}

// ConfigError names the variable, its value and what was expected.
type ConfigError struct{ Var, Value, Problem, Expected string }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("miniboxd: %s=%s: %s; expected %s", e.Var, e.Value, e.Problem, e.Expected)
}

// LoadConfig reads and validates every daemon variable (trimmed; empty = unset).
func LoadConfig(getenv func(string) string) (engine.Config, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := engine.Config{
		DataRoot: "/var/lib/minibox", HTTPAddr: "127.0.0.1:8080", SubUIDBase: 100000,
		SubUIDCount: 65536, UserNS: "host", IndexOnStartup: true, BridgeOnStartup: true,
		IndexLayers: true, BridgeSubnet: netip.MustParsePrefix("172.19.0.0/24"),
		BuildWorkers: build.DefaultWorkers, WarmShims: 2, LogLevel: slog.LevelInfo,
		MaxImportSize: 64 << 30,
	}
	bad := func(k, problem, expected string) error {
		return &ConfigError{k, env(k), problem, expected}
	}
	if v := env("MINIBOX_DATA_ROOT"); v != "" {
		if !filepath.IsAbs(v) {
			return c, bad("MINIBOX_DATA_ROOT", "not an absolute path", "an absolute directory such as /var/lib/minibox")
		}
		v = filepath.Clean(v)
		if systemDirs[v] {
			return c, bad("MINIBOX_DATA_ROOT", "a system directory", "a dedicated directory such as /var/lib/minibox")
		}
		c.DataRoot = v
	}
	if v := env("MINIBOX_HTTP_ADDR"); v != "" {
		if err := checkAddr(v); err != nil {
			return c, bad("MINIBOX_HTTP_ADDR", err.Error(), "host:port (\":8080\" = all interfaces) or unix:<path>")
		}
		c.HTTPAddr = v
	}
	if v := env("MINIBOX_API_TOKEN"); v != "" {
		for _, r := range v {
			if r <= ' ' || r > '~' {
				return c, &ConfigError{"MINIBOX_API_TOKEN", "<hidden>", "contains a space or a non-printable character", "printable ASCII without spaces"}
			}
		}
		c.APIToken = v
	}
	if err := dockerAPIConfig(&c, env("MINIBOX_DOCKER_API")); err != nil {
		return c, err
	}
	if v := env("MINIBOX_BUILD_PREFIXES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if !filepath.IsAbs(p) {
				return c, bad("MINIBOX_BUILD_PREFIXES", fmt.Sprintf("%q is not absolute", p), "a comma-separated list of absolute directories")
			}
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			c.BuildPrefixes = append(c.BuildPrefixes, filepath.Clean(p))
		}
	}
	for _, u := range []struct {
		name string
		dst  *uint32
	}{{"MINIBOX_SUBUID_BASE", &c.SubUIDBase}, {"MINIBOX_SUBUID_COUNT", &c.SubUIDCount}} {
		if v := env(u.name); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n < 1 {
				return c, bad(u.name, "not a positive integer", "an integer of at least 1")
			}
			*u.dst = uint32(n)
		}
	}
	if uint64(c.SubUIDBase)+uint64(c.SubUIDCount) >= 1<<32 {
		return c, bad("MINIBOX_SUBUID_COUNT", fmt.Sprintf("base %d + count %d reaches 2^32", c.SubUIDBase, c.SubUIDCount), "MINIBOX_SUBUID_BASE + MINIBOX_SUBUID_COUNT below 4294967296")
	}
	if v := env("MINIBOX_USERNS"); v != "" {
		if v != "host" && v != "auto" {
			return c, bad("MINIBOX_USERNS", "unknown mode", "host or auto")
		}
		c.UserNS = v
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"MINIBOX_INDEX_ON_STARTUP", &c.IndexOnStartup}, {"MINIBOX_BRIDGE_ON_STARTUP", &c.BridgeOnStartup},
		{"MINIBOX_INDEX_LAYERS", &c.IndexLayers}, {"MINIBOX_LAZY", &c.Lazy}} {
		switch env(b.name) {
		case "":
		case "0":
			*b.dst = false
		case "1":
			*b.dst = true
		default:
			return c, bad(b.name, "not 0 or 1", "0 or 1")
		}
	}
	if v := env("MINIBOX_ENCRYPTION_KEY"); v != "" {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) != 32 {
			return c, &ConfigError{"MINIBOX_ENCRYPTION_KEY", "<hidden>", fmt.Sprintf("%d characters, not 64 hex digits", len(v)), "64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`"}
		}
		c.EncryptionKey = k
	}
	if v := env("MINIBOX_BRIDGE_SUBNET"); v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 29 {
			return c, bad("MINIBOX_BRIDGE_SUBNET", "not an IPv4 CIDR from /8 to /29", "an IPv4 CIDR such as 172.19.0.0/24")
		}
		c.BridgeSubnet = p.Masked()
	}
	if v := env("MINIBOX_NETWORK_POOL"); v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 24 {
			return c, bad("MINIBOX_NETWORK_POOL", "not an IPv4 CIDR from /8 to /24", "an IPv4 CIDR such as 10.210.0.0/16, cut into /24s for networks")
		}
		c.NetworkPool = p.Masked()
	}
	if v := env("MINIBOX_DNS_UPSTREAM"); v != "" {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			ap, err := netip.ParseAddrPort(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return c, bad("MINIBOX_DNS_UPSTREAM", fmt.Sprintf("%q is not ip or ip:port", f), "comma-separated ip[:port] of DNS servers, e.g. 192.0.2.53,192.0.2.54:5353")
				}
				ap = netip.AddrPortFrom(a, 53)
			}
			if ap.Port() == 0 {
				return c, bad("MINIBOX_DNS_UPSTREAM", fmt.Sprintf("%q has port 0", f), "comma-separated ip[:port] of DNS servers")
			}
			c.DNSUpstream = append(c.DNSUpstream, ap.String())
		}
	}
	if v := env("MINIBOX_BUILD_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, bad("MINIBOX_BUILD_WORKERS", "not a positive integer", "an integer of at least 1")
		}
		c.BuildWorkers = n
	}
	if v := env("MINIBOX_WARM_SHIMS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 64 {
			return c, bad("MINIBOX_WARM_SHIMS", "not an integer from 0 to 64", "how many shims to keep started ahead of containers (0: none)")
		}
		c.WarmShims = n
	}
	if v := env("MINIBOX_MAX_IMPORT_SIZE"); v != "" {
		n, err := parseSize(v)
		if err != nil || n < 1<<20 {
			return c, bad("MINIBOX_MAX_IMPORT_SIZE", "not a size of at least 1 MiB", "bytes, or a number with K, M, G or T (powers of 1024), e.g. 64G")
		}
		c.MaxImportSize = n
	}
	level := env("MINIBOX_LOG_LEVEL")
	if level == "" && env("MINIBOX_DEBUG") == "1" {
		level = "debug"
	}
	switch level {
	case "", "info":
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, bad("MINIBOX_LOG_LEVEL", "unknown level", "debug, info, warn or error")
	}
	return c, nil
}

// maxSocketPath is the longest path a unix socket address holds (sun_path less its NUL).
const maxSocketPath = 107

// dockerAPIConfig reads MINIBOX_DOCKER_API: unix:///path (or unix:/path), host:port (or
// tcp://host:port; it needs MINIBOX_API_TOKEN), or off. Unset, the socket sits beside the
// daemon's own: /run/minibox/docker.sock for the default data root, else in the
// directory of MINIBOX_HTTP_ADDR's socket, else in the data root, so that two daemons
// never share one.
func dockerAPIConfig(c *engine.Config, v string) error {
	const expected = "unix:///path/docker.sock, host:port (with MINIBOX_API_TOKEN) or off"
	bad := func(problem string) error { return &ConfigError{"MINIBOX_DOCKER_API", v, problem, expected} }
	switch {
	case v == "off":
		c.DockerAPI = ""
		return nil
	case v == "":
		p := filepath.Join(c.DataRoot, "docker.sock")
		if sock, ok := strings.CutPrefix(c.HTTPAddr, "unix:"); ok {
			p = filepath.Join(filepath.Dir(sock), "docker.sock")
		} else if c.DataRoot == "/var/lib/minibox" {
			p = "/run/minibox/docker.sock"
		}
		if len(p) > maxSocketPath {
			return &ConfigError{"MINIBOX_DOCKER_API", "", fmt.Sprintf("unset, and the default socket %s is longer than %d bytes: set MINIBOX_DOCKER_API", p, maxSocketPath), expected}
		}
		c.DockerAPI = "unix:" + p
		return nil
	}
	if p, ok := strings.CutPrefix(v, "unix://"); ok {
		v = "unix:" + p
	}
	if p, ok := strings.CutPrefix(v, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return bad("socket path is not absolute")
		}
		if len(p) > maxSocketPath {
			return bad(fmt.Sprintf("socket path longer than %d bytes", maxSocketPath))
		}
		if c.HTTPAddr == "unix:"+filepath.Clean(p) {
			return bad("the same socket as MINIBOX_HTTP_ADDR")
		}
		c.DockerAPI = "unix:" + filepath.Clean(p)
		return nil
	}
	addr := strings.TrimPrefix(v, "tcp://")
	if strings.HasPrefix(addr, "unix:") {
		return bad("socket path is not absolute")
	}
	if err := checkAddr(addr); err != nil {
		return bad(err.Error())
	}
	if c.APIToken == "" {
		return bad("a TCP address needs MINIBOX_API_TOKEN (the docker CLI sends it from \"HttpHeaders\" in its config.json)")
	}
	if addr == c.HTTPAddr {
		return bad("the same address as MINIBOX_HTTP_ADDR")
	}
	c.DockerAPI = addr
	return nil
}

// parseSize reads "1048576", "512M", "64G", "1TiB" (powers of 1024).
func parseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	shift := 0
	if s != "" {
		if i := strings.IndexByte("KMGT", s[len(s)-1]); i >= 0 {
			shift = 10 * (i + 1)
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q", v)
	}
	return n << shift, nil
}

func checkAddr(v string) error {
	if p, ok := strings.CutPrefix(v, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("socket path %q is not absolute", p)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("does not parse as host:port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not 1-65535", port)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("host %q is not an IP address", host)
		}
	}
	return nil
}

// IsLoopback reports whether addr only listens on loopback (or a unix socket).
func IsLoopback(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
