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
		{spec.Spec{Network: "none", Namespaces: map[string]string{"pid": "host", "uts": "host"}}, unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET},
		{spec.Spec{Network: "none", Namespaces: map[string]string{"ipc": "/proc/7/ns/ipc", "cgroup": "host"}}, unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWNET},
	} {
		if got := CloneFlags(&c.s); got != c.want {
			t.Errorf("CloneFlags(%+v) = %#x, want %#x", c.s, got, c.want)
		}
	}
}

func TestJoins(t *testing.T) {
	s := &spec.Spec{NetNSPath: "/proc/1/ns/net", Namespaces: map[string]string{"pid": "/proc/2/ns/pid", "ipc": "/proc/3/ns/ipc", "uts": "host"}}
	got := Joins(s)
	want := [][2]string{{"net", "/proc/1/ns/net"}, {"ipc", "/proc/3/ns/ipc"}, {"pid", "/proc/2/ns/pid"}}
	if len(got) != len(want) {
		t.Fatalf("Joins = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Joins = %v, want %v", got, want)
		}
	}
	if FitsWarm(s) {
		t.Error("FitsWarm of a container joining namespaces = true")
	}
}
