package clienttime

import (
	"testing"
	"time"
)

// Docker's clients send since and until as seconds with nine digits of fraction; the
// time read must be that nanosecond, not the nearest float64.
func TestParseUnixExact(t *testing.T) {
	now := time.Now()
	for in, want := range map[string]time.Time{
		"1796584829.034078273":  time.Unix(1796584829, 34078273),
		"1796584829.999999999":  time.Unix(1796584829, 999999999),
		"1796584829":            time.Unix(1796584829, 0),
		"1796584829.5":          time.Unix(1796584829, 500000000),
		"1796584829.0340782739": time.Unix(1796584829, 34078273),
	} {
		got, err := Parse(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{".5", "17965x", "1796584829.-5"} {
		if got, err := Parse(bad, now); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, got)
		}
	}
}
