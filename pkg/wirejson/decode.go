// Package wirejson reads and writes JSON for the few types a container's shim and init
// exchange (pkg/spec, pkg/shimapi) without encoding/json's reflection: a fresh process's
// first decode of a type builds that type's caches, about a millisecond of a container's
// start in the shim and again in init. The types' own code walks their fields; their
// tests check it against encoding/json, whose format and rules (null, field names matched
// without case, unknown fields skipped) it keeps.
package wirejson

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoder reads one JSON text from a byte slice.
type Decoder struct {
	data  []byte
	pos   int
	depth int // objects and arrays open
}

// maxDepth bounds nesting, as encoding/json's does.
const maxDepth = 10000

// NewDecoder reads data.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// SyntaxError is data that is not JSON, or not the JSON a field takes.
type SyntaxError struct {
	Msg    string
	Offset int
}

func (e *SyntaxError) Error() string { return e.Msg + " at offset " + strconv.Itoa(e.Offset) }

func (d *Decoder) fail(msg string) error { return &SyntaxError{Msg: msg, Offset: d.pos} }

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek is the next value's first byte (0 at the end).
func (d *Decoder) peek() byte {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// End checks that nothing but white space follows the value read.
func (d *Decoder) End() error {
	if d.peek() != 0 {
		return d.fail("invalid character after top-level value")
	}
	return nil
}

// Null consumes a null, and reports whether there was one: a field the caller leaves as it
// is (strings, numbers, booleans, structs) or sets to nil (slices, maps, pointers).
func (d *Decoder) Null() bool {
	if d.peek() == 'n' && len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

func (d *Decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.fail("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// Object reads an object (or null, which it leaves), calling field with each key: field
// must read the key's value (Skip, for a key it does not know).
func (d *Decoder) Object(field func(key string) error) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
	default:
		return d.fail("expected an object")
	}
	if d.depth++; d.depth > maxDepth {
		return d.fail("exceeded max depth")
	}
	defer func() { d.depth-- }()
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.fail("expected a key")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.fail("expected a colon after a key")
		}
		d.pos++
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.fail("expected a comma or the object's end")
		}
	}
}

// Array reads an array, calling elem for each element, which elem must read.
func (d *Decoder) Array(elem func() error) error {
	if d.peek() != '[' {
		return d.fail("expected an array")
	}
	if d.depth++; d.depth > maxDepth {
		return d.fail("exceeded max depth")
	}
	defer func() { d.depth-- }()
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.fail("expected a comma or the array's end")
		}
	}
}

// String reads a string into s (null leaves it).
func (d *Decoder) String(s *string) error {
	if d.Null() {
		return nil
	}
	if d.peek() != '"' {
		return d.fail("expected a string")
	}
	v, err := d.str()
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Strings reads an array of strings into s (null: nil; [] is empty, not nil).
func (d *Decoder) Strings(s *[]string) error {
	if d.Null() {
		*s = nil
		return nil
	}
	out := []string{}
	err := d.Array(func() error {
		var v string
		err := d.String(&v)
		out = append(out, v)
		return err
	})
	*s = out
	return err
}

// StringMap reads an object of strings into m, made if nil (null: nil).
func (d *Decoder) StringMap(m *map[string]string) error {
	if d.Null() {
		*m = nil
		return nil
	}
	if d.peek() != '{' {
		return d.fail("expected an object")
	}
	if *m == nil {
		*m = map[string]string{}
	}
	return d.Object(func(key string) error {
		var v string
		err := d.String(&v)
		(*m)[key] = v
		return err
	})
}

// Bool reads a boolean into b (null leaves it).
func (d *Decoder) Bool(b *bool) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case 't':
		*b = true
		return d.literal("true")
	case 'f':
		*b = false
		return d.literal("false")
	}
	return d.fail("expected a boolean")
}

// number returns the next number's text, checked against JSON's grammar, or "" for null.
func (d *Decoder) number() (string, error) {
	if d.Null() {
		return "", nil
	}
	start := d.pos
	i := d.pos
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	if i < len(d.data) && d.data[i] == '0' {
		i++
	} else if digits() == 0 {
		return "", d.fail("expected a number")
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return "", d.fail("invalid number")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return "", d.fail("invalid number")
		}
	}
	d.pos = i
	return string(d.data[start:i]), nil
}

// Int reads a whole number that fits in bits into n (null leaves it).
func (d *Decoder) Int(n *int64, bits int) error {
	start := d.pos
	s, err := d.number()
	if err != nil || s == "" {
		return err
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return &SyntaxError{Msg: "cannot take number " + s + " as a " + strconv.Itoa(bits) + "-bit integer", Offset: start}
	}
	*n = v
	return nil
}

// Uint reads a whole number that fits in bits unsigned into n (null leaves it).
func (d *Decoder) Uint(n *uint64, bits int) error {
	start := d.pos
	s, err := d.number()
	if err != nil || s == "" {
		return err
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return &SyntaxError{Msg: "cannot take number " + s + " as an unsigned " + strconv.Itoa(bits) + "-bit integer", Offset: start}
	}
	*n = v
	return nil
}

// Int64 reads an int64 (null leaves it).
func (d *Decoder) Int64(n *int64) error { return d.Int(n, 64) }

// Uint64 reads a uint64 (null leaves it).
func (d *Decoder) Uint64(n *uint64) error { return d.Uint(n, 64) }

// IntValue reads an int (null leaves it).
func (d *Decoder) IntValue(n *int) error {
	v := int64(*n)
	err := d.Int(&v, strconv.IntSize)
	*n = int(v)
	return err
}

// Uint32 reads a uint32 (null leaves it).
func (d *Decoder) Uint32(n *uint32) error {
	v := uint64(*n)
	err := d.Uint(&v, 32)
	*n = uint32(v)
	return err
}

// Uint16 reads a uint16 (null leaves it).
func (d *Decoder) Uint16(n *uint16) error {
	v := uint64(*n)
	err := d.Uint(&v, 16)
	*n = uint16(v)
	return err
}

// Raw returns the next value's bytes (for a type that reads its own JSON, as time.Time).
func (d *Decoder) Raw() ([]byte, error) {
	d.skipSpace()
	start := d.pos
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos], nil
}

// Skip reads a value of any kind and drops it (an unknown field's).
func (d *Decoder) Skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.Object(func(string) error { return d.Skip() })
	case c == '[':
		return d.Array(d.Skip)
	case c == '"':
		_, err := d.str()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number()
		return err
	}
	return d.fail("expected a value")
}

// Fold is key as field names compare without case, as encoding/json compares them
// (Unicode simple folding), written in lower case: the name a field's switch tries after
// the key as it is.
func Fold(key string) string {
	var b strings.Builder
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r = unicode.ToLower(unicode.ToUpper(unicode.ToLower(r)))
		}
		b.WriteRune(r)
	}
	return b.String()
}

// str reads a string at d.pos (its opening quote), unescaped, invalid UTF-8 replaced by
// U+FFFD as encoding/json does.
func (d *Decoder) str() (string, error) {
	start := d.pos + 1
	i := start
	// The common case: nothing to unescape or replace.
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return string(d.data[start:i]), nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	b := make([]byte, 0, i-start+16)
	b = append(b, d.data[start:i]...)
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(b), nil
		case c < ' ':
			d.pos = i
			return "", d.fail("invalid character in string")
		case c == '\\':
			i++
			if i >= len(d.data) {
				break
			}
			switch e := d.data[i]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i++
			case 'b':
				b = append(b, '\b')
				i++
			case 'f':
				b = append(b, '\f')
				i++
			case 'n':
				b = append(b, '\n')
				i++
			case 'r':
				b = append(b, '\r')
				i++
			case 't':
				b = append(b, '\t')
				i++
			case 'u':
				r := hex4(d.data[i+1:])
				if r < 0 {
					d.pos = i
					return "", d.fail("invalid escape in string")
				}
				i += 5
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
						r2 = hex4(d.data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						i += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = i
				return "", d.fail("invalid escape in string")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, unicode.ReplacementChar)
			} else {
				b = append(b, d.data[i:i+size]...)
			}
			i += size
		}
	}
	d.pos = len(d.data)
	return "", errors.New("unexpected end of JSON input")
}

// hex4 is the rune of four hex digits at b's start, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// Unknown reads the value of a key that no field's exact name matched: into the field whose
// name it matches without case (field, given the folded key), else skipped.
func (d *Decoder) Unknown(key string, field func(*Decoder, string) error) error {
	if k := Fold(key); k != key {
		return field(d, k)
	}
	return d.Skip()
}

// Struct reads an object into v, field reading each key's value (null leaves v).
func Struct[T any](d *Decoder, v *T, field func(*T, *Decoder, string) error) error {
	return d.Object(func(k string) error { return field(v, d, k) })
}

// StructPtr reads an object into *p, made if nil (null: nil).
func StructPtr[T any](d *Decoder, p **T, field func(*T, *Decoder, string) error) error {
	if d.Null() {
		*p = nil
		return nil
	}
	if *p == nil {
		*p = new(T)
	}
	return Struct(d, *p, field)
}

// Structs reads an array of objects into s (null: nil; [] is empty, not nil).
func Structs[T any](d *Decoder, s *[]T, field func(*T, *Decoder, string) error) error {
	if d.Null() {
		*s = nil
		return nil
	}
	out := []T{}
	err := d.Array(func() error {
		var v T
		err := Struct(d, &v, field)
		out = append(out, v)
		return err
	})
	*s = out
	return err
}
