package spec

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/wirejson/wirecheck"
)

func TestParseMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var s Spec
		wirecheck.Fill(r, reflect.ValueOf(&s).Elem(), 0)
		s.Seccomp = nil
		b, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var tree any
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			if b, err = json.MarshalIndent(wirecheck.Mutate(r, tree), "", " "); err != nil {
				t.Fatal(err)
			}
		}
		var want Spec
		werr := json.Unmarshal(b, &want)
		got, gerr := Parse(b)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%s\nencoding/json: %v\nParse: %v", b, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(&want, got) {
			t.Fatalf("%s\nencoding/json: %+v\nParse:         %+v", b, want, *got)
		}
	}
}

func TestParseSyntax(t *testing.T) {
	for _, in := range []string{``, `{`, `{"id":}`, `{"id":"x",}`, `{"id":"x"`, `{"id":"\x01"}`, `{"id":"\q"}`, `{"id":"\u12"}`,
		`{"shm_size":01}`, `{"shm_size":1.}`, `{"shm_size":-}`, `{"shm_size":1e}`, `{"id" "x"}`, `[]`, `{"id":nul}`, `{"process":{"args":["a" "b"]}}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) took it", in)
		}
		var s Spec
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("encoding/json took %q: the case is wrong", in)
		}
	}
	// Raw bytes of every value in a string (encoding/json never writes invalid UTF-8, but a
	// file may hold it).
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := []byte(`{"id":"`)
		for range r.IntN(16) {
			if c := byte(r.IntN(256)); c >= ' ' && c != '"' && c != '\\' {
				b = append(b, c)
			}
		}
		b = append(b, `"}`...)
		var want Spec
		werr := json.Unmarshal(b, &want)
		got, gerr := Parse(b)
		if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(&want, got) {
			t.Fatalf("%q: encoding/json %+v %v, Parse %+v %v", b, want, werr, got, gerr)
		}
	}
	deep := `{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("Parse took 10001 nested arrays")
	}
	if _, err := Parse([]byte(`{"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`)); err != nil {
		t.Errorf("Parse refused 9000 nested arrays: %v", err)
	}
	for _, in := range []string{`null`, ` {} `, `{"id":"\ud83d\ude00\ud800x\u00e9\/"}`, `{"shm_size":-0}`, `{"resources":{"memory":1e0}}`} {
		var want Spec
		werr := json.Unmarshal([]byte(in), &want)
		got, gerr := Parse([]byte(in))
		if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(&want, got) {
			t.Errorf("%s: encoding/json %+v %v, Parse %+v %v", in, want, werr, got, gerr)
		}
	}
}
