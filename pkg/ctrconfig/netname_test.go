package ctrconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestNetworkName(t *testing.T) {
	for _, ok := range []string{"a", "net-1", "Front", "proj_default", "a_b-c", strings.Repeat("x", 63)} {
		if err := NetworkName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "_a", "a_", "a.b", "a b", strings.Repeat("x", 64), "bridge", "host", "none", "default"} {
		if err := NetworkName(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: err = %v, want invalid", bad, err)
		}
	}
}
