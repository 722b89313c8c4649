package caps

import (
	"errors"
	"slices"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestDefault(t *testing.T) {
	d := Default()
	if len(d) != 14 {
		t.Fatalf("Default() has %d capabilities, want Docker's 14", len(d))
	}
	m, err := Merge(d, nil, nil)
	if err != nil || !slices.Equal(m, d) {
		t.Errorf("Merge(Default()) = %v, %v; want Default() unchanged and sorted", m, err)
	}
}

func TestMerge(t *testing.T) {
	all := All()
	for _, c := range []struct {
		name            string
		base, add, drop []string
		want            []string
	}{
		{"add short lowercase", []string{"CAP_CHOWN"}, []string{"sys_admin"}, nil, []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}},
		{"drop", []string{"CAP_CHOWN", "CAP_KILL"}, nil, []string{"kill"}, []string{"CAP_CHOWN"}},
		{"drop all then add", Default(), []string{"NET_ADMIN", "cap_chown"}, []string{"ALL"}, []string{"CAP_CHOWN", "CAP_NET_ADMIN"}},
		{"add all minus drop", nil, []string{"all"}, []string{"SYS_ADMIN"}, slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "CAP_SYS_ADMIN" })},
		{"add wins over drop", []string{"CAP_KILL"}, []string{"CHOWN"}, []string{"CHOWN"}, []string{"CAP_CHOWN", "CAP_KILL"}},
		{"duplicates", []string{"CAP_KILL", "kill"}, []string{"Kill"}, nil, []string{"CAP_KILL"}},
		{"empty", nil, nil, nil, []string{}},
	} {
		got, err := Merge(c.base, c.add, c.drop)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Merge = %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := Merge(Default(), []string{"CAP_FLY"}, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("Merge with an unknown name: %v, want an invalid error", err)
	}
	if _, err := Merge(Default(), nil, []string{"teleport"}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("Merge dropping an unknown name: %v, want an invalid error", err)
	}
}

func TestAll(t *testing.T) {
	a := All()
	if len(a) < 38 || a[0] != "CAP_CHOWN" || !slices.Contains(a, "CAP_SYS_ADMIN") {
		t.Errorf("All() = %v", a)
	}
}
