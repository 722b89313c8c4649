package network

import (
	"net/netip"

	"github.com/minibox/minibox/pkg/errdefs"
)

// allocate returns preferred when it is a free host address of subnet, else the lowest free
// address from .2 (.0 is the network, .1 the bridge, the last one broadcast).
func allocate(subnet netip.Prefix, taken func(netip.Addr) bool, preferred netip.Addr) (netip.Addr, error) {
	subnet = subnet.Masked()
	gw := Gateway(subnet)
	usable := func(a netip.Addr) bool {
		return a.Is4() && subnet.Contains(a) && a != subnet.Addr() && a != gw && a != broadcast(subnet)
	}
	if preferred.IsValid() && usable(preferred) && !taken(preferred) {
		return preferred, nil
	}
	for a := gw.Next(); usable(a); a = a.Next() {
		if !taken(a) {
			return a, nil
		}
	}
	return netip.Addr{}, errdefs.Conflict("no free address in " + subnet.String())
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
