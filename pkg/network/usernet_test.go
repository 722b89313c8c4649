package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestPickSubnet(t *testing.T) {
	pool := netip.MustParsePrefix("10.210.0.0/16")
	used := []netip.Prefix{netip.MustParsePrefix("10.210.0.0/23"), netip.MustParsePrefix("10.0.0.0/30")}
	got, err := PickSubnet(pool, 24, 0, used)
	if err != nil || got != netip.MustParsePrefix("10.210.2.0/24") {
		t.Fatalf("PickSubnet = %v, %v; want 10.210.2.0/24 (the first free after the used /23)", got, err)
	}
	// The seed moves the start (daemons spread out) and wraps around the pool.
	if got, _ := PickSubnet(pool, 24, 300, used); got != netip.MustParsePrefix("10.210.44.0/24") {
		t.Errorf("seed 300: %v, want 10.210.44.0/24", got)
	}
	// A used prefix that covers the whole pool: a conflict.
	_, err = PickSubnet(pool, 24, 0, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("full pool: err = %v, want a conflict", err)
	}
	if _, err := PickSubnet(pool, 12, 0, nil); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("subnets larger than the pool: err = %v, want invalid", err)
	}
}

func TestParseSubnetAndGateway(t *testing.T) {
	for _, bad := range []string{"", "nonsense", "10.1.2.3/24", "10.0.0.0/7", "10.0.0.0/30", "fd00::/64", "127.0.0.0/8", "224.0.0.0/24", "169.254.0.0/16"} {
		if _, err := ParseSubnet(bad); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "subnet") {
			t.Errorf("ParseSubnet(%q) = %v, want an invalid-subnet error", bad, err)
		}
	}
	p, err := ParseSubnet("10.9.8.0/24")
	if err != nil || p.String() != "10.9.8.0/24" {
		t.Fatalf("ParseSubnet = %v, %v", p, err)
	}
	for _, bad := range []string{"10.9.9.1", "10.9.8.0", "10.9.8.255", "x", "fd00::1"} {
		if _, err := CheckGateway(p, bad); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "gateway") {
			t.Errorf("CheckGateway(%q) = %v, want an invalid-gateway error", bad, err)
		}
	}
	if a, err := CheckGateway(p, "10.9.8.254"); err != nil || a.String() != "10.9.8.254" {
		t.Errorf("CheckGateway = %v, %v", a, err)
	}
}

func TestBridgeAndVethNames(t *testing.T) {
	a, b := BridgeName("/var/lib/minibox", "id1"), BridgeName("/tmp/other", "id1")
	if a == b || len(a) != 9 || !strings.HasPrefix(a, "mb-") {
		t.Errorf("bridge names %q %q: want mb-<6 hex>, different per data root", a, b)
	}
	if id, ok := ParseBridgeAlias("/r", BridgeAlias("/r", "abc")); !ok || id != "abc" {
		t.Errorf("alias round trip: %q %v", id, ok)
	}
	if _, ok := ParseBridgeAlias("/r", BridgeAlias("/r2", "abc")); ok {
		t.Error("another root's alias taken for ours")
	}
	cfgA, cfgB := Config{VethKey: "net-a"}, Config{VethKey: "net-b"}
	id := strings.Repeat("ab", 32)
	va, vb := cfgA.vethName(id), cfgB.vethName(id)
	if va == vb || len(va) > 15 || !cfgA.ownVethName(va) || isVethName(va) {
		t.Errorf("veth names %q %q: want one per network, <= 15 bytes, not the default bridge's kind", va, vb)
	}
	if (Config{}).vethName(id) != VethName(id) {
		t.Error("the default bridge's veth name changed")
	}
}
