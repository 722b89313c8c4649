package netsvc

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// A port conflict names the container of ours that publishes the port, else another program.
func TestPortConflictNamesItsHolder(t *testing.T) {
	self, other := ctrID('1'), ctrID('2')
	ctrs := &fakeCtrs{ctrs: []Container{
		{ID: self, Name: "me", Mode: "bridge", PID: 10, Ports: []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{ID: other, Name: "web", Mode: "bridge", PID: 11, Ports: []network.Port{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
	}}
	s := newTestService(t, ctrs)
	busy := errdefs.Conflict("host port 8080 is already in use")
	want := []network.Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}
	err := s.namePortHolder(busy, self, want)
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "container web ("+other[:12]+")") {
		t.Fatalf("held by web: %v", err)
	}
	if err := s.namePortHolder(busy, self, []network.Port{{HostPort: 9090, Proto: "tcp"}}); !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("held by no container: %v", err)
	}
	other2 := errors.New("netlink failed")
	if err := s.namePortHolder(other2, self, want); err != other2 {
		t.Fatalf("not a conflict: %v", err)
	}
}

// A container on no network plans nothing and never touches the default bridge.
func TestPlanStartWithoutNetworks(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	p, err := s.PlanStart(context.Background(), StartRequest{ID: ctrID('1'), Name: "c", Mode: "none",
		Publish: []network.Port{{HostPort: 8080, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Wired() || p.Addr.IsValid() || len(p.Ports) != 0 || p.BridgeIP() != "" {
		t.Fatalf("plan = %+v", p)
	}
	if err := p.Attach(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	p.Undo()
}

// The default bridge is in use while a container on it runs, is paused or restarts.
func TestBridgeInUse(t *testing.T) {
	ctrs := &fakeCtrs{ctrs: []Container{{ID: ctrID('1'), Name: "a", Mode: "bridge"}, {ID: ctrID('2'), Name: "b", Mode: "host", PID: 5}}}
	s := newTestService(t, ctrs)
	if s.bridgeInUse() {
		t.Fatal("a stopped bridge container and a running host one use the bridge")
	}
	ctrs.ctrs[0].Active = true
	if !s.bridgeInUse() {
		t.Fatal("a restarting bridge container does not use it")
	}
}
