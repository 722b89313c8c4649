package logfile

import (
	"time"
	"unicode/utf8"
)

// Record is one chunk of a container's output; the JSON format stores it as one line.
type Record struct {
	Time   time.Time `json:"time"`   // RFC 3339 with nanoseconds
	Stream string    `json:"stream"` // "stdout" or "stderr" (a tty is all stdout)
	Text   string    `json:"text"`
}

// AppendJSONLine appends r as one JSON line. Invalid UTF-8 becomes U+FFFD.
func AppendJSONLine(b []byte, r *Record) []byte {
	return AppendJSON(b, r.Time, r.Stream, []byte(r.Text))
}

// AppendJSON appends one JSON line for a chunk of a stream, without allocating: the shim
// calls it for every read of the container's output.
func AppendJSON(b []byte, t time.Time, stream string, p []byte) []byte {
	b = append(b, `{"time":"`...)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","stream":"`...)
	b = append(b, stream...)
	b = append(b, `","text":"`...)
	b = appendJSONString(b, p)
	return append(b, "\"}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString escapes p as the inside of a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, and U+2028/U+2029 escaped as
// encoding/json does (JavaScript line terminators).
func appendJSONString(b, p []byte) []byte {
	start := 0
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, p[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, p[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, p[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, p[start:]...)
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
