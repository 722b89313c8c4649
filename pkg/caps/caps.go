package caps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

// names are the capabilities by number (linux/capability.h).
var names = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

var numbers = func() map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}()

// Default is Docker's default set of 14 capabilities, in capability-number order.
func Default() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
		"CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
	}
}

// lastCap is the highest capability this kernel knows (/proc/sys/kernel/cap_last_cap),
// or the table's last when it cannot be read.
var lastCap = func() int { return len(names) - 1 }

// All is every capability this kernel knows, by name (--privileged).
func All() []string {
	n := min(lastCap(), len(names)-1)
	return slices.Clone(names[:n+1])
}

// Normalize turns "sys_admin", "CAP_SYS_ADMIN" or " Sys_Admin " into "CAP_SYS_ADMIN"; an
// unknown name is an invalid error.
func Normalize(name string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	if _, ok := numbers[c]; !ok {
		return "", errdefs.Invalid(fmt.Sprintf("unknown capability %q", name))
	}
	return c, nil
}

// Merge applies --cap-add and --cap-drop to base the way Docker does: "ALL" in add starts
// from every capability (minus drop); "ALL" in drop keeps only add; otherwise base minus
// drop plus add (an add wins over a drop of the same name). Names may omit "CAP_" and any
// case; the result is sorted by number and free of duplicates.
func Merge(base, add, drop []string) ([]string, error) {
	norm := func(list []string) (set map[string]bool, all bool, err error) {
		set = map[string]bool{}
		for _, c := range list {
			if strings.EqualFold(strings.TrimSpace(c), "ALL") {
				all = true
				continue
			}
			n, err := Normalize(c)
			if err != nil {
				return nil, false, err
			}
			set[n] = true
		}
		return set, all, nil
	}
	b, ball, err := norm(base)
	if err != nil {
		return nil, err
	}
	a, aall, err := norm(add)
	if err != nil {
		return nil, err
	}
	d, dall, err := norm(drop)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	switch {
	case aall:
		for _, c := range All() {
			if !d[c] {
				out[c] = true
			}
		}
		for c := range a { // an explicit add survives a drop of the same name, as below
			out[c] = true
		}
	case dall:
		out = a
	default:
		if ball {
			for _, c := range All() {
				b[c] = true
			}
		}
		for c := range b {
			if !d[c] {
				out[c] = true
			}
		}
		for c := range a {
			out[c] = true
		}
	}
	return sorted(out), nil
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y string) int { return numbers[x] - numbers[y] })
	return out
}

// mask turns names into the 64-bit capability mask; unknown names are an error.
func mask(set []string) (uint64, error) {
	var m uint64
	for _, c := range set {
		n, err := Normalize(c)
		if err != nil {
			return 0, err
		}
		m |= 1 << numbers[n]
	}
	return m, nil
}
