package miniboxd

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/build"
	"github.com/minibox/minibox/pkg/logfile"

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
		// Docker's local driver keeps 5 files of 20 MiB: a chatty container cannot fill the disk.
		ContainerLog: logfile.Config{Driver: logfile.DriverLocal, MaxSize: 20 << 20, MaxFiles: 5},
	}
	for _, s := range settings {
		v := env(s.name)
		if v == "" {
			continue
		}
		if problem, expected := s.set(&c, v); problem != "" {
			if s.secret {
				v = "<hidden>"
			}
			return c, &ConfigError{s.name, v, problem, expected}
		}
	}
	// Its default depends on the data root and the native API's address.
	if err := dockerAPIConfig(&c, env("MINIBOX_DOCKER_API")); err != nil {
		return c, err
	}
	if uint64(c.SubUIDBase)+uint64(c.SubUIDCount) >= 1<<32 {
		return c, &ConfigError{"MINIBOX_SUBUID_COUNT", env("MINIBOX_SUBUID_COUNT"),
			fmt.Sprintf("base %d + count %d reaches 2^32", c.SubUIDBase, c.SubUIDCount),
			"MINIBOX_SUBUID_BASE + MINIBOX_SUBUID_COUNT below 4294967296"}
	}
	level := env("MINIBOX_LOG_LEVEL")
	if level == "" && env("MINIBOX_DEBUG") == "1" {
		level = "debug"
	}
	levels := map[string]slog.Level{"": slog.LevelInfo, "info": slog.LevelInfo, "debug": slog.LevelDebug,
		"warn": slog.LevelWarn, "error": slog.LevelError}
	l, ok := levels[level]
	if !ok {
		return c, &ConfigError{"MINIBOX_LOG_LEVEL", level, "unknown level", "debug, info, warn or error"}
	}
	c.LogLevel = l
	return c, nil
}

// setting is one daemon variable: set parses a non-empty value into the config, or says
// what is wrong with it and what was expected. A secret's value is never echoed.
type setting struct {
	name   string
	secret bool
	set    func(c *engine.Config, v string) (problem, expected string)
}

// settings are the daemon's variables, in the order they are checked.
var settings = []setting{
	{name: "MINIBOX_DATA_ROOT", set: func(c *engine.Config, v string) (string, string) {
		if !filepath.IsAbs(v) {
			return "not an absolute path", "an absolute directory such as /var/lib/minibox"
		}
		if v = filepath.Clean(v); systemDirs[v] {
			return "a system directory", "a dedicated directory such as /var/lib/minibox"
		}
		c.DataRoot = v
		return "", ""
	}},
	{name: "MINIBOX_HTTP_ADDR", set: func(c *engine.Config, v string) (string, string) {
		if err := checkAddr(v); err != nil {
			return err.Error(), "host:port (\":8080\" = all interfaces) or unix:<path>"
		}
		c.HTTPAddr = v
		return "", ""
	}},
	{name: "MINIBOX_API_TOKEN", secret: true, set: func(c *engine.Config, v string) (string, string) {
		for _, r := range v {
			if r <= ' ' || r > '~' {
				return "contains a space or a non-printable character", "printable ASCII without spaces"
			}
		}
		c.APIToken = v
		return "", ""
	}},
	{name: "MINIBOX_BUILD_PREFIXES", set: func(c *engine.Config, v string) (string, string) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if !filepath.IsAbs(p) {
				return fmt.Sprintf("%q is not absolute", p), "a comma-separated list of absolute directories"
			}
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			c.BuildPrefixes = append(c.BuildPrefixes, filepath.Clean(p))
		}
		return "", ""
	}},
	{name: "MINIBOX_GPU_DRIVER_ROOT", set: func(c *engine.Config, v string) (string, string) {
		fi, err := os.Stat(v)
		if !filepath.IsAbs(v) || err != nil || !fi.IsDir() {
			return "not an existing absolute directory", "the directory the NVIDIA driver is installed under (its dev/, usr/lib, usr/bin), e.g. /run/nvidia/driver"
		}
		c.GPUDriverRoot = filepath.Clean(v)
		return "", ""
	}},
	{name: "MINIBOX_SUBUID_BASE", set: func(c *engine.Config, v string) (string, string) { return positiveUint32(v, &c.SubUIDBase) }},
	{name: "MINIBOX_SUBUID_COUNT", set: func(c *engine.Config, v string) (string, string) { return positiveUint32(v, &c.SubUIDCount) }},
	{name: "MINIBOX_USERNS", set: func(c *engine.Config, v string) (string, string) {
		if v != "host" && v != "auto" {
			return "unknown mode", "host or auto"
		}
		c.UserNS = v
		return "", ""
	}},
	{name: "MINIBOX_INDEX_ON_STARTUP", set: func(c *engine.Config, v string) (string, string) { return flag(v, &c.IndexOnStartup) }},
	{name: "MINIBOX_BRIDGE_ON_STARTUP", set: func(c *engine.Config, v string) (string, string) { return flag(v, &c.BridgeOnStartup) }},
	{name: "MINIBOX_INDEX_LAYERS", set: func(c *engine.Config, v string) (string, string) { return flag(v, &c.IndexLayers) }},
	{name: "MINIBOX_LAZY", set: func(c *engine.Config, v string) (string, string) { return flag(v, &c.Lazy) }},
	{name: "MINIBOX_ENCRYPTION_KEY", secret: true, set: func(c *engine.Config, v string) (string, string) {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) != 32 {
			return fmt.Sprintf("%d characters, not 64 hex digits", len(v)), "64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`"
		}
		c.EncryptionKey = k
		return "", ""
	}},
	{name: "MINIBOX_BRIDGE_SUBNET", set: func(c *engine.Config, v string) (string, string) {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 29 {
			return "not an IPv4 CIDR from /8 to /29", "an IPv4 CIDR such as 172.19.0.0/24"
		}
		c.BridgeSubnet = p.Masked()
		return "", ""
	}},
	{name: "MINIBOX_NETWORK_POOL", set: func(c *engine.Config, v string) (string, string) {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 24 {
			return "not an IPv4 CIDR from /8 to /24", "an IPv4 CIDR such as 10.210.0.0/16, cut into /24s for networks"
		}
		c.NetworkPool = p.Masked()
		return "", ""
	}},
	{name: "MINIBOX_DNS_UPSTREAM", set: func(c *engine.Config, v string) (string, string) {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			ap, err := netip.ParseAddrPort(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return fmt.Sprintf("%q is not ip or ip:port", f), "comma-separated ip[:port] of DNS servers, e.g. 192.0.2.53,192.0.2.54:5353"
				}
				ap = netip.AddrPortFrom(a, 53)
			}
			if ap.Port() == 0 {
				return fmt.Sprintf("%q has port 0", f), "comma-separated ip[:port] of DNS servers"
			}
			c.DNSUpstream = append(c.DNSUpstream, ap.String())
		}
		return "", ""
	}},
	{name: "MINIBOX_BUILD_WORKERS", set: func(c *engine.Config, v string) (string, string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "not a positive integer", "an integer of at least 1"
		}
		c.BuildWorkers = n
		return "", ""
	}},
	{name: "MINIBOX_WARM_SHIMS", set: func(c *engine.Config, v string) (string, string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 64 {
			return "not an integer from 0 to 64", "how many shims to keep started ahead of containers (0: none)"
		}
		c.WarmShims = n
		return "", ""
	}},
	{name: "MINIBOX_MAX_IMPORT_SIZE", set: func(c *engine.Config, v string) (string, string) {
		n, err := parseSize(v)
		if err != nil || n < 1<<20 {
			return "not a size of at least 1 MiB", "bytes, or a number with K, M, G or T (powers of 1024), e.g. 64G"
		}
		c.MaxImportSize = n
		return "", ""
	}},
	{name: "MINIBOX_LOG_DRIVER", set: func(c *engine.Config, v string) (string, string) {
		if !logfile.ValidDriver(v) {
			return "unknown log driver", "local, json-file or none (how containers' output is kept)"
		}
		c.ContainerLog.Driver = v
		return "", ""
	}},
	{name: "MINIBOX_LOG_MAX_SIZE", set: func(c *engine.Config, v string) (string, string) {
		n, err := logfile.ParseSize(v)
		if err != nil {
			return "not a size", "bytes per container log file before it rotates, with k, m or g (e.g. 10m; 0: never rotate)"
		}
		c.ContainerLog.MaxSize = n
		return "", ""
	}},
	{name: "MINIBOX_LOG_MAX_FILE", set: func(c *engine.Config, v string) (string, string) {
		n, err := logfile.ParseMaxFile(v)
		if err != nil {
			return "not a number from 1 to 1000", "how many files a rotated container log keeps, the current one included (e.g. 3)"
		}
		c.ContainerLog.MaxFiles = n
		return "", ""
	}},
}

// positiveUint32 parses an integer from 1 to 2^32-1 into dst.
func positiveUint32(v string, dst *uint32) (string, string) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 {
		return "not a positive integer", "an integer of at least 1"
	}
	*dst = uint32(n)
	return "", ""
}

// flag parses 0 or 1 into dst.
func flag(v string, dst *bool) (string, string) {
	switch v {
	case "0":
		*dst = false
	case "1":
		*dst = true
	default:
		return "not 0 or 1", "0 or 1"
	}
	return "", ""
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
