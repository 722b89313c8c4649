package ctrreq

import (
	"path"
	"runtime"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/oci"
)

var (
	// A user or group name: what useradd accepts (a leading letter or _, at most 32).
	userNameRe = lazyre.New(`^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$`)
)

func checkIdentity(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if strings.TrimSpace(r.Image) == "" {
		return bad("image", "is required")
	}
	if err := token("image", r.Image); err != nil {
		return err
	}
	r.Name = strings.TrimPrefix(r.Name, "/")
	if r.Name != "" && !ctrconfig.ValidName(r.Name) {
		return bad("name", "%q is not a container name: %s", r.Name, ctrconfig.NameRule)
	}
	switch r.Pull {
	case "", "missing", "always", "never":
	default:
		return bad("pull", "%q: expected missing, always or never", r.Pull)
	}
	for _, f := range []struct{ name, v string }{{"project", r.Project}, {"service", r.Service}} {
		if err := noCtl(f.name, f.v); err != nil {
			return err
		}
	}
	if r.DBMode && r.Data != "" {
		if err := absPath("data", r.Data); err != nil {
			return err
		}
	}
	return nil
}

// checkProcess is the workload's argv and working directory.
func checkProcess(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.Interactive {
		r.Tty, r.Stdin = true, true
	}
	for i, a := range r.Command {
		if err := noNUL(idx("command", i), a); err != nil {
			return err
		}
	}
	if r.Entrypoint != nil {
		for i, a := range *r.Entrypoint {
			if err := noNUL(idx("entrypoint", i), a); err != nil {
				return err
			}
		}
	}
	if r.WorkingDir != "" {
		return absPath("working_dir", r.WorkingDir)
	}
	return nil
}

// absPath is a path inside the container: absolute, no NUL or line break.
func absPath(field, p string) error {
	if err := noCtl(field, p); err != nil {
		return err
	}
	if !path.IsAbs(p) {
		return bad(field, "%q is not an absolute path", p)
	}
	return nil
}

// checkEnv: KEY=VAL entries (a bare KEY is Docker's too); the value may hold line breaks,
// the key may not, and no part a NUL (execve cannot carry it).
func checkEnv(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, kv := range r.Env {
		f := idx("env", i)
		k, _, _ := strings.Cut(kv, "=")
		if k == "" {
			return bad(f, "%q has no variable name; expected KEY=VALUE", kv)
		}
		if strings.ContainsAny(k, "\n\r") {
			return bad(f, "the name %q holds a line break", k)
		}
		if err := noNUL(f, kv); err != nil {
			return err
		}
	}
	return nil
}

func checkLabels(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for k, v := range r.Labels {
		f := key("labels", k)
		if k == "" {
			return bad("labels", "a label has an empty key")
		}
		if err := noCtl(f, k); err != nil {
			return err
		}
		if err := noNUL(f, v); err != nil {
			return err
		}
	}
	return nil
}

// checkUser: name|uid[:name|gid]; an ID is 0 to 2^32-2 (-1 is the kernel's "none").
func checkUser(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.User == "" {
		return nil
	}
	u, g, hasG := strings.Cut(r.User, ":")
	if !userPart(u) || hasG && !userPart(g) {
		return bad("user", "%q: expected a user name or UID, optionally :group name or GID (1000:1000, app, app:staff)", r.User)
	}
	return nil
}

func userPart(s string) bool {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return n < 1<<32-1
	}
	return userNameRe.MatchString(s)
}

// checkPlatform: a container runs on this host's platform only; pull may fetch others.
func checkPlatform(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.Platform == "" || r.Platform == "linux" {
		return nil
	}
	p, err := oci.ParsePlatform(r.Platform)
	if err != nil || p.OS != "linux" || p.Architecture != runtime.GOARCH {
		return bad("platform", "%q: this host runs linux/%s containers only", r.Platform, runtime.GOARCH)
	}
	return nil
}
