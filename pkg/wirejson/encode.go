package wirejson

import (
	"strconv"
	"unicode/utf8"
)

// Encoder appends an object's fields to a buffer, as encoding/json writes them: the same
// escapes (HTML's characters included), the same order as the caller's.
type Encoder struct {
	B     []byte
	first bool
}

// Open starts an object.
func (e *Encoder) Open() {
	e.B = append(e.B, '{')
	e.first = true
}

// Close ends an object.
func (e *Encoder) Close() {
	e.B = append(e.B, '}')
	e.first = false
}

// Key starts a field.
func (e *Encoder) Key(name string) {
	if !e.first {
		e.B = append(e.B, ',')
	}
	e.first = false
	e.B = append(e.B, '"')
	e.B = append(e.B, name...)
	e.B = append(e.B, '"', ':')
}

// String writes a field, omitted when empty with omitEmpty.
func (e *Encoder) String(name, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	e.Key(name)
	e.B = AppendString(e.B, v)
}

// Int writes a field, omitted when zero with omitEmpty.
func (e *Encoder) Int(name string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.Key(name)
	e.B = strconv.AppendInt(e.B, v, 10)
}

// Uint writes a field, omitted when zero with omitEmpty.
func (e *Encoder) Uint(name string, v uint64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.Key(name)
	e.B = strconv.AppendUint(e.B, v, 10)
}

// Bool writes a field, omitted when false with omitEmpty.
func (e *Encoder) Bool(name string, v bool, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	e.Key(name)
	e.B = strconv.AppendBool(e.B, v)
}

// Strings writes a field (null for nil), omitted when empty with omitEmpty.
func (e *Encoder) Strings(name string, v []string, omitEmpty bool) {
	if omitEmpty && len(v) == 0 {
		return
	}
	e.Key(name)
	if v == nil {
		e.B = append(e.B, "null"...)
		return
	}
	e.B = append(e.B, '[')
	for i, s := range v {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		e.B = AppendString(e.B, s)
	}
	e.B = append(e.B, ']')
}

// Raw writes a field whose value is JSON already.
func (e *Encoder) Raw(name string, v []byte) {
	e.Key(name)
	e.B = append(e.B, v...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s quoted as encoding/json quotes it: <, > and & escaped for HTML,
// U+2028 and U+2029 for JavaScript, invalid UTF-8 as U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
