package ctrconfig

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/spec"
)

var (
	nameRe       = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	volumeNameRe = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// Namespace modes as Docker's --ipc, --pid, --uts and --cgroupns take them.
const (
	NSPrivate   = "private"
	NSShareable = "shareable"
	NSHost      = "host"
	NSNone      = "none"
)

// ParseRestart reads no|on-failure[:N]|always|unless-stopped; empty is no.
func ParseRestart(s string) (policy string, max int, err error) {
	p, n, hasN := strings.Cut(s, ":")
	switch p {
	case "", "no", "always", "unless-stopped":
		if hasN {
			return "", 0, fmt.Errorf("%q: only on-failure takes a count", s)
		}
		if p == "" {
			p = "no"
		}
		return p, 0, nil
	case "on-failure":
		if hasN {
			if max, err = strconv.Atoi(n); err != nil || max < 0 {
				return "", 0, fmt.Errorf("%q: the count must be a whole number, 0 or more", s)
			}
		}
		return p, max, nil
	}
	return "", 0, fmt.Errorf("%q: expected no, on-failure[:N], always or unless-stopped", s)
}

// RLimitInfinity is an unlimited resource limit (-1 or "unlimited").
const RLimitInfinity = ^uint64(0)

// Ulimit is one parsed resource limit; Type is the kernel's name (RLIMIT_NOFILE).
type Ulimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// ParseUlimit reads Docker's "name=soft[:hard]"; -1 or "unlimited" is no limit.
func ParseUlimit(s string) (Ulimit, error) {
	name, vals, ok := strings.Cut(s, "=")
	typ := "RLIMIT_" + strings.ToUpper(name)
	_, known := spec.RlimitResources[typ]
	if !ok || !known {
		return Ulimit{}, fmt.Errorf("%q: expected NAME=SOFT[:HARD] with a name such as nofile, nproc, core, memlock", s)
	}
	soft, hard, hasHard := strings.Cut(vals, ":")
	parse := func(v string) (uint64, error) {
		if v == "-1" || v == "unlimited" {
			return RLimitInfinity, nil
		}
		return strconv.ParseUint(v, 10, 64)
	}
	sv, err := parse(soft)
	if err != nil {
		return Ulimit{}, fmt.Errorf("%q: %q is not a number (or -1 for unlimited)", s, soft)
	}
	hv := sv
	if hasHard {
		if hv, err = parse(hard); err != nil {
			return Ulimit{}, fmt.Errorf("%q: %q is not a number (or -1 for unlimited)", s, hard)
		}
	}
	if sv > hv {
		return Ulimit{}, fmt.Errorf("%q: the soft limit exceeds the hard limit", s)
	}
	return Ulimit{Type: typ, Soft: sv, Hard: hv}, nil
}

// Capabilities is the set a container's processes hold: all when privileged, else the
// default set with add and drop applied.
func Capabilities(privileged bool, add, drop []string) ([]string, error) {
	if privileged {
		return caps.All(), nil
	}
	return caps.Merge(caps.Default(), add, drop)
}

// ContainerNS returns the container named by a "container:<name>" mode.
func ContainerNS(mode string) (string, bool) { return strings.CutPrefix(mode, "container:") }

// Device is one parsed --device.
type Device struct {
	Host      string `json:"host"`
	Container string `json:"container"`
	Perms     string `json:"perms"` // a non-empty subset of "rwm"
}

// ParseDevice reads Docker's "HOST[:CONTAINER][:PERMS]" (PERMS of r, w, m; default rwm).
func ParseDevice(s string) (Device, error) {
	parts := strings.Split(s, ":")
	d := Device{Perms: "rwm"}
	switch len(parts) {
	case 1:
		d.Host = parts[0]
	case 2:
		d.Host = parts[0]
		if validPerms(parts[1]) {
			d.Perms = parts[1]
		} else {
			d.Container = parts[1]
		}
	case 3:
		d.Host, d.Container, d.Perms = parts[0], parts[1], parts[2]
	default:
		return Device{}, fmt.Errorf("%q: expected HOST[:CONTAINER][:PERMS]", s)
	}
	if d.Container == "" {
		d.Container = d.Host
	}
	if !path.IsAbs(d.Host) || !path.IsAbs(d.Container) {
		return Device{}, fmt.Errorf("%q: device paths must be absolute (/dev/fuse)", s)
	}
	if !validPerms(d.Perms) {
		return Device{}, fmt.Errorf("%q: invalid device mode %q; expected a combination of r, w and m", s, d.Perms)
	}
	d.Host, d.Container = path.Clean(d.Host), path.Clean(d.Container)
	if d.Container == "/" || d.Host == "/" {
		return Device{}, fmt.Errorf("%q: not a device path", s)
	}
	return d, nil
}

func validPerms(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range p {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// GPURequest is a parsed --gpus: Count GPUs (-1: all), or the listed device IDs.
type GPURequest struct {
	Count int      `json:"count,omitempty"`
	IDs   []string `json:"ids,omitempty"`
}

// ParseGPUs reads Docker's --gpus: all, a count, or comma-separated key=value options
// (count=N|all, device=0,1, driver=nvidia, capabilities=...); quotes around a device list
// are dropped as Docker's CSV reading does.
func ParseGPUs(s string) (GPURequest, error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return GPURequest{Count: -1}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return GPURequest{}, fmt.Errorf("%q: expected all, a count of at least 1, or device=ID[,ID]", s)
		}
		return GPURequest{Count: n}, nil
	}
	var g GPURequest
	fields := strings.Split(strings.ReplaceAll(s, `"`, ""), ",")
	for i := 0; i < len(fields); i++ {
		k, v, ok := strings.Cut(fields[i], "=")
		if !ok {
			return GPURequest{}, fmt.Errorf("%q: expected all, a count, or key=value options (count, device, driver, capabilities)", s)
		}
		switch k {
		case "count":
			if v == "all" {
				g.Count = -1
			} else if n, err := strconv.Atoi(v); err == nil && n >= 1 {
				g.Count = n
			} else {
				return GPURequest{}, fmt.Errorf("%q: count must be all or at least 1", s)
			}
		case "device":
			g.IDs = append(g.IDs, v)
			// device=0,1: the IDs after the first are fields without a key.
			for i+1 < len(fields) && !strings.Contains(fields[i+1], "=") {
				i++
				g.IDs = append(g.IDs, fields[i])
			}
		case "driver":
			if v != "nvidia" {
				return GPURequest{}, fmt.Errorf("%q: driver %q is not supported; only nvidia", s, v)
			}
		case "capabilities":
			for i+1 < len(fields) && !strings.Contains(fields[i+1], "=") {
				i++
			}
		default:
			return GPURequest{}, fmt.Errorf("%q: unknown option %q; expected count, device, driver or capabilities", s, k)
		}
	}
	for _, id := range g.IDs {
		if _, err := strconv.Atoi(id); err != nil {
			return GPURequest{}, fmt.Errorf("%q: device %q: expected a GPU index (0, 1, ...)", s, id)
		}
	}
	if g.Count != 0 && len(g.IDs) > 0 {
		return GPURequest{}, fmt.Errorf("%q: count and device cannot be used together", s)
	}
	if g.Count == 0 && len(g.IDs) == 0 {
		g.Count = -1
	}
	return g, nil
}

// ParseLink reads "<container>[:alias]"; the alias defaults to the name.
func ParseLink(s string) (name, alias string) {
	name, alias, _ = strings.Cut(s, ":")
	if alias == "" {
		alias = name
	}
	return name, strings.TrimPrefix(alias, "/")
}

// NetworkName reports whether name can name a user-defined network: 1-63 letters, digits
// and inner dashes or underscores (Compose names its networks <project>_<name>, and Docker
// takes them; the name never reaches DNS or a device name, the bridge is named after the
// network's ID), none of the reserved modes.
func NetworkName(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return Bad("name", "network name %q: expected 1 to 63 characters", name)
	}
	for i, c := range name {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || (c == '-' || c == '_') && i > 0 && i < len(name)-1
		if !ok {
			return Bad("name", "network name %q: expected letters, digits and inner dashes or underscores", name)
		}
	}
	switch name {
	case "bridge", "host", "none", "default":
		return Bad("name", "network name %q is reserved", name)
	}
	return nil
}

// ValidName reports whether s (without a leading "/") is a valid container name.
func ValidName(s string) bool { return nameRe.MatchString(s) }

// NameRule says what ValidName accepts.
const NameRule = "use 1-128 of [A-Za-z0-9_.-], starting with a letter or digit"

// VolumeNameRule says what a volume name may be.
const VolumeNameRule = "use 1-64 of [A-Za-z0-9_.-], starting with a letter or digit"

// ValidVolumeName reports whether s is a valid volume name.
func ValidVolumeName(s string) bool { return volumeNameRe.MatchString(s) }

// ParseCPUSet reads the kernel's CPU list syntax ("0-3,5"), as in cpuset.cpus and
// /sys/devices/system/cpu/online.
func ParseCPUSet(s string) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.ParseUint(a, 10, 16)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.ParseUint(b, 10, 16)
		}
		if err1 != nil || err2 != nil || hi < lo || hi >= 8192 {
			return nil, fmt.Errorf("%q is not a CPU list; expected numbers and ranges such as 0-3,5", s)
		}
		for c := lo; c <= hi; c++ {
			set[int(c)] = true
		}
	}
	return set, nil
}
