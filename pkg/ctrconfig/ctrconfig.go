// Package ctrconfig validates and normalizes a container's create request. The CLI calls it
// before it contacts the daemon and the engine calls it before it records a container, so
// a value is refused by one rule wherever it comes from, and nothing invalid reaches a
// file, a cgroup or an argv at start. It imports neither the engine nor the server.
package ctrconfig

import (
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
)

// FieldError is a refused value: Field is its JSON name as the API knows it ("memory",
// "dns[0]", "healthcheck.test"), Msg what was wrong and what is expected. It is an
// errdefs.ErrInvalid, so the API answers 400.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string   { return e.Field + ": " + e.Msg }
func (e *FieldError) Is(t error) bool { return t == errdefs.ErrInvalid }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// idx names element i of a list field: "dns[0]".
func idx(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// key names entry k of a map field: "sysctls[net.ipv4.ip_forward]".
func key(field, k string) string { return fmt.Sprintf("%s[%q]", field, k) }

// Options are what the caller knows of the host that runs the container. The zero value
// (the CLI's: its daemon may be on another machine) checks only what holds everywhere.
type Options struct {
	// HostCPUs is the number of CPUs the daemon's host has (0: unknown).
	HostCPUs int
	// OnlineCPUs are the CPU numbers a cpuset may name (nil: unknown).
	OnlineCPUs map[int]bool
}

// check is one group of fields: it may rewrite them into their normalized form and add
// warnings.
type check func(r *api.CreateRequest, o *Options, warn *[]string) error

// The groups run in this order: each sees the fields of the earlier ones normalized (the
// network mode before the ports, the capabilities before the seccomp profile).
var checks = []check{
	checkIdentity, checkProcess, checkEnv, checkLabels, checkUser, checkPlatform,
	checkMemory, checkCPU, checkLimits, checkUlimits,
	checkNetworkMode, checkNamespaces, checkHostnames, checkDNS, checkExtraHosts, checkPorts, checkExpose,
	checkMounts, checkVolumeMaps, checkTmpfs, checkDevices, checkShares,
	checkCaps, checkSecurityOpt, checkSeccompProfile, checkSysctls, checkUserNS,
	checkRestart, checkStop, checkHealthcheck, checkLog,
}

// Normalize returns req validated and in its normal form (the original MiB fields folded
// into the byte ones, ports into publish, defaults filled in), with warnings; or a
// *FieldError naming the first refused field. req itself is not changed.
func Normalize(req api.CreateRequest, o Options) (api.CreateRequest, []string, error) {
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
