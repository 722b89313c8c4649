package client

import (
	"encoding"
	"encoding/json"
	"reflect"
)

// marshalBody is json.Marshal(v), the same bytes, for a request body. A pointer to a
// struct without embedded fields is written field by field, each field that is not
// omitted marshalled on its own: encoding/json then builds encoders only for the types of
// the fields a request sets, where marshalling the struct builds them for its whole type
// graph first (a run's CreateRequest has some 80 fields and nested types; a `run --rm`
// sets five, and that graph was 0.2 ms of the CLI process). Anything else it does not
// handle the way encoding/json does (a type with its own MarshalJSON or MarshalText,
// embedded fields, tag options other than omitempty, names needing escapes, two fields of
// one name) goes to json.Marshal whole.
// TestMarshalBody holds it to json.Marshal's bytes.
func marshalBody(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return json.Marshal(v)
	}
	// A type that marshals itself is not its fields.
	switch v.(type) {
	case json.Marshaler, encoding.TextMarshaler:
		return json.Marshal(v)
	}
	rv = rv.Elem()
	t := rv.Type()
	b := make([]byte, 0, 512)
	b = append(b, '{')
	names := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			return json.Marshal(v)
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, omitEmpty, ok := parseFieldTag(tag)
		if !ok {
			return json.Marshal(v)
		}
		if name == "" {
			name = f.Name
		}
		if !plainName(name) || names[name] {
			return json.Marshal(v)
		}
		names[name] = true
		fv := rv.Field(i)
		if omitEmpty && isEmptyValue(fv) {
			continue
		}
		// The field's address, as the struct's encoder sees an addressable field: a
		// MarshalJSON on its pointer is called.
		value, err := json.Marshal(fv.Addr().Interface())
		if err != nil {
			return nil, err
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = append(b, value...)
	}
	return append(b, '}'), nil
}

// parseFieldTag splits a json tag into its name and whether it has omitempty; ok is false
// for any other option.
func parseFieldTag(tag string) (name string, omitEmpty, ok bool) {
	name, opts := tag, ""
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			name, opts = tag[:i], tag[i+1:]
			break
		}
	}
	switch opts {
	case "":
		return name, false, true
	case "omitempty":
		return name, true, true
	}
	return "", false, false
}

// plainName reports whether a field name is one encoding/json writes as it is: a valid
// tag name whose characters need no escape in a JSON string, HTML-safe ones included.
func plainName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
