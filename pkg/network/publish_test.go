package network

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestParsePublish(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		in   string
		want []Port
	}{
		{"80", []Port{{ContainerPort: 80, Proto: "tcp"}}},
		{"8080:80", []Port{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"127.0.0.1:8080:80/udp", []Port{{HostIP: lo, HostPort: 8080, ContainerPort: 80, Proto: "udp"}}},
		{"127.0.0.1::80", []Port{{HostIP: lo, ContainerPort: 80, Proto: "tcp"}}},
		{"0.0.0.0:53:53/UDP", []Port{{HostPort: 53, ContainerPort: 53, Proto: "udp"}}},
		{"0:80", []Port{{ContainerPort: 80, Proto: "tcp"}}},
		{"8000-8001:80-81", []Port{{HostPort: 8000, ContainerPort: 80, Proto: "tcp"}, {HostPort: 8001, ContainerPort: 81, Proto: "tcp"}}},
		{"80-81/udp", []Port{{ContainerPort: 80, Proto: "udp"}, {ContainerPort: 81, Proto: "udp"}}},
	} {
		got, err := ParsePublish(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0", "x", "80/sctp", "70000", "1:2:3:4", "::1:80:80", "host:8080:80",
		"8000-8001:80", "81-80", "8080:0", "1.2.3.4:8080:80:"} {
		if got, err := ParsePublish(in); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want invalid", in, got, err)
		}
	}
}

func TestPortString(t *testing.T) {
	p := Port{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}
	if s := p.String(); s != "0.0.0.0:8080/tcp" {
		t.Errorf("String() = %q", s)
	}
	if s := p.PortLine(); s != "80/tcp -> 0.0.0.0:8080" {
		t.Errorf("PortLine() = %q", s)
	}
	p.HostIP = netip.MustParseAddr("10.0.0.1")
	if s := p.String(); s != "10.0.0.1:8080/tcp" {
		t.Errorf("String() = %q", s)
	}
	if s := p.PSColumn(); s != "10.0.0.1:8080->80/tcp" {
		t.Errorf("PSColumn() = %q", s)
	}
}

func TestAllocate(t *testing.T) {
	sub := netip.MustParsePrefix("10.1.2.0/29") // .2 to .6 usable
	a := netip.MustParseAddr
	taken := func(list ...string) func(netip.Addr) bool {
		return func(x netip.Addr) bool {
			for _, s := range list {
				if a(s) == x {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		taken     []string
		preferred string
		want      string
	}{
		{nil, "", "10.1.2.2"},
		{[]string{"10.1.2.2", "10.1.2.4"}, "", "10.1.2.3"},
		{[]string{"10.1.2.2"}, "10.1.2.5", "10.1.2.5"},
		{[]string{"10.1.2.5"}, "10.1.2.5", "10.1.2.2"}, // preferred taken
		{nil, "10.1.2.1", "10.1.2.2"},                  // the gateway is never given
		{nil, "10.1.2.7", "10.1.2.2"},                  // nor broadcast
		{nil, "10.9.9.9", "10.1.2.2"},                  // nor outside the subnet
		{[]string{"10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5"}, "", "10.1.2.6"},
	} {
		var pref netip.Addr
		if tc.preferred != "" {
			pref = a(tc.preferred)
		}
		got, err := allocate(sub, taken(tc.taken...), pref)
		if err != nil || got != a(tc.want) {
			t.Errorf("allocate(taken %v, preferred %q) = %s, %v; want %s", tc.taken, tc.preferred, got, err, tc.want)
		}
	}
	_, err := allocate(sub, taken("10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"), netip.Addr{})
	if !errors.Is(err, errdefs.ErrConflict) || err.Error() != "no free address in 10.1.2.0/29" {
		t.Errorf("full subnet: %v", err)
	}
	if b := broadcast(netip.MustParsePrefix("172.19.0.0/16")); b != a("172.19.255.255") {
		t.Errorf("broadcast = %s", b)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil || cfg.Bridge != "minibox0" || cfg.Table != "minibox" || cfg.Subnet != DefaultSubnet {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	for _, bad := range []Config{
		{Subnet: netip.MustParsePrefix("10.0.0.0/30")},
		{Subnet: netip.MustParsePrefix("fd00::/64")},
		{Bridge: "a-very-long-bridge-name"},
		{APIPort: 70000},
	} {
		if _, err := bad.withDefaults(); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("withDefaults(%+v) = %v; want invalid", bad, err)
		}
	}
	if got := Gateway(netip.MustParsePrefix("172.19.0.0/24")); got != netip.MustParseAddr("172.19.0.1") {
		t.Errorf("Gateway = %s", got)
	}
	if got := MAC(netip.MustParseAddr("172.19.0.2")); string(got) != "\x02\x42\xac\x13\x00\x02" {
		t.Errorf("MAC = % x", got)
	}
	if VethName("0123456789abcdef") != "mb0123456789ab" || !isVethName("mb0123456789ab") || isVethName("mb0123456789aB") || isVethName("mbx") {
		t.Error("veth names")
	}
}
