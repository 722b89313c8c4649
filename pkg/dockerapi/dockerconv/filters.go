package dockerconv

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/clienttime"
	"github.com/minibox/minibox/pkg/errdefs"
)

// CheckFilterKeys refuses a filter key the route does not take, as dockerd does
// ("invalid filter 'x'"), so that a typo is not an empty answer.
func CheckFilterKeys(f map[string][]string, keys ...string) error {
	for k := range f {
		ok := false
		for _, want := range keys {
			ok = ok || k == want
		}
		if !ok {
			return errdefs.Invalid(fmt.Sprintf("invalid filter '%s': filters takes %s", k, strings.Join(keys, ", ")))
		}
	}
	return nil
}

// MatchAny is true without values, else when one value matches.
func MatchAny(vs []string, ok func(string) bool) bool {
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if ok(v) {
			return true
		}
	}
	return false
}

// MatchLabels requires every label filter: "key" present, or "key=value".
func MatchLabels(have map[string]string, want []string) bool {
	for _, l := range want {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := have[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

// BoolFilter reads a filter that takes true/false (dangling, all): nil when absent.
func BoolFilter(f map[string][]string, key string) (*bool, error) {
	vs := f[key]
	if len(vs) == 0 {
		return nil, nil
	}
	var out *bool
	for _, v := range vs {
		var b bool
		switch strings.ToLower(v) {
		case "true", "1":
			b = true
		case "false", "0":
		default:
			return nil, errdefs.Invalid(fmt.Sprintf("invalid filter '%s=%s': expected true or false", key, v))
		}
		if out != nil && *out != b {
			return nil, errdefs.Invalid(fmt.Sprintf("invalid filter '%s': both true and false", key))
		}
		out = &b
	}
	return out, nil
}

// UntilFilter reads prune's until filter (a time or a duration before now).
func UntilFilter(f map[string][]string) (time.Time, error) {
	if len(f["until"]) == 0 {
		return time.Time{}, nil
	}
	if len(f["until"]) > 1 {
		return time.Time{}, errdefs.Invalid("invalid filter 'until': give one value")
	}
	t, err := ParseTime(f["until"][0], time.Now())
	if err != nil {
		return time.Time{}, errdefs.Invalid("invalid filter 'until': " + errdefs.Message(err))
	}
	return t, nil
}

// NotLabels is the label! filter: none of the labels may match.
func NotLabels(have map[string]string, not []string) bool {
	for _, l := range not {
		if MatchLabels(have, []string{l}) {
			return false
		}
	}
	return true
}

// ParseTime reads the client's since/until: Unix seconds with a fraction (what
// the CLI sends), else what the engine reads. 0 is unset.
func ParseTime(v string, now time.Time) (time.Time, error) {
	if v == "" || v == "0" {
		return time.Time{}, nil
	}
	return clienttime.Parse(v, now)
}

// ParseMtime reads the engine's RFC 3339 mtime for a path stat; a bad one is the zero time.
func ParseMtime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// CompareVersions orders "1.41" against "1.9" numerically.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ValidVersion reports a version of the form "1.41".
func ValidVersion(v string) bool {
	maj, min, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	_, e1 := strconv.Atoi(maj)
	_, e2 := strconv.Atoi(min)
	return e1 == nil && e2 == nil
}
