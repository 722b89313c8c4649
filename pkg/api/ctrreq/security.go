package ctrreq

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/seccomp"
)

// checkCaps: known capability names (any case, with or without CAP_) or ALL.
func checkCaps(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for _, l := range []struct {
		field string
		caps  []string
	}{{"cap_add", r.CapAdd}, {"cap_drop", r.CapDrop}} {
		for i, c := range l.caps {
			if strings.EqualFold(strings.TrimSpace(c), "ALL") {
				continue
			}
			if _, err := caps.Normalize(c); err != nil {
				return bad(idx(l.field, i), "%q is not a capability (CHOWN, NET_ADMIN, SYS_ADMIN, ... or ALL)", c)
			}
		}
	}
	return nil
}

// cutOpt splits a security option at its first '=' or ':' (Docker's older separator).
func cutOpt(o string) (k, v string, hasV bool) {
	if i := strings.IndexAny(o, "=:"); i >= 0 {
		return o[:i], o[i+1:], true
	}
	return o, "", false
}

// brief shortens a value for a message (a whole seccomp profile is too long).
func brief(v string) string {
	if len(v) > 60 {
		return v[:57] + "..."
	}
	return v
}

// checkSecurityOpt normalizes each option to key[=value]. A seccomp profile comes inline
// (its JSON, as Docker's CLI sends it after reading the file) and moves to
// seccomp_profile; a path is refused, since the daemon never reads a host file an API
// caller names.
func checkSecurityOpt(r *api.CreateRequest, _ *ctrconfig.Options, warn *[]string) error {
	var out []string
	for i, o := range r.SecurityOpt {
		f := idx("security_opt", i)
		if err := noCtl(f, o); err != nil {
			return err
		}
		k, v, hasV := cutOpt(o)
		switch {
		case k == "seccomp" && v == "unconfined":
			out = append(out, "seccomp=unconfined")
		case k == "seccomp" && strings.HasPrefix(strings.TrimSpace(v), "{"):
			if len(r.SeccompProfile) > 0 {
				return bad(f, "a seccomp profile is given twice (here and in seccomp_profile)")
			}
			r.SeccompProfile = json.RawMessage(v)
		case k == "seccomp":
			return bad(f, "seccomp=%s: expected seccomp=unconfined or seccomp=<the profile's JSON>; the daemon does not read files (the minibox CLI reads --security-opt seccomp=<file> and sends its content)", brief(v))
		case k == "no-new-privileges" && !hasV:
			out = append(out, k)
		case k == "no-new-privileges" && (v == "true" || v == "false"):
			out = append(out, k+"="+v)
		case k == "label" || k == "apparmor":
			*warn = append(*warn, fmt.Sprintf("security option %q is ignored: minibox has no LSM integration", o))
			out = append(out, k+"="+v)
		default:
			return bad(f, "%q: expected seccomp=unconfined|<profile JSON>, no-new-privileges[=true|false], label=... or apparmor=...", brief(o))
		}
	}
	r.SecurityOpt = out
	return nil
}

// checkSeccompProfile compiles the profile for the container's capabilities, as its start
// will: one that parses but cannot be applied is refused now.
func checkSeccompProfile(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if len(r.SeccompProfile) == 0 {
		return nil
	}
	for _, o := range r.SecurityOpt {
		if o == "seccomp=unconfined" {
			return bad("security_opt", "seccomp=unconfined conflicts with the seccomp profile given")
		}
	}
	field := "seccomp_profile"
	p, err := seccomp.Parse(r.SeccompProfile)
	if err == nil {
		capset, cerr := ctrconfig.Capabilities(r.Privileged, r.CapAdd, r.CapDrop)
		if cerr != nil {
			return bad("cap_add", "%v", cerr)
		}
		_, err = seccomp.Compile(p, capset)
	}
	if err != nil {
		return bad(field, "the profile cannot be applied: %v", err)
	}
	return nil
}

// sysctlKeyRe: dot-separated words only, so a key cannot climb out of /proc/sys.
var sysctlKeyRe = lazyre.New(`^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)+$`)

// checkSysctls: only the kernel parameters a container's namespaces own.
func checkSysctls(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for _, k := range slices.Sorted(maps.Keys(r.Sysctls)) {
		f := key("sysctls", k)
		if !sysctlKeyRe.MatchString(k) {
			return bad(f, "%q is not a kernel parameter name (net.ipv4.ip_forward)", k)
		}
		if !namespacedSysctl(k, r.Network == "host") {
			return bad(f, "%q is not namespaced (allowed: net.* without host network, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)", k)
		}
		if err := noCtl(f, r.Sysctls[k]); err != nil {
			return err
		}
	}
	return nil
}

func namespacedSysctl(k string, hostNet bool) bool {
	switch {
	case strings.HasPrefix(k, "net."):
		return !hostNet
	case strings.HasPrefix(k, "kernel.shm"), strings.HasPrefix(k, "kernel.msg"), k == "kernel.sem",
		strings.HasPrefix(k, "fs.mqueue."):
		return true
	}
	return false
}

func checkUserNS(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	switch r.UserNS {
	case "", "host", "auto":
		return nil
	}
	return bad("userns", "%q: expected host or auto", r.UserNS)
}

func checkUlimits(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, u := range r.Ulimits {
		if _, err := ctrconfig.ParseUlimit(u); err != nil {
			return bad(idx("ulimits", i), "%v", err)
		}
	}
	return nil
}
