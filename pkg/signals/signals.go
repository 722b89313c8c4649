// Package signals reads signal names as Docker's flags take them (--stop-signal, kill -s).
// It does no I/O: the daemon, the validator and the CLI share one grammar.
package signals

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Parse reads "SIGTERM", "TERM", "term" or "15"; empty is SIGTERM (Docker's
// --stop-signal and kill -s forms).
func Parse(s string) (syscall.Signal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return unix.SIGTERM, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, errdefs.Invalid(fmt.Sprintf("invalid signal %q", s))
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// Real-time signals by name, as Docker takes them: RTMIN, RTMIN+3, RTMAX-1.
	for _, rt := range []struct {
		name string
		base int
	}{{"SIGRTMIN", 34}, {"SIGRTMAX", 64}} {
		if rest, ok := strings.CutPrefix(name, rt.name); ok {
			off := 0
			if rest != "" {
				n, err := strconv.Atoi(rest)
				if err != nil {
					break
				}
				off = n
			}
			if n := rt.base + off; n >= 34 && n <= 64 {
				return syscall.Signal(n), nil
			}
		}
	}
	return 0, errdefs.Invalid(fmt.Sprintf("invalid signal %q", s))
}
