package network

import (
	"net/netip"

	"github.com/minibox/minibox/pkg/network/connhook"
)

// redirectKeyOf is where a published port goes in the map: its host address, or 0.0.0.0 for
// a port published on every address (the program looks that up for 127.0.0.0/8 only: other
// local addresses are left to nft's "fib daddr type local"). ok is false for what the hook
// does not serve.
func redirectKeyOf(p Port) (host netip.Addr, ok bool) {
	if p.Proto == "udp" || p.HostPort == 0 {
		return host, false
	}
	if !p.HostIP.IsValid() || p.HostIP.IsUnspecified() {
		return netip.IPv4Unspecified(), true
	}
	return p.HostIP, p.HostIP.Is4()
}

// redirectPorts adds the TCP ports published to addr to the connect hook, making the hook
// with the first of them. A failure leaves those connections to the nft rules; it is logged.
func (m *Manager) redirectPorts(addr netip.Addr, ports []Port) {
	if m.cfg.Internal || !addr.Is4() {
		return
	}
	for _, p := range ports {
		host, ok := redirectKeyOf(p)
		if !ok {
			continue
		}
		if !m.redirectTried {
			m.redirectTried = true
			var cookie uint64
			err := m.inNS(func() (err error) { cookie, err = connhook.NetnsCookie(); return err })
			if err == nil {
				m.redirect, err = connhook.New(cookie)
			}
			if err != nil {
				m.log.Info("host connections to published ports go through nft's DNAT only", "err", err)
			}
		}
		if m.redirect == nil {
			return
		}
		if err := m.redirect.Set(host, p.HostPort, netip.AddrPortFrom(addr, p.ContainerPort)); err != nil {
			m.log.Warn("connect hook: add published port", "port", p.String(), "err", err)
		}
	}
}

// unredirectPorts removes ports from the connect hook.
func (m *Manager) unredirectPorts(ports []Port) {
	if m.redirect == nil {
		return
	}
	for _, p := range ports {
		if host, ok := redirectKeyOf(p); ok {
			if err := m.redirect.Unset(host, p.HostPort); err != nil {
				m.log.Warn("connect hook: remove published port", "port", p.String(), "err", err)
			}
		}
	}
}
