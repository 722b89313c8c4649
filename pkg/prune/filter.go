package prune

import (
	"fmt"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Docker's prune commands (containers, images, volumes, the build cache) remove objects,
// not only what the data root's plan frees: Filter narrows which, Removed says what went.

// Filter narrows a prune as Docker's --filter does: until=<time> (created before),
// label=<k>[=<v>] and label!=<k>[=<v>].
type Filter struct {
	Until     time.Time
	Labels    []string
	NotLabels []string
}

// ParseFilter reads Docker's --filter values; unknown keys are refused (400).
func ParseFilter(filters []string, now time.Time) (Filter, error) {
	var f Filter
	for _, s := range filters {
		k, v, ok := strings.Cut(s, "=")
		if k == "label!" {
			f.NotLabels = append(f.NotLabels, v)
			continue
		}
		if !ok {
			return f, errdefs.Invalid(fmt.Sprintf("filter %q: expected key=value (until, label, label!)", s))
		}
		switch k {
		case "until":
			t, err := parseUntil(v, now)
			if err != nil {
				return f, errdefs.Invalid(fmt.Sprintf("filter until=%s: %v", v, err))
			}
			f.Until = t
		case "label":
			f.Labels = append(f.Labels, v)
		default:
			return f, errdefs.Invalid(fmt.Sprintf("filter %q: unknown key %q; expected until, label or label!", s, k))
		}
	}
	return f, nil
}

// parseUntil reads a duration before now (10m, 24h), a Unix time, or an RFC 3339 time.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	var sec int64
	if _, err := fmt.Sscanf(v, "%d", &sec); err == nil && fmt.Sprint(sec) == v {
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("expected a duration (24h), a Unix time or an RFC 3339 time")
}

// Match reports an object created at created with labels that the filter keeps for removal.
func (f Filter) Match(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	has := func(sel string) bool {
		k, v, withValue := strings.Cut(sel, "=")
		got, ok := labels[k]
		return ok && (!withValue || got == v)
	}
	for _, l := range f.Labels {
		if !has(l) {
			return false
		}
	}
	for _, l := range f.NotLabels {
		if has(l) {
			return false
		}
	}
	return true
}

// Removed is what a prune of objects removed.
type Removed struct {
	Containers []string // IDs
	Images     []ImageDeleted
	Volumes    []string // names
	Networks   []string // names
	BuildCache []string // keys
	// SpaceReclaimed is the disk bytes freed.
	SpaceReclaimed int64
}

// ImageDeleted is one line of an image removal: a name untagged or an image deleted.
type ImageDeleted struct {
	Untagged string
	Deleted  string
}
