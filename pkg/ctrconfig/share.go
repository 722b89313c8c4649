package ctrconfig

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
)

// Namespace modes as Docker's --ipc, --pid, --uts and --cgroupns take them.
const (
	NSPrivate   = "private"
	NSShareable = "shareable"
	NSHost      = "host"
	NSNone      = "none"
)

// ContainerNS returns the container named by a "container:<name>" mode.
func ContainerNS(mode string) (string, bool) { return strings.CutPrefix(mode, "container:") }

// checkNamespaces: the modes each flag takes, and the combinations Docker refuses (a
// host namespace under a user namespace, a hostname in the host's UTS namespace).
func checkNamespaces(r *api.CreateRequest, _ *Options, _ *[]string) error {
	modes := []struct {
		field, v string
		allowed  []string
		join     bool
	}{
		{"ipc", r.IPC, []string{NSPrivate, NSShareable, NSHost, NSNone}, true},
		{"pid", r.PID, []string{NSHost}, true},
		{"uts", r.UTS, []string{NSHost}, false},
		{"cgroupns", r.CgroupNS, []string{NSPrivate, NSHost}, false},
	}
	for _, m := range modes {
		if m.v == "" {
			continue
		}
		if name, ok := ContainerNS(m.v); ok && m.join {
			if name == "" {
				return bad(m.field, "\"container:\": name the container whose namespace to join")
			}
			if err := noCtl(m.field, name); err != nil {
				return err
			}
		} else if !contains(m.allowed, m.v) {
			want := strings.Join(m.allowed, ", ")
			if m.join {
				want += " or container:<name>"
			}
			return bad(m.field, "%q: invalid %s mode; expected %s", m.v, m.field, want)
		}
		if r.UserNS == "auto" && (m.v == NSHost || strings.HasPrefix(m.v, "container:")) && m.field != "cgroupns" {
			return bad(m.field, "%q: a container with --userns auto cannot share the %s namespace of the host or another container", m.v, strings.ToUpper(m.field))
		}
	}
	if r.UTS == NSHost && r.Hostname != "" {
		return bad("hostname", "conflicting options: hostname and the UTS mode (the host's hostname is shared with --uts host)")
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Device is one parsed --device.
type Device struct {
	Host, Container string
	Perms           string // a non-empty subset of "rwm"
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

func checkDevices(r *api.CreateRequest, _ *Options, _ *[]string) error {
	for i, s := range r.Devices {
		if err := noCtl(idx("devices", i), s); err != nil {
			return err
		}
		if _, err := ParseDevice(s); err != nil {
			return bad(idx("devices", i), "%v", err)
		}
	}
	if r.GPUs != "" {
		if _, err := ParseGPUs(r.GPUs); err != nil {
			return bad("gpus", "%v", err)
		}
	}
	return nil
}

// GPURequest is a parsed --gpus: Count GPUs (-1: all), or the listed device IDs.
type GPURequest struct {
	Count int
	IDs   []string
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

// checkShares: --group-add, --volumes-from and --link.
func checkShares(r *api.CreateRequest, _ *Options, _ *[]string) error {
	for i, g := range r.GroupAdd {
		if err := token(idx("group_add", i), g); err != nil {
			return err
		}
		if strings.Contains(g, ":") {
			return bad(idx("group_add", i), "%q: expected a group name or number", g)
		}
	}
	for i, v := range r.VolumesFrom {
		name, mode, _ := strings.Cut(v, ":")
		if err := token(idx("volumes_from", i), name); err != nil {
			return err
		}
		if mode != "" && mode != "ro" && mode != "rw" {
			return bad(idx("volumes_from", i), "%q: invalid mode %q; expected <container>[:ro|rw]", v, mode)
		}
	}
	for i, l := range r.Links {
		name, alias, _ := strings.Cut(l, ":")
		if err := token(idx("links", i), name); err != nil {
			return err
		}
		if alias != "" && !hostsNameRe.MatchString(alias) {
			return bad(idx("links", i), "%q: alias %q is not a host name", l, alias)
		}
		if r.Network != "bridge" {
			return bad(idx("links", i), "conflicting options: --link and --network %s; links are aliases on the default bridge", r.Network)
		}
	}
	return nil
}

// ParseLink reads "<container>[:alias]"; the alias defaults to the name.
func ParseLink(s string) (name, alias string) {
	name, alias, _ = strings.Cut(s, ":")
	if alias == "" {
		alias = name
	}
	return name, strings.TrimPrefix(alias, "/")
}
