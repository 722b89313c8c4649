package ctrreq

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/lazyre"
)

var (
	// RFC 1123: labels of letters, digits and inner hyphens.
	hostnameRe = lazyre.New(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	// A name in /etc/hosts (an alias, an --add-host name): RFC 1123 plus the underscores
	// service names carry.
	hostsNameRe = lazyre.New(`^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$`)
)

// maxHostname is the kernel's limit for sethostname.
const maxHostname = 64

func checkNetworkMode(r *api.CreateRequest, _ *ctrconfig.Options, warn *[]string) error {
	switch r.Network {
	case "", "default":
		r.Network = "bridge"
	case "bridge", "host", "none":
	default:
		if target, ok := strings.CutPrefix(r.Network, "container:"); ok {
			if target == "" {
				return bad("network", "\"container:\": name the container whose network to share")
			}
			if len(r.Publish) > 0 {
				*warn = append(*warn, "published ports are discarded when sharing another container's network")
				r.Publish = nil
			}
		} else if ctrconfig.NetworkName(r.Network) != nil {
			return bad("network", "%q: expected bridge, host, none, container:<name> or a network's name", r.Network)
		}
	}
	for i, n := range r.Networks {
		if err := ctrconfig.NetworkName(n); err != nil && n != "bridge" {
			return bad(idx("networks", i), "%q: expected a network's name", n)
		}
	}
	return nil
}

// checkHostnames: the hostname goes to /etc/hostname, /etc/hosts and sethostname; the
// aliases to /etc/hosts.
func checkHostnames(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.Hostname != "" && (len(r.Hostname) > maxHostname || !hostnameRe.MatchString(r.Hostname)) {
		return bad("hostname", "%q is not a hostname: expected dot-separated labels of letters, digits and inner hyphens, at most %d characters", r.Hostname, maxHostname)
	}
	for i, a := range r.NetworkAlias {
		if !hostsNameRe.MatchString(a) {
			return bad(idx("network_aliases", i), "%q is not a host name", a)
		}
	}
	return nil
}

// searchDomainRe is Docker's rule for --dns-search: a domain, or "." for none.
var searchDomainRe = lazyre.New(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9])\.?$`)

// checkDNS: each value is one word of resolv.conf.
func checkDNS(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, s := range r.DNS {
		f := idx("dns", i)
		if err := token(f, s); err != nil {
			return err
		}
		if _, err := netip.ParseAddr(s); err != nil {
			return bad(f, "%q is not an IP address", s)
		}
	}
	for i, s := range r.DNSSearch {
		if s != "." && (len(s) > 253 || !searchDomainRe.MatchString(s)) {
			return bad(idx("dns_search", i), "%q is not a domain name (or . for none)", s)
		}
	}
	for i, s := range r.DNSOption {
		if err := token(idx("dns_option", i), s); err != nil {
			return err
		}
	}
	return nil
}

// checkExtraHosts takes name:ip or name=ip (ip may be [v6] or host-gateway) and normalizes
// it to name:ip.
func checkExtraHosts(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, h := range r.ExtraHosts {
		f := idx("extra_hosts", i)
		sep := ":"
		if strings.Contains(h, "=") {
			sep = "="
		}
		name, ip, ok := strings.Cut(h, sep)
		ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
		if !ok || !hostsNameRe.MatchString(name) {
			return bad(f, "%q: expected NAME:IP with a host name, or NAME:host-gateway", h)
		}
		if ip != "host-gateway" {
			if err := token(f, ip); err != nil {
				return err
			}
			if _, err := netip.ParseAddr(ip); err != nil {
				return bad(f, "%q: %q is not an IP address; expected NAME:IP or NAME:host-gateway", h, ip)
			}
		}
		r.ExtraHosts[i] = name + ":" + ip
	}
	return nil
}

// checkPorts folds the original ports map into publish and checks each binding: the
// network publishes IPv4 addresses, TCP or UDP.
func checkPorts(r *api.CreateRequest, _ *ctrconfig.Options, warn *[]string) error {
	for _, host := range slices.Sorted(maps.Keys(r.Ports)) {
		ctr := r.Ports[host]
		hp, err := strconv.Atoi(host)
		if err != nil || hp < 0 || hp > 65535 || ctr < 1 || ctr > 65535 {
			return bad(key("ports", host), "%q -> %d: expected a host port (0-65535) -> container port (1-65535)", host, ctr)
		}
		r.Publish = append(r.Publish, api.PortBinding{HostPort: hp, ContainerPort: ctr, Protocol: "tcp"})
	}
	r.Ports = nil
	for i := range r.Publish {
		p := &r.Publish[i]
		f := idx("publish", i)
		p.Protocol = strings.ToLower(p.Protocol)
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return bad(f+".protocol", "%q: expected tcp or udp", p.Protocol)
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return bad(f+".container_port", "%d: expected 1-65535", p.ContainerPort)
		}
		if p.HostPort < 0 || p.HostPort > 65535 {
			return bad(f+".host_port", "%d: expected 0-65535 (0: a free port)", p.HostPort)
		}
		if p.HostIP != "" {
			if a, err := netip.ParseAddr(p.HostIP); err != nil || !a.Is4() {
				return bad(f+".host_ip", "%q: expected an IPv4 address (IPv6 is not published)", p.HostIP)
			}
		}
	}
	if r.Network == "host" && len(r.Publish) > 0 {
		*warn = append(*warn, "published ports are discarded when using host network mode")
		r.Publish = nil
	}
	return nil
}

// ParsePublish reads one -p value: ctr, host:ctr, ip:host:ctr or ip::ctr, each with an
// optional /tcp or /udp; [v6]:host:ctr; ports may be ranges of equal length
// (8000-8001:80-81). Normalize checks the bindings it returns.
func ParsePublish(spec string) ([]api.PortBinding, error) {
	fail := func(why string) ([]api.PortBinding, error) {
		return nil, bad("publish", "%q: %s; expected [IP:][HOST:]CTR[/tcp|/udp]", spec, why)
	}
	s, proto, hasProto := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	if !hasProto {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return fail("protocol " + strconv.Quote(proto) + ": use tcp or udp")
	}
	var ip string
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 || len(s) < end+2 || s[end+1] != ':' {
			return fail("a bracketed address must be followed by :HOST:CTR")
		}
		ip, s = s[1:end], "x:"+s[end+2:]
	}
	parts := strings.Split(s, ":")
	var host, ctr string
	switch len(parts) {
	case 1:
		ctr = parts[0]
	case 2:
		host, ctr = parts[0], parts[1]
	case 3:
		host, ctr = parts[1], parts[2]
		if ip == "" {
			ip = parts[0]
		}
	default:
		return fail("too many colons")
	}
	if strings.HasPrefix(spec, "[") && len(parts) != 3 {
		return fail("a bracketed address must be followed by :HOST:CTR")
	}
	c0, c1, err := portRange(ctr, false)
	if err != nil {
		return fail("container port: " + err.Error())
	}
	h0, h1 := 0, 0
	if host != "" {
		if h0, h1, err = portRange(host, true); err != nil {
			return fail("host port: " + err.Error())
		}
		if h0 != 0 && h1-h0 != c1-c0 {
			return fail("the host and container ranges differ in length")
		}
	}
	var out []api.PortBinding
	for i := 0; i <= c1-c0; i++ {
		b := api.PortBinding{HostIP: ip, ContainerPort: c0 + i, Protocol: proto}
		if h0 != 0 {
			b.HostPort = h0 + i
		}
		out = append(out, b)
	}
	return out, nil
}

// portRange reads "80" or "8000-8010"; 0 (a free port) only as a single host port.
func portRange(s string, zeroOK bool) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil || lo == 0 && (!zeroOK || isRange) {
		return 0, 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	if !isRange {
		return int(lo), int(lo), nil
	}
	hi, err := strconv.ParseUint(b, 10, 16)
	if err != nil || hi < lo {
		return 0, 0, fmt.Errorf("%q is not a port range (1-65535, low-high)", s)
	}
	return int(lo), int(hi), nil
}
