// Package clienttime reads the times clients give for since and until (logs, events,
// filters): RFC 3339, a date, Unix seconds with a fraction, or a duration ago.
package clienttime

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
)

// parseUnixTime reads seconds with an optional fraction ("1733500000.123456789", what
// Docker's clients send) exactly: a float64 keeps only about a quarter of a microsecond
// of today's times, enough to move an until past an event stamped just before it.
func parseUnixTime(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	if secs == "" || len(frac) > 20 || strings.Trim(secs, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	frac = (frac + "000000000")[:9] // nanoseconds: padded, or cut past the ninth digit
	nsec, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(sec, nsec), true
}

// Parse reads RFC 3339, Unix time (with fraction) or a duration ago ("10m").
func Parse(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, ok := parseUnixTime(s); ok {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, errdefs.Invalid(fmt.Sprintf("time %q: expected RFC 3339, Unix time, or a duration such as 10m", s))
}
