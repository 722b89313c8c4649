package shimapi

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// LogRecord is one line of container.log: one chunk of output.
type LogRecord struct {
	Time   time.Time `json:"time"`   // RFC 3339 with nanoseconds
	Stream string    `json:"stream"` // "stdout" or "stderr" (a tty is all stdout)
	Text   string    `json:"text"`
}

// AppendLogLine appends r as one JSON line. Invalid UTF-8 becomes U+FFFD (encoding/json's rule).
func AppendLogLine(b []byte, r *LogRecord) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","stream":"`...)
	b = append(b, r.Stream...)
	b = append(b, `","text":`...)
	t, _ := json.Marshal(r.Text)
	b = append(b, t...)
	return append(b, "}\n"...)
}

// SplitUTF8 returns how much of p ends on a whole character: a multi-byte character cut
// by a read boundary is carried to the next chunk instead of becoming U+FFFD.
func SplitUTF8(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}
