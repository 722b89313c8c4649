package network

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

// ParsePublish parses one `-p` value: ctr, host:ctr, ip:host:ctr or ip::ctr, each
// with an optional /tcp or /udp. Docker's ranges (8000-8001:80-81, or 80-81 alone) give one
// Port each. A missing host port is 0: Attach picks a free one.
func ParsePublish(spec string) ([]Port, error) {
	bad := func(why string) error {
		return errdefs.Invalid(fmt.Sprintf("publish %q: %s; expected [ip:][host:]ctr[/tcp|/udp]", spec, why))
	}
	rest, proto := spec, "tcp"
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest, proto = rest[:i], strings.ToLower(rest[i+1:])
		if proto != "tcp" && proto != "udp" {
			return nil, bad("unknown protocol " + strconv.Quote(proto))
		}
	}
	var ip, host, ctr string
	switch f := strings.Split(rest, ":"); len(f) {
	case 1:
		ctr = f[0]
	case 2:
		host, ctr = f[0], f[1]
	case 3:
		ip, host, ctr = f[0], f[1], f[2]
	default:
		return nil, bad("too many colons (IPv6 host addresses are not supported)")
	}
	var hostIP netip.Addr
	if ip != "" {
		a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
		if err != nil || !a.Is4() {
			return nil, bad("host address " + strconv.Quote(ip) + " is not an IPv4 address")
		}
		if !a.IsUnspecified() {
			hostIP = a
		}
	}
	clo, chi, err := portRange(ctr, false)
	if err != nil {
		return nil, bad("container port: " + err.Error())
	}
	hlo, hhi := uint16(0), uint16(0)
	if host != "" {
		if hlo, hhi, err = portRange(host, true); err != nil {
			return nil, bad("host port: " + err.Error())
		}
		if hhi-hlo != chi-clo {
			return nil, bad("host and container port ranges differ in length")
		}
	}
	var ports []Port
	for i := 0; i <= int(chi-clo); i++ {
		p := Port{HostIP: hostIP, ContainerPort: clo + uint16(i), Proto: proto}
		if hlo != 0 {
			p.HostPort = hlo + uint16(i)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// portRange parses "80" or "8000-8010"; 0 is allowed only as a host port (= choose one).
func portRange(s string, zeroOK bool) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = port(a, zeroOK && !isRange); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = port(b, false); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %s is reversed", s)
		}
	}
	return lo, hi, nil
}

func port(s string, zeroOK bool) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 && !zeroOK {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return uint16(n), nil
}
