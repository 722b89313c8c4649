package ns

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/spec"
)

func TestCloneFlags(t *testing.T) {
	base := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	for _, c := range []struct {
		s    spec.Spec
		want uintptr
	}{
		{spec.Spec{Network: "none"}, base | unix.CLONE_NEWNET},
		{spec.Spec{Network: "bridge"}, base | unix.CLONE_NEWNET},
		{spec.Spec{Network: "host"}, base},
		{spec.Spec{Network: "host", UserNS: &spec.IDMap{HostID: 100000, Size: 65536}}, base | unix.CLONE_NEWUSER},
	} {
		if got := CloneFlags(&c.s); got != c.want {
			t.Errorf("CloneFlags(%+v) = %#x, want %#x", c.s, got, c.want)
		}
	}
}
