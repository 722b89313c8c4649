package ctrreq

import (
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
)

// checkNamespaces: the modes each flag takes, and the combinations Docker refuses (a
// host namespace under a user namespace, a hostname in the host's UTS namespace).
func checkNamespaces(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	modes := []struct {
		field, v string
		allowed  []string
		join     bool
	}{
		{"ipc", r.IPC, []string{ctrconfig.NSPrivate, ctrconfig.NSShareable, ctrconfig.NSHost, ctrconfig.NSNone}, true},
		{"pid", r.PID, []string{ctrconfig.NSHost}, true},
		{"uts", r.UTS, []string{ctrconfig.NSHost}, false},
		{"cgroupns", r.CgroupNS, []string{ctrconfig.NSPrivate, ctrconfig.NSHost}, false},
	}
	for _, m := range modes {
		if m.v == "" {
			continue
		}
		if name, ok := ctrconfig.ContainerNS(m.v); ok && m.join {
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
		if r.UserNS == "auto" && (m.v == ctrconfig.NSHost || strings.HasPrefix(m.v, "container:")) && m.field != "cgroupns" {
			return bad(m.field, "%q: a container with --userns auto cannot share the %s namespace of the host or another container", m.v, strings.ToUpper(m.field))
		}
	}
	if r.UTS == ctrconfig.NSHost && r.Hostname != "" {
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

func checkDevices(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, s := range r.Devices {
		if err := noCtl(idx("devices", i), s); err != nil {
			return err
		}
		if _, err := ctrconfig.ParseDevice(s); err != nil {
			return bad(idx("devices", i), "%v", err)
		}
	}
	if r.GPUs != "" {
		if _, err := ctrconfig.ParseGPUs(r.GPUs); err != nil {
			return bad("gpus", "%v", err)
		}
	}
	return nil
}

// checkShares: --group-add, --volumes-from and --link.
func checkShares(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
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
