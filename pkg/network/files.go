package network

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
)

// hostsHeader is Docker's /etc/hosts preamble, which programs expect to find.
const hostsHeader = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// HostsFile returns a container's /etc/hosts: Docker's localhost and ip6 lines, then
// "<ip>\t<hostname> <name> <id12>" (names given once, empty ones left out; no line without
// ip, as with --network none), then extra: `--add-host` values as "name:ip" or "name=ip", or
// whole lines such as a compose peer's "<ip> <service> <container name>".
func HostsFile(ip, hostname, name, id12 string, extra []string) []byte {
	var b bytes.Buffer
	b.WriteString(hostsHeader)
	if ip != "" {
		var names []string
		for _, n := range []string{hostname, name, id12} {
			if n != "" && !contains(names, n) {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			b.WriteString(ip + "\t" + strings.Join(names, " ") + "\n")
		}
	}
	for _, e := range extra {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.ContainsAny(e, " \t") {
			// --add-host name:ip (Docker splits at the first colon: names have none) or name=ip.
			if n, addr, ok := strings.Cut(e, "="); ok {
				e = addr + "\t" + n
			} else if n, addr, ok := strings.Cut(e, ":"); ok {
				e = strings.Trim(addr, "[]") + "\t" + n
			}
		}
		b.WriteString(e + "\n")
	}
	return b.Bytes()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Where the host's resolver configuration lives; systemd-resolved's stub file names only
// 127.0.0.53, and its real upstream servers are in resolvedConf.
const (
	hostResolvConf = "/etc/resolv.conf"
	resolvedConf   = "/run/systemd/resolve/resolv.conf"
)

// fallbackDNS is used when the host names no server a container can reach (Docker's choice).
var fallbackDNS = []string{"8.8.8.8", "8.8.4.4"}

// ResolvConf returns a container's /etc/resolv.conf: the host's (systemd-resolved's real file
// when the host's names only 127.0.0.53) without loopback nameservers, which mean nothing in
// the container's namespace, else 8.8.8.8 and 8.8.4.4. dns, search and options (--dns,
// --dns-search, --dns-option) replace the host's lines of their kind.
func ResolvConf(dns, search, options []string) []byte {
	return resolvConf(os.ReadFile, dns, search, options)
}

func resolvConf(read func(string) ([]byte, error), dns, search, options []string) []byte {
	host, _ := read(hostResolvConf) // no file: Docker's defaults
	if ns := nameservers(host); len(ns) > 0 && allStub(ns) {
		if real, err := read(resolvedConf); err == nil {
			host = real
		}
	}
	var servers []string
	var other []string
	var hostSearch, hostOptions []string
	for _, line := range strings.Split(string(host), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";"):
		case f[0] == "nameserver" && len(f) > 1:
			if a, err := netip.ParseAddr(f[1]); err == nil && !a.IsLoopback() {
				servers = append(servers, f[1])
			}
		case f[0] == "search" || f[0] == "domain":
			hostSearch = f[1:] // the last one wins, as in resolv.conf(5)
		case f[0] == "options":
			hostOptions = append(hostOptions, f[1:]...)
		default:
			other = append(other, strings.Join(f, " "))
		}
	}
	if len(dns) > 0 {
		servers = dns
	} else if len(servers) == 0 {
		servers = fallbackDNS
	}
	if len(search) > 0 {
		hostSearch = search
	}
	if len(options) > 0 {
		hostOptions = options
	}
	var b bytes.Buffer
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(hostSearch) > 0 && !(len(hostSearch) == 1 && hostSearch[0] == ".") {
		b.WriteString("search " + strings.Join(hostSearch, " ") + "\n")
	}
	if len(hostOptions) > 0 {
		b.WriteString("options " + strings.Join(hostOptions, " ") + "\n")
	}
	for _, o := range other {
		b.WriteString(o + "\n")
	}
	return b.Bytes()
}

func nameservers(conf []byte) []string {
	var ns []string
	for _, line := range strings.Split(string(conf), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "nameserver" {
			ns = append(ns, f[1])
		}
	}
	return ns
}

func allStub(ns []string) bool {
	for _, s := range ns {
		if s != "127.0.0.53" {
			return false
		}
	}
	return true
}
