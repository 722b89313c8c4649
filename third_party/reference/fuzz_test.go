package reference_test

import (
	"testing"

	"github.com/distribution/reference"
)

// FuzzParse checks what must hold for any input: no panic, and a parsed reference
// reads back as itself (and, normalised, stays normalised).
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := reference.Parse(s); err == nil {
			again, err := reference.Parse(r.String())
			if err != nil || again.String() != r.String() {
				t.Errorf("Parse(%q) = %s, which parses back as %v, %v", s, r, again, err)
			}
		}
		if n, err := reference.ParseNormalizedNamed(s); err == nil {
			again, err := reference.ParseNamed(n.String())
			if err != nil || again.String() != n.String() {
				t.Errorf("ParseNormalizedNamed(%q) = %s, which ParseNamed reads as %v, %v", s, n, again, err)
			}
			if d, err := reference.ParseDockerRef(s); err != nil || reference.IsNameOnly(d) {
				t.Errorf("ParseDockerRef(%q) = %v, %v", s, d, err)
			}
		}
		_, _ = reference.ParseAnyReference(s)
	})
}
