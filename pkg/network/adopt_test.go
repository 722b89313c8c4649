package network

import (
	"net/netip"
	"reflect"
	"testing"
)

// A daemon killed right after a start saved no address or ports for the new container (or
// a previous run's): what the host holds for it wins, the record fills in what is missing.
func TestAdoptLive(t *testing.T) {
	cfg, err := Config{Subnet: netip.MustParsePrefix("10.9.0.0/24")}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	id := func(c byte) string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	lagging, stale, lost, bare := id('a'), id('b'), id('c'), id('d')
	a := netip.MustParseAddr
	web := Port{HostPort: 32768, ContainerPort: 80, Proto: "tcp"}
	webPrev := Port{HostPort: 32790, ContainerPort: 80, Proto: "tcp"}
	dns := Port{HostPort: 5353, ContainerPort: 53, Proto: "udp"}
	running := []Endpoint{
		{ID: lagging, PID: 10, IfName: "eth0"},                                                      // never saved as started
		{ID: stale, PID: 11, Addr: a("10.9.0.7"), Ports: []Port{webPrev, dns}},                      // a previous run's
		{ID: lost, PID: 12, Addr: a("10.9.0.9"), Ports: []Port{dns}},                                // its veth is gone
		{ID: bare, PID: 13, Addr: a("10.9.0.11"), Ports: []Port{{ContainerPort: 80, Proto: "tcp"}}}, // no rule
	}
	veths := map[string]netip.Addr{
		cfg.vethName(lagging): a("10.9.0.2"),
		cfg.vethName(stale):   a("10.9.0.3"),
		cfg.vethName(bare):    a("10.9.0.11"),
	}
	ports := map[string][]Port{lagging: {web}, stale: {{HostPort: 32769, ContainerPort: 80, Proto: "tcp"}}}
	got := adoptLive(cfg, running, veths, ports)
	want := []Endpoint{
		{ID: lagging, PID: 10, IfName: "eth0", Addr: a("10.9.0.2"), Ports: []Port{web}},
		{ID: stale, PID: 11, Addr: a("10.9.0.3"), Ports: []Port{{HostPort: 32769, ContainerPort: 80, Proto: "tcp"}, dns}},
		{ID: lost, PID: 12, Addr: a("10.9.0.9"), Ports: []Port{dns}},
		{ID: bare, PID: 13, Addr: a("10.9.0.11"), Ports: []Port{{ContainerPort: 80, Proto: "tcp"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("adoptLive:\n got %+v\nwant %+v", got, want)
	}
	// A user-defined network's veths are named with its key: the default bridge's names
	// say nothing about them.
	keyed, _ := Config{Subnet: netip.MustParsePrefix("10.9.0.0/24"), VethKey: "net1", Bridge: "mb-net1"}.withDefaults()
	if got := adoptLive(keyed, running[:1], veths, nil); got[0].Addr.IsValid() {
		t.Errorf("another bridge's veth adopted: %+v", got[0])
	}
}
