// Package ctrreq is the one validator of a container's create request: it turns the
// native API's CreateRequest into the engine's ctrconfig.Config. The CLI calls it before
// it contacts the daemon (exit 2), the API edges before they call the engine (400 naming
// the field), and the daemon once on each record written before ctrconfig.Config existed,
// so a value is refused by one rule wherever it comes from, and nothing invalid reaches a
// file, a cgroup or an argv at start. It imports neither the engine nor the server.
package ctrreq

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
)

func bad(field, format string, args ...any) error { return ctrconfig.Bad(field, format, args...) }

// idx names element i of a list field: "dns[0]".
func idx(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// key names entry k of a map field: "sysctls[net.ipv4.ip_forward]".
func key(field, k string) string { return fmt.Sprintf("%s[%q]", field, k) }

// check is one group of fields: it may rewrite them into their normalized form and add
// warnings.
type check func(r *api.CreateRequest, o *ctrconfig.Options, warn *[]string) error

// The groups run in this order: each sees the fields of the earlier ones normalized (the
// network mode before the ports, the capabilities before the seccomp profile).
var checks = []check{
	checkIdentity, checkProcess, checkEnv, checkLabels, checkUser, checkPlatform,
	checkResources, checkUlimits,
	checkNetworkMode, checkNamespaces, checkHostnames, checkDNS, checkExtraHosts, checkPorts, checkExpose,
	checkMounts, checkVolumeMaps, checkTmpfs, checkDevices, checkShares,
	checkCaps, checkSecurityOpt, checkSeccompProfile, checkSysctls, checkUserNS,
	checkRestart, checkStop, checkHealthcheck, checkLog,
}

// Normalize returns req validated and parsed into the engine's configuration (the
// original MiB fields folded into bytes, ports into Publish, defaults filled in), with
// warnings; or a *ctrconfig.FieldError naming the first refused field. req itself is not
// changed.
func Normalize(req api.CreateRequest, o ctrconfig.Options) (ctrconfig.Config, []string, error) {
	r, warnings, err := normalize(req, o)
	if err != nil {
		return ctrconfig.Config{}, nil, err
	}
	return toConfig(&r), warnings, nil
}

// normalize runs the checks on a copy of req, which they rewrite into its normal form.
func normalize(req api.CreateRequest, o ctrconfig.Options) (api.CreateRequest, []string, error) {
	r := clone(req)
	var warnings []string
	for _, c := range checks {
		if err := c(&r, &o, &warnings); err != nil {
			return api.CreateRequest{}, nil, err
		}
	}
	return r, warnings, nil
}

// clone copies the slices and maps Normalize rewrites, so the caller's request keeps its
// values.
func clone(r api.CreateRequest) api.CreateRequest {
	r.Publish = append([]api.PortBinding(nil), r.Publish...)
	r.Mounts = append([]api.MountRequest(nil), r.Mounts...)
	r.SecurityOpt = append([]string(nil), r.SecurityOpt...)
	r.ExtraHosts = append([]string(nil), r.ExtraHosts...)
	if r.Healthcheck != nil {
		h := *r.Healthcheck
		r.Healthcheck = &h
	}
	return r
}

// noCtl refuses NUL and line breaks: the value lands in a file line or an argv.
func noCtl(field, v string) error {
	if strings.ContainsAny(v, "\x00\n\r") {
		return bad(field, "%q holds a NUL or a line break", v)
	}
	return nil
}

// noNUL refuses NUL only: the value may hold line breaks (an env value), but no argv,
// path or environment entry can carry a NUL.
func noNUL(field, v string) error {
	if strings.ContainsRune(v, 0) {
		return bad(field, "%q holds a NUL byte", v)
	}
	return nil
}

// token refuses empty values and any whitespace or control character: the value is one
// word of a file such as resolv.conf.
func token(field, v string) error {
	if v == "" {
		return bad(field, "is empty")
	}
	for _, c := range v {
		if c <= ' ' || c == 0x7f {
			return bad(field, "%q holds whitespace or a control character", v)
		}
	}
	return nil
}

// Migrate is Normalize for a record written before ctrconfig.Config existed: legacy is
// the create request the record holds (already normalized once, by that daemon). It is
// checked against what holds on every host, so a record is not refused for a CPU that
// went offline.
func Migrate(legacy []byte) (ctrconfig.Config, error) {
	var req api.CreateRequest
	if err := json.Unmarshal(legacy, &req); err != nil {
		return ctrconfig.Config{}, fmt.Errorf("the create request does not decode: %w", err)
	}
	cfg, _, err := Normalize(req, ctrconfig.Options{})
	return cfg, err
}
