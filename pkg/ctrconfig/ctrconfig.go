// Package ctrconfig is the engine's own model of a container's configuration: Config
// holds parsed values (published ports as netport.Port, limits as numbers, the restart
// policy, ulimits and devices parsed, health check intervals as durations). The engine
// takes it, records it and starts from it; no wire type appears here. The API edges turn
// their requests into a Config through pkg/api/ctrreq, the one validator, which reports
// a refused value as a *FieldError naming the API's field.
package ctrconfig

import (
	"fmt"
	"os"
	"runtime"
	"sync"

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

// Bad is a *FieldError with a formatted message.
func Bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Options are what the caller knows of the host that runs the container. The zero value
// (the CLI's: its daemon may be on another machine) checks only what holds everywhere.
type Options struct {
	// HostCPUs is the number of CPUs the daemon's host has (0: unknown).
	HostCPUs int
	// OnlineCPUs are the CPU numbers a cpuset may name (nil: unknown).
	OnlineCPUs map[int]bool
}

// HostOptions is what the daemon checks against on its own host: its CPUs. Read once.
var HostOptions = sync.OnceValue(func() Options {
	o := Options{HostCPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if set, err := ParseCPUSet(string(b)); err == nil {
			o.OnlineCPUs = set
		}
	}
	return o
})
