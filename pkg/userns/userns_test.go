package userns

import (
	"errors"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

func TestShift(t *testing.T) {
	m := spec.IDMap{HostID: 100000, Size: 65536}
	for in, want := range map[uint32]uint32{0: 100000, 1000: 101000, 65535: 165535, 65536: 65534} {
		if got := Shift(m, in); got != want {
			t.Errorf("Shift(%d) = %d, want %d", in, got, want)
		}
	}
	if mapLine(m) != "0 100000 65536\n" {
		t.Errorf("mapLine = %q", mapLine(m))
	}
	for _, bad := range []spec.IDMap{{HostID: 1, Size: 0}, {HostID: 1 << 31, Size: 1 << 31}} {
		if err := check(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("check(%+v) = %v, want invalid", bad, err)
		}
	}
}
