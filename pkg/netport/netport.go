// Package netport is a published port as data: the type a container's configuration holds
// and the network package publishes. It is a leaf (no netlink, no nftables) so the CLI and
// the validator can hold a parsed port without linking the network.
package netport

import (
	"net/netip"
	"strconv"
)

// Port is one published port (`-p`). JSON keys are the API's.
type Port struct {
	HostIP        netip.Addr `json:"host_ip,omitzero"` // zero: every address of the host
	HostPort      uint16     `json:"host_port"`        // 0: a free port is chosen by Attach
	ContainerPort uint16     `json:"container_port"`
	Proto         string     `json:"protocol"` // "tcp" or "udp"
}

// BindIP is the address a Port binds, 0.0.0.0 for "all".
func (p Port) BindIP() netip.Addr {
	if p.HostIP.IsValid() {
		return p.HostIP
	}
	return netip.IPv4Unspecified()
}

// String is Docker's `port` form of the host side: 0.0.0.0:8080/tcp.
func (p Port) String() string {
	return netip.AddrPortFrom(p.BindIP(), p.HostPort).String() + "/" + p.Proto
}

// PortLine is the `minibox port` line of a mapping: "80/tcp -> 0.0.0.0:8080".
func (p Port) PortLine() string {
	return strconv.Itoa(int(p.ContainerPort)) + "/" + p.Proto + " -> " + netip.AddrPortFrom(p.BindIP(), p.HostPort).String()
}

// PSColumn is the mapping as `ps` shows it, like Docker: "0.0.0.0:8080->80/tcp".
func (p Port) PSColumn() string {
	return netip.AddrPortFrom(p.BindIP(), p.HostPort).String() + "->" + strconv.Itoa(int(p.ContainerPort)) + "/" + p.Proto
}

// Key is the port's key in Docker's maps: "80/tcp".
func (p Port) Key() string { return strconv.Itoa(int(p.ContainerPort)) + "/" + p.Proto }
