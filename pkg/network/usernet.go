package network

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

// DefaultPool is where user-defined networks' subnets come from when none is given: /24s
// of 10.210.0.0/16, skipping those a host route or another bridge already covers.
var DefaultPool = netip.MustParsePrefix("10.210.0.0/16")

// PoolBits is the size of a subnet taken from the pool.
const PoolBits = 24

// BridgeName is a user-defined network's bridge: "mb-" + 6 hex of sha256(data root, network
// id). It fits IFNAMSIZ and differs between daemons on one host.
func BridgeName(root, id string) string {
	sum := sha256.Sum256([]byte(root + "\x00" + id))
	return UserBridgePrefix + hex.EncodeToString(sum[:3])
}

// BridgeAlias is the IFLA_IFALIAS of a user-defined network's bridge: it names the data root
// and the network, so a daemon finds its own bridges (and only those) again.
func BridgeAlias(root, id string) string { return "minibox:" + id + ":" + root }

// ParseBridgeAlias reverses BridgeAlias for root; ok is false for another root's bridge.
func ParseBridgeAlias(root, alias string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(alias, "minibox:")
	if !ok {
		return "", false
	}
	id, r, ok := strings.Cut(rest, ":")
	return id, ok && r == root && id != ""
}

// ParseSubnet parses --subnet: an IPv4 prefix /8 to /29 given by its network address.
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, errdefs.Invalid(fmt.Sprintf("subnet %q: expected an IPv4 prefix such as 10.1.2.0/24", s))
	}
	if p.Bits() < 8 || p.Bits() > 29 {
		return netip.Prefix{}, errdefs.Invalid(fmt.Sprintf("subnet %q: expected a prefix length from /8 to /29", s))
	}
	if p.Masked() != p {
		return netip.Prefix{}, errdefs.Invalid(fmt.Sprintf("subnet %q: host bits are set (did you mean %s?)", s, p.Masked()))
	}
	if p.Addr().IsLoopback() || p.Addr().IsMulticast() || p.Addr().IsUnspecified() || p.Addr().IsLinkLocalUnicast() {
		return netip.Prefix{}, errdefs.Invalid(fmt.Sprintf("subnet %q: not a unicast range", s))
	}
	return p, nil
}

// CheckGateway validates --gateway for subnet: a host address of it.
func CheckGateway(subnet netip.Prefix, gw string) (netip.Addr, error) {
	a, err := netip.ParseAddr(gw)
	if err != nil || !a.Is4() {
		return netip.Addr{}, errdefs.Invalid(fmt.Sprintf("gateway %q: expected an IPv4 address", gw))
	}
	if !IsHostAddr(subnet, a) {
		return netip.Addr{}, errdefs.Invalid(fmt.Sprintf("gateway %s: not a host address of subnet %s", a, subnet))
	}
	return a, nil
}

// IsHostAddr reports whether a is in subnet and neither its network nor broadcast address.
func IsHostAddr(subnet netip.Prefix, a netip.Addr) bool {
	return a.Is4() && subnet.Contains(a) && a != subnet.Masked().Addr() && a != broadcast(subnet)
}

// Overlapping returns the first of used that overlaps p.
func Overlapping(p netip.Prefix, used []netip.Prefix) (netip.Prefix, bool) {
	for _, u := range used {
		if u.IsValid() && u.Overlaps(p) {
			return u, true
		}
	}
	return netip.Prefix{}, false
}

// PickSubnet returns the first /bits of pool, from the seed-th on (daemons starting at
// different places rarely race for one), that overlaps none of used.
func PickSubnet(pool netip.Prefix, bits int, seed uint32, used []netip.Prefix) (netip.Prefix, error) {
	pool = pool.Masked()
	if bits < pool.Bits() || bits > 30 || !pool.Addr().Is4() {
		return netip.Prefix{}, errdefs.Invalid(fmt.Sprintf("pool %s: cannot hold /%d subnets", pool, bits))
	}
	n := uint32(1) << (bits - pool.Bits())
	base := binary.BigEndian.Uint32(pool.Addr().AsSlice())
	for i := uint32(0); i < n; i++ {
		k := (seed + i) % n
		a := base + k<<(32-bits)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, a))), bits)
		if _, taken := Overlapping(p, used); !taken {
			return p, nil
		}
	}
	return netip.Prefix{}, errdefs.Conflict(fmt.Sprintf("no free subnet left in pool %s; give one with --subnet", pool))
}

// Allocate picks an address of subnet (pure form of Manager.Allocate for callers that keep
// their own books): preferred when free, else the lowest free one, never gw.
func AllocateIn(subnet netip.Prefix, gw netip.Addr, taken func(netip.Addr) bool, preferred netip.Addr) (netip.Addr, error) {
	return allocate(subnet, func(a netip.Addr) bool { return a == gw || taken(a) }, preferred)
}
