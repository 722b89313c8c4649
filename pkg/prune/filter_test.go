package prune

import (
	"testing"
	"time"
)

func TestFilter(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	f, err := ParseFilter([]string{"until=24h", "label=a", "label!=b=2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	old := now.Add(-48 * time.Hour)
	for _, c := range []struct {
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{old, map[string]string{"a": "x"}, true},
		{now, map[string]string{"a": "x"}, false},
		{old, map[string]string{}, false},
		{old, map[string]string{"a": "", "b": "2"}, false},
		{old, map[string]string{"a": "", "b": "3"}, true},
	} {
		if got := f.Match(c.created, c.labels); got != c.want {
			t.Errorf("Match(%v, %v) = %v, want %v", c.created, c.labels, got, c.want)
		}
	}
	for _, bad := range []string{"bogus=1", "until=soon", "label"} {
		if _, err := ParseFilter([]string{bad}, now); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}
