// Package wirecheck makes the random values and JSON that tests of wirejson's users
// compare against encoding/json.
package wirecheck

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"
)

// RandomStrings are the strings Fill draws from: escapes, HTML's characters, JavaScript's
// line terminators, invalid UTF-8 and surrogates encoding/json replaces.
var RandomStrings = []string{"", "x", "/var/lib/minibox", "a\"b\\c", "<&>", "line\nbreak\t\r\b\f", "\x00\x1f\x7f",
	"é✓😀", "\u2028\u2029", "\xff\xfeinvalid", "A=b=c", "CAP_SYS_ADMIN"}

// Fill sets v (a settable value) to random contents, every field's kind included.
func Fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		if r.IntN(3) == 0 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(RandomStrings[r.IntN(len(RandomStrings))])
		}
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			n = -n
		}
		if v.OverflowInt(n) {
			n = int64(int32(n))
		}
		v.SetInt(n)
	case reflect.Uint64, reflect.Uint32, reflect.Uint16:
		n := r.Uint64() >> r.IntN(64)
		for v.OverflowUint(n) {
			n >>= 8
		}
		v.SetUint(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // Seccomp: not in the JSON
			return
		}
		switch r.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(3)
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				Fill(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(3) {
		case 0:
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(3) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				Fill(r, k, depth+1)
				Fill(r, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Pointer:
		if r.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			Fill(r, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if r.IntN(4) != 0 {
				t := time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9))
				if r.IntN(2) == 0 {
					t = t.In(time.FixedZone("", 3600*(r.IntN(25)-12)))
				}
				v.Set(reflect.ValueOf(t))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && r.IntN(5) != 0 {
				Fill(r, v.Field(i), depth+1)
			}
		}
	}
}

// Mutate changes a decoded JSON tree as hand-edited or foreign JSON might: keys in
// another case, unknown keys, nulls, values of the wrong kind, numbers out of range.
func Mutate(r *rand.Rand, v any) any {
	if r.IntN(25) == 0 {
		return nil
	}
	if r.IntN(60) == 0 {
		switch r.IntN(5) {
		case 0:
			return "wrong"
		case 1:
			return json.Number("1.5")
		case 2:
			return json.Number("-1")
		case 3:
			return json.Number("99999999999999999999999")
		default:
			return []any{}
		}
	}
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			switch r.IntN(10) {
			case 0:
				k = strings.ToUpper(k)
			case 1:
				if k != "" {
					k = strings.ToUpper(k[:1]) + k[1:]
				}
			}
			out[k] = Mutate(r, e)
		}
		if r.IntN(4) == 0 {
			out["unknown_"+RandomStrings[r.IntN(len(RandomStrings))]] = map[string]any{"a": []any{json.Number("1e5"), true, nil, "s"}}
		}
		return out
	case []any:
		for i := range t {
			t[i] = Mutate(r, t[i])
		}
	}
	return v
}
