package client

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/minibox/minibox/pkg/api"
)

// fill sets v (settable) to a value of its type: zero for a zero draw, else one with
// every field, element and pointer set, strings carrying characters JSON escapes.
func fill(v reflect.Value, rng *rand.Rand, depth int) {
	if rng.Intn(3) == 0 || depth > 4 {
		return // left zero
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString([]string{"x", "<a&b>", "é\u2028\"\\\n", ""}[rng.Intn(4)])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.Intn(200) - 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rng.Intn(200)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{1.5, 1e21, 1e-7, math.Copysign(0, -1), 3}[rng.Intn(5)])
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), rng, depth+1)
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			v.SetBytes([]byte(` {"a": [1, 2], "b":"<x>"} `))
			return
		}
		n := rng.Intn(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := 0; i < n; i++ {
			fill(v.Index(i), rng, depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := rng.Intn(3); i > 0; i-- {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, rng, depth+1)
			fill(e, rng, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), rng, depth+1)
			}
		}
	}
}

func sameAsEncodingJSON(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := marshalBody(v)
	if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("%T:\n got %s (%v)\nwant %s (%v)", v, got, err, want, wantErr)
	}
}

type withTextMarshaler struct {
	A ptrMarshaler  `json:"a"`
	B *ptrMarshaler `json:"b,omitempty"`
	C valMarshaler  `json:"c,omitempty"`
	D any           `json:"d"`
	e int
	F int `json:"-"`
	H int
}

type ptrMarshaler struct{ n int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

type valMarshaler string

func (v valMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"val:` + string(v) + `"`), nil }

type embedding struct {
	api.PortBinding
	X int `json:"x"`
}

type escapedName struct {
	A int `json:"<a>"`
	B int `json:"b c"`
}

// selfMarshaled marshals itself: its fields are not what encoding/json writes.
type selfMarshaled struct{ A int }

func (s *selfMarshaled) MarshalJSON() ([]byte, error) { return []byte(`"self"`), nil }

func TestMarshalBody(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var req api.CreateRequest
		fill(reflect.ValueOf(&req).Elem(), rng, -10) // -10: every top-level field drawn
		sameAsEncodingJSON(t, &req)
		var exec api.ExecRequest
		fill(reflect.ValueOf(&exec).Elem(), rng, -10)
		sameAsEncodingJSON(t, &exec)
	}
	sameAsEncodingJSON(t, &api.CreateRequest{})
	sameAsEncodingJSON(t, &withTextMarshaler{A: ptrMarshaler{1}, B: &ptrMarshaler{2}, C: "c", D: &ptrMarshaler{}, e: 1, F: 2, H: 4})
	sameAsEncodingJSON(t, &withTextMarshaler{})
	sameAsEncodingJSON(t, &embedding{PortBinding: api.PortBinding{HostPort: 1}, X: 2})
	// Tags that the linters refuse in source (made at run time): a field named "-", other
	// options, two fields of one name.
	for _, fields := range [][]reflect.StructField{
		{{Name: "G", Type: reflect.TypeFor[int](), Tag: `json:"-,"`}},
		{{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"a,string"`}, {Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"b,omitzero"`},
			{Name: "C", Type: reflect.TypeFor[int](), Tag: `json:"c,omitempty,foo"`}},
		{{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`}, {Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
			{Name: "C", Type: reflect.TypeFor[int]()}},
	} {
		v := reflect.New(reflect.StructOf(fields))
		v.Elem().Field(0).SetInt(1)
		sameAsEncodingJSON(t, v.Interface())
	}
	sameAsEncodingJSON(t, &escapedName{A: 1, B: 2})
	sameAsEncodingJSON(t, &selfMarshaled{A: 1})
	sameAsEncodingJSON(t, &struct{ F float64 }{math.NaN()})
	sameAsEncodingJSON(t, map[string]int{"a": 1})
	sameAsEncodingJSON(t, (*api.CreateRequest)(nil))
	sameAsEncodingJSON(t, []string{"a"})
}
