package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/netport"
)

// Defaults of Config.
const (
	DefaultBridge = "minibox0"
	DefaultTable  = "minibox"
)

// DefaultSubnet is MINIBOX_BRIDGE_SUBNET's default.
var DefaultSubnet = netip.MustParsePrefix("172.19.0.0/24")

// VethPrefix starts the host-side name of every container's veth: "mb" + 12 hex chars.
const VethPrefix = "mb"

// Config says which bridge, subnet and nftables table a Manager owns.
type Config struct {
	Bridge  string       // bridge name, default "minibox0"
	Subnet  netip.Prefix // IPv4 /8../29, default 172.19.0.0/24; the bridge has its first address
	Table   string       // nftables table (family ip), default "minibox"
	APIPort int          // the daemon's TCP port, dropped from containers; 0 = none
	// NetNS is a path to the network namespace to manage (e.g. /proc/<pid>/ns/net); empty
	// means the daemon's own. Tests use it to run a stand-in host in a namespace they made.
	NetNS string

	// The rest is for user-defined networks, each a Manager of its own on one table.

	// VethKey, when set, names host-side veths "mn" + 12 hex of sha256(VethKey + id): a
	// container on several networks has one veth on each.
	VethKey string
	// Alias is written as the bridge's IFLA_IFALIAS when it is created: it tells a daemon
	// which bridges are its own (the name is a hash). An existing bridge with another alias
	// is not taken over.
	Alias string
	// Isolate adds forward rules that drop traffic between this bridge and any other
	// minibox bridge ("mb-*" and PeerBridge, the default one).
	Isolate    bool
	PeerBridge string
	// Internal: no masquerade and nothing forwarded between the bridge and anything else.
	Internal bool
	// Gateway is the bridge's address; zero means the subnet's first.
	Gateway netip.Addr
}

func (cfg Config) gateway() netip.Addr {
	if cfg.Gateway.IsValid() {
		return cfg.Gateway
	}
	return Gateway(cfg.Subnet)
}

// UserVethPrefix starts host-side veths of user-defined networks.
const UserVethPrefix = "mn"

// UserBridgePrefix starts the names of user-defined networks' bridges.
const UserBridgePrefix = "mb-"

// Port is one published port (`-p`); the type lives in a leaf package so a container's
// configuration can hold it without linking the network.
type Port = netport.Port

// Endpoint is one container's attachment to the bridge.
type Endpoint struct {
	ID    string     // container id, 64 hex chars (the veth is named after the first 12)
	PID   int        // a process (or thread) in the container's network namespace
	Addr  netip.Addr // the container's address in the subnet
	Ports []Port
	// IfName is the interface's name in the container, "eth0" when empty.
	IfName string
	// NoRoute leaves out the default route through the gateway (a second network, or an
	// internal one).
	NoRoute bool
	// NetNS, when set, is the container's network namespace, opened by the caller (from a
	// pidfd: PID is then only recorded); Attach wires it instead of PID's.
	NetNS *os.File
}

func (ep *Endpoint) ifName() string {
	if ep.IfName == "" {
		return "eth0"
	}
	return ep.IfName
}

// VethName is the host side of a container's veth pair: "mb" + the first 12 chars of id.
func VethName(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return VethPrefix + id
}

// vethName is the host side of a container's veth on this Manager's bridge.
func (cfg Config) vethName(id string) string {
	if cfg.VethKey == "" {
		return VethName(id)
	}
	sum := sha256.Sum256([]byte(cfg.VethKey + "\x00" + id))
	return UserVethPrefix + hex.EncodeToString(sum[:6])
}

// ownVethName reports whether name is a veth name this kind of Manager makes.
func (cfg Config) ownVethName(name string) bool {
	if cfg.VethKey == "" {
		return isVethName(name)
	}
	if len(name) != len(UserVethPrefix)+12 || name[:len(UserVethPrefix)] != UserVethPrefix {
		return false
	}
	for _, c := range name[len(UserVethPrefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isVethName reports whether name is "mb" + 12 lowercase hex chars, the only links Reconcile
// may remove.
func isVethName(name string) bool {
	if len(name) != len(VethPrefix)+12 || name[:len(VethPrefix)] != VethPrefix {
		return false
	}
	for _, c := range name[len(VethPrefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// MAC is the container-side MAC address: 02:42 followed by the four IPv4 bytes, like Docker.
func MAC(addr netip.Addr) []byte {
	a := addr.As4()
	return []byte{0x02, 0x42, a[0], a[1], a[2], a[3]}
}

// HostMAC is the host side's MAC address: 06:42 followed by the container's IPv4 bytes. The
// address in it tells Reconcile (and tests) which subnet, hence which daemon, a veth belongs
// to without entering the container's namespace.
func HostMAC(addr netip.Addr) []byte {
	a := addr.As4()
	return []byte{0x06, 0x42, a[0], a[1], a[2], a[3]}
}

// hostMACAddr reverses HostMAC; ok is false for a MAC minibox did not choose.
func hostMACAddr(mac []byte) (netip.Addr, bool) {
	if len(mac) != 6 || mac[0] != 0x06 || mac[1] != 0x42 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(mac[2:6])), true
}

// withDefaults fills in defaults and validates cfg.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = DefaultSubnet
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if len(cfg.Bridge) > 15 {
		return cfg, errdefs.Invalid(fmt.Sprintf("bridge name %q: longer than 15 bytes", cfg.Bridge))
	}
	if !cfg.Subnet.Addr().Is4() || cfg.Subnet.Bits() < 8 || cfg.Subnet.Bits() > 29 {
		return cfg, errdefs.Invalid(fmt.Sprintf("subnet %s: expected an IPv4 prefix /8 to /29", cfg.Subnet))
	}
	if cfg.Gateway.IsValid() && !IsHostAddr(cfg.Subnet, cfg.Gateway) {
		return cfg, errdefs.Invalid(fmt.Sprintf("gateway %s: not a host address of %s", cfg.Gateway, cfg.Subnet))
	}
	if cfg.APIPort < 0 || cfg.APIPort > 65535 {
		return cfg, errdefs.Invalid(fmt.Sprintf("api port %d: out of range", cfg.APIPort))
	}
	return cfg, nil
}

// Gateway is the bridge's address: the first of the subnet.
func Gateway(subnet netip.Prefix) netip.Addr { return subnet.Masked().Addr().Next() }

// adoptLive is AdoptLive's decision: veths holds the address of each of the network's
// veths (by name), ports the ports of each container's rules (by id).
func adoptLive(cfg Config, running []Endpoint, veths map[string]netip.Addr, ports map[string][]Port) []Endpoint {
	out := make([]Endpoint, 0, len(running))
	for _, ep := range running {
		if a, ok := veths[cfg.vethName(ep.ID)]; ok {
			ep.Addr = a
		}
		if ps := ports[ep.ID]; len(ps) > 0 {
			// The rules' host ports are this run's (a random one differs from run to
			// run); a recorded mapping without a rule (a flushed table) is kept.
			merged := slices.Clone(ps)
			for _, rp := range ep.Ports {
				if !slices.ContainsFunc(ps, func(p Port) bool {
					return p.ContainerPort == rp.ContainerPort && p.Proto == rp.Proto && p.HostIP == rp.HostIP
				}) {
					merged = append(merged, rp)
				}
			}
			ep.Ports = merged
		}
		out = append(out, ep)
	}
	return out
}
