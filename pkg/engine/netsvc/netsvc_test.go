package netsvc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/netport"
	"github.com/minibox/minibox/pkg/network"
)

// fakeCtrs is the containers the service asks about, in memory.
type fakeCtrs struct {
	ctrs  []Container
	saved int // Edits that stored a change
}

func (f *fakeCtrs) Visit(running bool, fn func(c *Container)) {
	for i := range f.ctrs {
		if running && f.ctrs[i].PID == 0 {
			continue
		}
		c := f.ctrs[i]
		fn(&c)
	}
}

func (f *fakeCtrs) Edit(ref string, fn func(c *Container) (bool, error)) error {
	for i := range f.ctrs {
		if f.ctrs[i].Name != ref && f.ctrs[i].ID != ref {
			continue
		}
		c := f.ctrs[i]
		c.Endpoints = slices.Clone(c.Endpoints)
		changed, err := fn(&c)
		if err != nil || !changed {
			return err
		}
		f.ctrs[i].Endpoints, f.ctrs[i].Bridge = c.Endpoints, c.Bridge
		f.saved++
		return nil
	}
	return errdefs.NotFound("no such container: " + ref)
}

const (
	netA = "aaaa000000000000000000000000000000000000000000000000000000000000"
	netB = "bbbb000000000000000000000000000000000000000000000000000000000000"
	netI = "cccc000000000000000000000000000000000000000000000000000000000000"
)

func ctrID(c byte) string { return strings.Repeat(string(c), 64) }

// newTestService opens a service over a data root holding networks a (10.9.0.0/24),
// b (10.9.1.0/24, gateway .254) and the internal i (10.9.2.0/24), with ctrs. Any use of
// the host (the default bridge, a network's Manager) fails the test: what is tested here
// is decided before.
func newTestService(t *testing.T, ctrs *fakeCtrs) *Service {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "networks"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, r := range []record{
		{ID: netA, Name: "a", Driver: "bridge", Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.9.0.1"), Labels: map[string]string{"k": "v"}},
		{ID: netB, Name: "b", Driver: "bridge", Subnet: netip.MustParsePrefix("10.9.1.0/24"), Gateway: netip.MustParseAddr("10.9.1.254")},
		{ID: netI, Name: "i", Driver: "bridge", Subnet: netip.MustParsePrefix("10.9.2.0/24"), Gateway: netip.MustParseAddr("10.9.2.1"), Internal: true},
	} {
		b, _ := json.Marshal(r)
		if err := os.WriteFile(filepath.Join(root, "networks", r.ID+".json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{Root: root, BridgeSubnet: netip.MustParsePrefix("10.88.0.0/16")}, Deps{
		NewManager: func(network.Config, *slog.Logger) (*network.Manager, error) {
			t.Fatal("a network's Manager was opened")
			return nil, nil
		},
		Containers: ctrs,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.defaultBridge = func(context.Context, bool) (*network.Manager, error) {
		t.Fatal("the default bridge was used")
		return nil, nil
	}
	return s
}

func isKind(err, kind error) bool { return err != nil && errors.Is(err, kind) }

func TestCreateValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    CreateOptions
		kind error  // nil: valid
		msg  string // in the error
	}{
		{"ok", CreateOptions{Name: "web_net-1"}, nil, ""},
		{"ok subnet and gateway", CreateOptions{Name: "n", Subnet: "10.7.0.0/16", Gateway: "10.7.0.254"}, nil, ""},
		{"ok bridge driver", CreateOptions{Name: "n", Driver: "bridge"}, nil, ""},
		{"no name", CreateOptions{}, errdefs.ErrInvalid, "1 to 63 characters"},
		{"long name", CreateOptions{Name: strings.Repeat("n", 64)}, errdefs.ErrInvalid, "1 to 63 characters"},
		{"leading dash", CreateOptions{Name: "-n"}, errdefs.ErrInvalid, "inner dashes"},
		{"trailing underscore", CreateOptions{Name: "n_"}, errdefs.ErrInvalid, "inner dashes"},
		{"dot", CreateOptions{Name: "a.b"}, errdefs.ErrInvalid, "letters, digits"},
		{"reserved bridge", CreateOptions{Name: "bridge"}, errdefs.ErrInvalid, "reserved"},
		{"reserved host", CreateOptions{Name: "host"}, errdefs.ErrInvalid, "reserved"},
		{"reserved default", CreateOptions{Name: "default"}, errdefs.ErrInvalid, "reserved"},
		{"overlay", CreateOptions{Name: "n", Driver: "overlay"}, errdefs.ErrInvalid, "only bridge"},
		{"subnet garbage", CreateOptions{Name: "n", Subnet: "ten"}, errdefs.ErrInvalid, "expected an IPv4 prefix"},
		{"subnet IPv6", CreateOptions{Name: "n", Subnet: "fd00::/64"}, errdefs.ErrInvalid, "expected an IPv4 prefix"},
		{"subnet no length", CreateOptions{Name: "n", Subnet: "10.7.0.0"}, errdefs.ErrInvalid, "expected an IPv4 prefix"},
		{"subnet too small", CreateOptions{Name: "n", Subnet: "10.7.0.0/30"}, errdefs.ErrInvalid, "/8 to /29"},
		{"subnet too large", CreateOptions{Name: "n", Subnet: "10.0.0.0/7"}, errdefs.ErrInvalid, "/8 to /29"},
		{"subnet host bits", CreateOptions{Name: "n", Subnet: "10.7.0.1/24"}, errdefs.ErrInvalid, "did you mean 10.7.0.0/24"},
		{"subnet loopback", CreateOptions{Name: "n", Subnet: "127.0.0.0/8"}, errdefs.ErrInvalid, "not a unicast range"},
		{"subnet link-local", CreateOptions{Name: "n", Subnet: "169.254.0.0/16"}, errdefs.ErrInvalid, "not a unicast range"},
		{"gateway alone", CreateOptions{Name: "n", Gateway: "10.7.0.1"}, errdefs.ErrInvalid, "needs --subnet"},
		{"gateway garbage", CreateOptions{Name: "n", Subnet: "10.7.0.0/24", Gateway: "x"}, errdefs.ErrInvalid, "expected an IPv4 address"},
		{"gateway IPv6", CreateOptions{Name: "n", Subnet: "10.7.0.0/24", Gateway: "fd00::1"}, errdefs.ErrInvalid, "expected an IPv4 address"},
		{"gateway outside", CreateOptions{Name: "n", Subnet: "10.7.0.0/24", Gateway: "10.7.1.1"}, errdefs.ErrInvalid, "not a host address"},
		{"gateway network address", CreateOptions{Name: "n", Subnet: "10.7.0.0/24", Gateway: "10.7.0.0"}, errdefs.ErrInvalid, "not a host address"},
		{"gateway broadcast", CreateOptions{Name: "n", Subnet: "10.7.0.0/24", Gateway: "10.7.0.255"}, errdefs.ErrInvalid, "not a host address"},
		{"empty label key", CreateOptions{Name: "n", Labels: map[string]string{"": "v"}}, errdefs.ErrInvalid, "empty key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subnet, gw, err := checkCreate(&tc.o)
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("checkCreate: %v", err)
				}
				if (tc.o.Subnet != "") != subnet.IsValid() || (tc.o.Gateway != "") != gw.IsValid() {
					t.Errorf("subnet %v, gateway %v from %+v", subnet, gw, tc.o)
				}
				return
			}
			if !isKind(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v with %q", err, tc.kind, tc.msg)
			}
			// The service refuses it before it touches the host.
			s := newTestService(t, &fakeCtrs{})
			if _, err := s.Create(context.Background(), tc.o); !isKind(err, tc.kind) {
				t.Fatalf("Create: err = %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestCreateDuplicateName(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	if _, err := s.Create(context.Background(), CreateOptions{Name: "a"}); !isKind(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), `"a" already exists`) {
		t.Fatalf("err = %v, want a conflict", err)
	}
}

func TestLoadAndFind(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	dir := s.dir()
	// Records that are not networks' are left alone, unreadable ones skipped.
	os.WriteFile(filepath.Join(dir, "names.json"), []byte("{}"), 0o600)
	os.WriteFile(filepath.Join(dir, strings.Repeat("d", 64)+".json"), []byte("{"), 0o600)
	os.WriteFile(filepath.Join(dir, strings.Repeat("e", 64)+".json"), []byte(`{"id":"`+netA+`","subnet":"10.1.0.0/24"}`), 0o600)
	if err := s.load(); err != nil {
		t.Fatal(err)
	}
	if len(s.nets) != 3 {
		t.Fatalf("loaded %d networks, want 3", len(s.nets))
	}
	for _, tc := range []struct {
		ref, id string
		kind    error
	}{
		{"a", netA, nil}, {netB, netB, nil}, {"cccc", netI, nil}, {"ccc", "", errdefs.ErrNotFound},
		{"zz", "", errdefs.ErrNotFound}, {"aaaa0", netA, nil},
	} {
		un, err := s.find(tc.ref)
		if tc.kind != nil {
			if !isKind(err, tc.kind) {
				t.Errorf("find(%q): err = %v, want %v", tc.ref, err, tc.kind)
			}
			continue
		}
		if err != nil || un.rec.ID != tc.id {
			t.Errorf("find(%q) = %v, %v", tc.ref, un, err)
		}
	}
	// Two networks whose ids share a prefix: the prefix is ambiguous.
	s.nets[netA[:60]+"ffff"] = &userNet{rec: record{ID: netA[:60] + "ffff", Name: "a2"}}
	if _, err := s.find("aaaa"); !isKind(err, errdefs.ErrInvalid) {
		t.Errorf("ambiguous prefix: err = %v", err)
	}
}

func TestConnectValidation(t *testing.T) {
	stopped := Container{ID: ctrID('1'), Name: "web", Mode: "a", Endpoints: []Endpoint{{NetworkID: netA, IfName: "eth0"}}}
	hostMode := Container{ID: ctrID('2'), Name: "h", Mode: "host"}
	onBridge := Container{ID: ctrID('3'), Name: "old", Mode: "bridge"}
	shared := Container{ID: ctrID('4'), Name: "side", Mode: "container:web"}
	for _, tc := range []struct {
		name string
		o    ConnectOptions
		kind error
		msg  string
	}{
		{"no network", ConnectOptions{Container: "web"}, errdefs.ErrInvalid, "required"},
		{"no container", ConnectOptions{Network: "b"}, errdefs.ErrInvalid, "required"},
		{"unknown network", ConnectOptions{Network: "x", Container: "web"}, errdefs.ErrNotFound, `"x" not found`},
		{"unknown container", ConnectOptions{Network: "b", Container: "x"}, errdefs.ErrNotFound, "x"},
		{"bad alias", ConnectOptions{Network: "b", Container: "web", Aliases: []string{"a b"}}, errdefs.ErrInvalid, "expected a DNS name"},
		{"empty alias label", ConnectOptions{Network: "b", Container: "web", Aliases: []string{"a..b"}}, errdefs.ErrInvalid, "expected a DNS name"},
		{"ip garbage", ConnectOptions{Network: "b", Container: "web", IP: "x"}, errdefs.ErrInvalid, "expected an IPv4 address"},
		{"ip IPv6", ConnectOptions{Network: "b", Container: "web", IP: "fd00::2"}, errdefs.ErrInvalid, "expected an IPv4 address"},
		{"ip outside", ConnectOptions{Network: "b", Container: "web", IP: "10.9.0.5"}, errdefs.ErrInvalid, "not a free host address of network b"},
		{"ip network address", ConnectOptions{Network: "b", Container: "web", IP: "10.9.1.0"}, errdefs.ErrInvalid, "not a free host address"},
		{"ip broadcast", ConnectOptions{Network: "b", Container: "web", IP: "10.9.1.255"}, errdefs.ErrInvalid, "not a free host address"},
		{"ip gateway", ConnectOptions{Network: "b", Container: "web", IP: "10.9.1.254"}, errdefs.ErrInvalid, "gateway 10.9.1.254"},
		{"already on", ConnectOptions{Network: "a", Container: "web"}, errdefs.ErrConflict, "already on network a"},
		{"host mode", ConnectOptions{Network: "b", Container: "h"}, errdefs.ErrConflict, "network mode host"},
		{"shares a namespace", ConnectOptions{Network: "b", Container: "side"}, errdefs.ErrConflict, "network mode container:web"},
		{"bridge with alias", ConnectOptions{Network: "bridge", Container: "web", Aliases: []string{"x"}}, errdefs.ErrInvalid, "alias"},
		{"bridge with ip", ConnectOptions{Network: "bridge", Container: "web", IP: "10.88.0.9"}, errdefs.ErrInvalid, "user specified IP"},
		{"bridge already", ConnectOptions{Network: "bridge", Container: "old"}, errdefs.ErrConflict, "already on network bridge"},
		{"bridge from host", ConnectOptions{Network: "bridge", Container: "h"}, errdefs.ErrConflict, "network mode host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctrs := &fakeCtrs{ctrs: []Container{stopped, hostMode, onBridge, shared}}
			s := newTestService(t, ctrs)
			err := s.Connect(context.Background(), tc.o)
			if !isKind(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v with %q", err, tc.kind, tc.msg)
			}
			if ctrs.saved != 0 {
				t.Errorf("a refused connect changed a record")
			}
		})
	}
}

// A stopped container joins at once (its interface comes at its next start): the next
// free ethN, its aliases and --ip in its record, an event, the name table's keeper told.
func TestConnectStopped(t *testing.T) {
	ctrs := &fakeCtrs{ctrs: []Container{{ID: ctrID('1'), Name: "web", Mode: "bridge"}}}
	s := newTestService(t, ctrs)
	var events []string
	s.publish = func(action, id string, attrs map[string]string) {
		events = append(events, action+" "+id[:4]+" "+attrs["name"])
	}
	if err := s.Connect(context.Background(), ConnectOptions{Network: "b", Container: "web", Aliases: []string{"db.local"}, IP: "10.9.1.7"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background(), ConnectOptions{Network: "a", Container: ctrID('1')}); err != nil {
		t.Fatal(err)
	}
	got := ctrs.ctrs[0].Endpoints
	want := []Endpoint{{NetworkID: netB, Aliases: []string{"db.local"}, StaticIP: "10.9.1.7", IfName: "eth1"}, {NetworkID: netA, IfName: "eth2"}}
	if len(got) != 2 || got[0].NetworkID != want[0].NetworkID || got[0].IfName != "eth1" || got[0].StaticIP != "10.9.1.7" ||
		!slices.Equal(got[0].Aliases, want[0].Aliases) || got[1].NetworkID != netA || got[1].IfName != "eth2" || got[1].IP != "" {
		t.Fatalf("endpoints = %+v, want %+v", got, want)
	}
	if !slices.Equal(events, []string{"connect bbbb b", "connect aaaa a"}) {
		t.Errorf("events = %q", events)
	}
	// Off again: b's record goes, the other stays; a second time is a conflict unless forced.
	if err := s.Disconnect(context.Background(), "b", "web", false); err != nil {
		t.Fatal(err)
	}
	if got := ctrs.ctrs[0].Endpoints; len(got) != 1 || got[0].NetworkID != netA {
		t.Fatalf("after disconnect: %+v", got)
	}
	if err := s.Disconnect(context.Background(), "b", "web", false); !isKind(err, errdefs.ErrConflict) {
		t.Errorf("second disconnect: err = %v", err)
	}
	saved := ctrs.saved
	if err := s.Disconnect(context.Background(), "b", "web", true); err != nil || ctrs.saved != saved {
		t.Errorf("forced disconnect of a container not on it: err = %v, saved %d times more", err, ctrs.saved-saved)
	}
	if err := s.Disconnect(context.Background(), "bridge", "web", false); !isKind(err, errdefs.ErrInvalid) {
		t.Errorf("disconnect from the bridge it was created on: err = %v", err)
	}
}

func TestConnectBridgeStopped(t *testing.T) {
	ctrs := &fakeCtrs{ctrs: []Container{{ID: ctrID('1'), Name: "web", Mode: "a", Endpoints: []Endpoint{{NetworkID: netA, IfName: "eth0"}}}}}
	s := newTestService(t, ctrs)
	if err := s.Connect(context.Background(), ConnectOptions{Network: "bridge", Container: "web"}); err != nil {
		t.Fatal(err)
	}
	if b := ctrs.ctrs[0].Bridge; b == nil || b.NetworkID != "bridge" || b.IfName != "eth1" {
		t.Fatalf("bridge endpoint = %+v", b)
	}
	if err := s.Disconnect(context.Background(), "bridge", "web", false); err != nil || ctrs.ctrs[0].Bridge != nil {
		t.Fatalf("disconnect: %v, bridge %+v", err, ctrs.ctrs[0].Bridge)
	}
	if err := s.Disconnect(context.Background(), "bridge", "web", false); !isKind(err, errdefs.ErrConflict) {
		t.Errorf("second disconnect: err = %v", err)
	}
	if err := s.Disconnect(context.Background(), "bridge", "web", true); err != nil {
		t.Errorf("forced: %v", err)
	}
}

func TestEndpointsFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ctrconfig.Config
		want []Endpoint
		kind error
		msg  string
	}{
		{name: "bridge only", cfg: ctrconfig.Config{Network: "bridge"}},
		{name: "host", cfg: ctrconfig.Config{Network: "host"}},
		{name: "user network", cfg: ctrconfig.Config{Network: "a", NetworkAlias: []string{"db"}, IPAddress: "10.9.0.9"},
			want: []Endpoint{{NetworkID: netA, IfName: "eth0", Aliases: []string{"db"}, StaticIP: "10.9.0.9"}}},
		{name: "by id prefix, then more", cfg: ctrconfig.Config{Network: "aaaa", Networks: []string{"b"}},
			want: []Endpoint{{NetworkID: netA, IfName: "eth0"}, {NetworkID: netB, IfName: "eth1"}}},
		{name: "bridge first", cfg: ctrconfig.Config{Network: "bridge", Networks: []string{"b", "a"}, NetworkAlias: []string{"x"}},
			want: []Endpoint{{NetworkID: netB, IfName: "eth1", Aliases: []string{"x"}}, {NetworkID: netA, IfName: "eth2"}}},
		{name: "alias on the bridge", cfg: ctrconfig.Config{Network: "bridge", NetworkAlias: []string{"x"}}, kind: errdefs.ErrInvalid, msg: "need a user-defined network"},
		{name: "ip on host", cfg: ctrconfig.Config{Network: "host", IPAddress: "10.9.0.9"}, kind: errdefs.ErrInvalid, msg: "need a user-defined network"},
		{name: "host and networks", cfg: ctrconfig.Config{Network: "host", Networks: []string{"a"}}, kind: errdefs.ErrInvalid, msg: "cannot be combined"},
		{name: "container and networks", cfg: ctrconfig.Config{Network: "container:x", Networks: []string{"a"}}, kind: errdefs.ErrInvalid, msg: "cannot be combined"},
		{name: "predefined among networks", cfg: ctrconfig.Config{Network: "a", Networks: []string{"none"}}, kind: errdefs.ErrInvalid, msg: `"none" is not a user-defined network`},
		{name: "unknown", cfg: ctrconfig.Config{Network: "nope"}, kind: errdefs.ErrNotFound, msg: `"nope" not found`},
		{name: "twice", cfg: ctrconfig.Config{Network: "a", Networks: []string{netA}}, kind: errdefs.ErrInvalid, msg: "given twice"},
		{name: "ip outside", cfg: ctrconfig.Config{Network: "a", IPAddress: "10.9.1.9"}, kind: errdefs.ErrInvalid, msg: "not a free host address of network a"},
		{name: "ip is the gateway", cfg: ctrconfig.Config{Network: "a", IPAddress: "10.9.0.1"}, kind: errdefs.ErrInvalid, msg: "not a free host address"},
		{name: "bad alias", cfg: ctrconfig.Config{Network: "a", NetworkAlias: []string{"-x y"}}, kind: errdefs.ErrInvalid, msg: "expected a DNS name"},
		{name: "publish on internal", cfg: ctrconfig.Config{Network: "i", Publish: []netport.Port{{}}}, kind: errdefs.ErrInvalid, msg: "network i is internal"},
		{name: "internal second", cfg: ctrconfig.Config{Network: "a", Networks: []string{"i"}, Publish: []netport.Port{{}}},
			want: []Endpoint{{NetworkID: netA, IfName: "eth0"}, {NetworkID: netI, IfName: "eth1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestService(t, &fakeCtrs{})
			got, err := s.EndpointsFor(&tc.cfg)
			if tc.kind != nil {
				if !isKind(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want %v with %q", err, tc.kind, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b Endpoint) bool {
				return a.NetworkID == b.NetworkID && a.IfName == b.IfName && a.StaticIP == b.StaticIP && slices.Equal(a.Aliases, b.Aliases)
			}) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRemoveRefused(t *testing.T) {
	ctrs := &fakeCtrs{ctrs: []Container{
		{ID: ctrID('1'), Name: "web", Mode: "a", Endpoints: []Endpoint{{NetworkID: netA}}},
		{ID: ctrID('2'), Name: "api", Mode: "b", Endpoints: []Endpoint{{NetworkID: netB}, {NetworkID: netA}}},
	}}
	s := newTestService(t, ctrs)
	for _, ref := range []string{"bridge", "host", "none"} {
		if err := s.Remove(context.Background(), ref); !isKind(err, errdefs.ErrInvalid) {
			t.Errorf("remove %s: err = %v", ref, err)
		}
	}
	if err := s.Remove(context.Background(), "a"); !isKind(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "in use by container(s) api, web") {
		t.Errorf("remove a network in use: err = %v", err)
	}
	if err := s.Remove(context.Background(), "x"); !isKind(err, errdefs.ErrNotFound) {
		t.Errorf("remove an unknown network: err = %v", err)
	}
}

func TestListAndInspect(t *testing.T) {
	ctrs := &fakeCtrs{ctrs: []Container{
		{ID: ctrID('1'), Name: "web", Mode: "a", PID: 10, IP: "10.9.0.2", Endpoints: []Endpoint{{NetworkID: netA, IP: "10.9.0.2", Aliases: []string{"w"}}},
			Bridge: &Endpoint{NetworkID: "bridge", IP: "10.88.0.7", IfName: "eth1"}},
		{ID: ctrID('2'), Name: "old", Mode: "bridge", IP: "10.88.0.3"}, // stopped: listed, no address
		{ID: ctrID('3'), Name: "h", Mode: "host", PID: 11},
	}}
	s := newTestService(t, ctrs)
	list := s.List()
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"bridge", "host", "none", "a", "b", "i"}) {
		t.Fatalf("list = %q", names)
	}
	br := list[0]
	if !br.Predefined || br.Subnet.String() != "10.88.0.0/16" || br.Gateway.String() != "10.88.0.1" || len(br.Containers) != 2 {
		t.Fatalf("bridge = %+v", br)
	}
	if m := br.Containers[ctrID('1')]; m.Addr.String() != "10.88.0.7/16" || m.MAC.String() != "02:42:0a:58:00:07" {
		t.Errorf("a running container joined to the bridge: %+v", m)
	}
	if m := br.Containers[ctrID('2')]; m.Name != "old" || m.Addr.IsValid() || m.MAC != nil {
		t.Errorf("a stopped container: %+v", m)
	}
	a, err := s.Inspect("a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Predefined || a.Labels["k"] != "v" || a.Subnet.String() != "10.9.0.0/24" || len(a.Containers) != 1 {
		t.Fatalf("a = %+v", a)
	}
	if m := a.Containers[ctrID('1')]; m.Name != "web" || m.Addr.String() != "10.9.0.2/24" || !slices.Equal(m.Aliases, []string{"w"}) {
		t.Errorf("member of a: %+v", m)
	}
	a.Labels["k"] = "changed" // a copy: the record keeps its own
	if a2, _ := s.Inspect(netA); a2.Labels["k"] != "v" {
		t.Errorf("Inspect handed out the record's labels")
	}
	if h, err := s.Inspect("host"); err != nil || h.Driver != "host" || h.Subnet.IsValid() {
		t.Errorf("host = %+v, %v", h, err)
	}
}

func TestInspectEndpointsAndNameservers(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	c := &Container{Mode: "a", IP: "10.9.0.2", Endpoints: []Endpoint{{NetworkID: netA, IP: "10.9.0.2", IfName: "eth0", Aliases: []string{"w"}},
		{NetworkID: "gone", IP: "10.1.1.1"}}, Bridge: &Endpoint{NetworkID: "bridge", IP: "10.88.0.7", IfName: "eth1"}}
	eps := s.InspectEndpoints(c, true)
	if len(eps) != 2 {
		t.Fatalf("endpoints = %+v", eps)
	}
	if a := eps["a"]; a.NetworkID != netA || a.Addr.String() != "10.9.0.2/24" || a.Gateway.String() != "10.9.0.1" || a.Interface != "eth0" || !slices.Equal(a.Aliases, []string{"w"}) {
		t.Errorf("a = %+v", a)
	}
	if b := eps["bridge"]; b.Addr.String() != "10.88.0.7/16" || b.Gateway.String() != "10.88.0.1" || b.Interface != "eth1" || b.Aliases == nil {
		t.Errorf("bridge = %+v", b)
	}
	if a := s.InspectEndpoints(c, false)["a"]; a.Addr.IsValid() || a.MAC != nil || a.Gateway.IsValid() {
		t.Errorf("stopped: %+v", a)
	}
	for _, tc := range []struct {
		mode string
		eps  []Endpoint
		want []string
	}{
		{"bridge", nil, []string{"10.88.0.1"}},
		{"b", []Endpoint{{NetworkID: netB}, {NetworkID: netA}}, []string{"10.9.1.254"}},
		{"b", []Endpoint{{NetworkID: "gone"}}, nil},
		{"host", nil, nil},
		{"container:x", nil, nil},
	} {
		if got := s.Nameservers(tc.mode, tc.eps); !slices.Equal(got, tc.want) {
			t.Errorf("Nameservers(%s, %v) = %v, want %v", tc.mode, tc.eps, got, tc.want)
		}
	}
}

// The name table holds the running containers' names, short ids and aliases on each
// network, --link aliases on the default bridge, and each container's addresses together.
func TestNameTable(t *testing.T) {
	web := ctrID('1')
	ctrs := &fakeCtrs{ctrs: []Container{
		{ID: web, Name: "web", Mode: "a", PID: 10, IP: "10.9.0.2", Endpoints: []Endpoint{{NetworkID: netA, IP: "10.9.0.2", Aliases: []string{"www"}},
			{NetworkID: netB, IP: "10.9.1.2"}}},
		{ID: ctrID('2'), Name: "db", Mode: "bridge", PID: 11, IP: "10.88.0.2"},
		{ID: ctrID('3'), Name: "app", Mode: "bridge", PID: 12, IP: "10.88.0.3", Links: []string{"/db:database", "gone:g", "web"}},
		{ID: ctrID('4'), Name: "stopped", Mode: "a", IP: "10.9.0.9", Endpoints: []Endpoint{{NetworkID: netA, IP: "10.9.0.9"}}},
	}}
	s := newTestService(t, ctrs)
	s.cfg.DNSUpstream = []string{"192.0.2.53:53"}
	ready := true
	s.bridgeReady = func() bool { return ready }
	tab := s.nameTable()
	if len(tab.Networks) != 4 || tab.Networks[0].ID != "bridge" || tab.Networks[1].ID != netA || !slices.Equal(tab.Upstream, []string{"192.0.2.53:53"}) {
		t.Fatalf("table = %+v", tab)
	}
	addr := func(n int, name string) string {
		var out []string
		for _, a := range tab.Networks[n].Names[name] {
			out = append(out, a.String())
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		net        int
		name, want string
	}{
		{0, "db", "10.88.0.2"}, {0, "app", "10.88.0.3"}, {0, ctrID('2')[:12], "10.88.0.2"},
		{0, "database", "10.88.0.2"}, {0, "g", ""}, {0, "web", ""}, // a link to a container not on the bridge resolves nowhere
		{1, "web", "10.9.0.2"}, {1, "www", "10.9.0.2"}, {1, web[:12], "10.9.0.2"}, {1, "stopped", ""},
		{2, "web", "10.9.1.2"}, {2, "www", ""},
	} {
		if got := addr(tc.net, tc.name); got != tc.want {
			t.Errorf("network %d, %s = %q, want %q", tc.net, tc.name, got, tc.want)
		}
	}
	if len(tab.Hosts) != 1 || len(tab.Hosts[0]) != 2 || tab.Hosts[0][0].String() != "10.9.0.2" {
		t.Errorf("hosts = %v", tab.Hosts)
	}
	// Without the default bridge set up, no bridge network and no link aliases.
	ready = false
	if tab := s.nameTable(); len(tab.Networks) != 3 || tab.Networks[0].ID != netA {
		t.Errorf("without the bridge: %+v", tab.Networks)
	}
}

func TestNamesPublishedOnlyOnceOpen(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	s.NamesChanged()
	if _, err := os.Stat(filepath.Join(s.dir(), "names.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a name table before Open: %v", err)
	}
}

// TestReplaceTable: the table is made, then replaced whole, and the old one swapped out
// is gone once the background is done: no temporary file stays.
func TestReplaceTable(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	path := filepath.Join(s.dir(), "names.json")
	for _, want := range []string{"first", "second", "third"} {
		if err := s.replaceTable(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Fatalf("table %q, %v; want %q", b, err, want)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("table mode: %v %v", fi, err)
		}
	}
	s.background.Wait()
	left, _ := filepath.Glob(filepath.Join(s.dir(), ".names.json.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestDNSName(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "web_1": true, "db.svc.local": true, "A-b": true, strings.Repeat("a", 63): true,
		"": false, "a b": false, "a..b": false, ".a": false, strings.Repeat("a", 64): false,
		strings.Repeat("a.", 127) + "a": false, "é": false,
	} {
		if got := dnsName(s); got != want {
			t.Errorf("dnsName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIsUserNetwork(t *testing.T) {
	for mode, want := range map[string]bool{"": false, "bridge": false, "host": false, "none": false, "default": false,
		"container:x": false, "a": true, "my_net": true} {
		if IsUserNetwork(mode) != want {
			t.Errorf("IsUserNetwork(%q) != %v", mode, want)
		}
	}
}
