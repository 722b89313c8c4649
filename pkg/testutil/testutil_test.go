package testutil

import (
	"strings"
	"testing"
)

// A script's [privileged] condition skips on a host that lacks something only when the run
// is not meant to be privileged; under MINIBOX_TEST_PRIVILEGED=1 it is an error, which
// fails the script.
func TestConditionFailsWhenPrivileged(t *testing.T) {
	noRoot := func(needs ...Prerequisite) string {
		if len(needs) == 0 || needs[0] != Root {
			t.Fatalf("needs %v, want root first", needs)
		}
		return "root (run as root)"
	}
	none := func(...Prerequisite) string { return "" }

	t.Setenv("MINIBOX_TEST_PRIVILEGED", "")
	if ok, err := Condition(noRoot, Root, Overlay); ok || err != nil {
		t.Errorf("without MINIBOX_TEST_PRIVILEGED, root missing: %v, %v; want false (skip), no error", ok, err)
	}
	if ok, err := Condition(none, Root); !ok || err != nil {
		t.Errorf("nothing missing: %v, %v; want true", ok, err)
	}

	t.Setenv("MINIBOX_TEST_PRIVILEGED", "1")
	ok, err := Condition(noRoot, Root, Overlay)
	if ok || err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("MINIBOX_TEST_PRIVILEGED=1, root missing: %v, %v; want an error naming root", ok, err)
	}
	if ok, err := Condition(none, Root); !ok || err != nil {
		t.Errorf("MINIBOX_TEST_PRIVILEGED=1, nothing missing: %v, %v; want true", ok, err)
	}
}
