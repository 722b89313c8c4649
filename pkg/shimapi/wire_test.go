package shimapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/minibox/minibox/pkg/wirejson/wirecheck"
)

// TestWireMatchesEncodingJSON: Marshal writes what json.Marshal writes, byte for byte, and
// Unmarshal reads what json.Unmarshal reads, foreign JSON included (wirecheck.Mutate).
func TestWireMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	news := []func() any{func() any { return new(Request) }, func() any { return new(Response) },
		func() any { return new(InitMsg) }, func() any { return new(Exit) }}
	for i := range 8000 {
		fresh := news[i%len(news)]
		v := fresh()
		wirecheck.Fill(r, reflect.ValueOf(v).Elem(), 0)
		want, werr := json.Marshal(v)
		got, gerr := Marshal(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(want, got) {
			t.Fatalf("%+v:\njson.Marshal %s %v\nMarshal      %s %v", v, want, werr, got, gerr)
		}
		if werr != nil {
			continue
		}
		b := want
		if i%3 != 0 {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var tree any
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			mutated, err := json.Marshal(wirecheck.Mutate(r, tree))
			if err != nil {
				t.Fatal(err)
			}
			b = append(mutated, " \n"...)
		}
		wv, gv := fresh(), fresh()
		werr = json.Unmarshal(b, wv)
		gerr = Unmarshal(b, gv)
		if (werr != nil) != (gerr != nil) || werr == nil && !reflect.DeepEqual(wv, gv) {
			t.Fatalf("%s:\njson.Unmarshal %+v %v\nUnmarshal      %+v %v", b, wv, werr, gv, gerr)
		}
	}
}

func TestUnmarshalTrailing(t *testing.T) {
	var m InitMsg
	if err := Unmarshal([]byte(`{"type":"go"} x`), &m); err == nil {
		t.Error("Unmarshal took trailing data")
	}
	if err := Unmarshal([]byte(`{"type":"go"}`+"\n"), &m); err != nil || m.Type != MsgGo {
		t.Errorf("Unmarshal: %+v %v", m, err)
	}
}
