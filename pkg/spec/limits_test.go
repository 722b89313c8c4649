package spec

import (
	"slices"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"PATH=/bin", "A=1", "B=2"}, []string{"A=3", "C=4", "A=5"})
	want := []string{"PATH=/bin", "A=5", "B=2", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %q, want %q (replaced in place, later wins)", got, want)
	}
}
