package network

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ctnetlink, from linux/netfilter/nfnetlink_conntrack.h (x/sys lacks most of these).
const (
	ctMsgGet      = 1 // IPCTNL_MSG_CT_GET
	ctMsgDelete   = 2 // IPCTNL_MSG_CT_DELETE
	ctaTupleOrig  = 1 // CTA_TUPLE_ORIG
	ctaZone       = 18
	ctaTupleIP    = 1  // CTA_TUPLE_IP
	ctaTupleProto = 2  // CTA_TUPLE_PROTO
	ctaIPv4Dst    = 2  // CTA_IP_V4_DST
	ctaProtoNum   = 1  // CTA_PROTO_NUM
	ctaProtoDst   = 3  // CTA_PROTO_DST_PORT
	ctaFilter     = 25 // CTA_FILTER (Linux 5.9): a dump of matching entries only
	ctaFilterOrig = 1  // CTA_FILTER_ORIG_FLAGS
	// CTA_FILTER_FLAG_CTA_PROTO_NUM | CTA_FILTER_FLAG_CTA_PROTO_DST_PORT
	ctFilterProtoDst = 1<<3 | 1<<5
)

// ctEntry is the part of a conntrack entry flushUDP looks at, and what deleting it takes.
type ctEntry struct {
	proto uint8
	dst   netip.AddrPort
	orig  []byte // CTA_TUPLE_ORIG as received, sent back to delete the entry
	zone  []byte
}

// flushUDP deletes the UDP conntrack entries addressed to the host side of ports. UDP
// "connections" live on while packets flow: without this a client that talked to the port
// before a mapping changed keeps reaching the old destination (or the host) instead.
// It runs in the background once the rules are in place: the kernel walks its whole
// conntrack hash for a dump, even a filtered one (9 ms with 262144 buckets here), which
// would otherwise be most of the network's share of a container start and of its removal.
// A packet that meets a stale entry before the flush gets what it would have got without
// one. Close waits for flushes in flight. Best effort: a failure is logged.
func (m *Manager) flushUDP(ports []Port) {
	var udp []Port
	for _, p := range ports {
		if p.Proto == "udp" && p.HostPort != 0 {
			udp = append(udp, p)
		}
	}
	if len(udp) == 0 {
		return
	}
	m.flushes.Add(1)
	go func() {
		defer m.flushes.Done()
		if n, err := m.ctFlush(udp); err != nil {
			m.log.Warn("flush udp conntrack", "err", err)
		} else if n > 0 {
			m.log.Debug("flushed udp conntrack entries", "count", n)
		}
	}()
}

func (m *Manager) ctFlush(ports []Port) (int, error) {
	nsfd := 0
	if m.ns != nil {
		nsfd = int(m.ns.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: nsfd})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	// The kernel filters the dump by protocol and port: serialising and parsing the whole
	// table took 12-15 ms per Attach or Detach here (a few hundred entries), most of a
	// container start's network setup. Kernels without CTA_FILTER get the full dump.
	var msgs []netlink.Message
	seen := map[uint16]bool{}
	for _, p := range ports {
		if seen[p.HostPort] {
			continue
		}
		seen[p.HostPort] = true
		got, err := c.Execute(netlink.Message{
			Header: netlink.Header{Type: ctType(ctMsgGet), Flags: netlink.Request | netlink.Dump},
			Data:   append(nfgenmsg(unix.AF_INET), udpPortFilter(p.HostPort)...),
		})
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			msgs = nil
			if msgs, err = c.Execute(netlink.Message{
				Header: netlink.Header{Type: ctType(ctMsgGet), Flags: netlink.Request | netlink.Dump},
				Data:   nfgenmsg(unix.AF_INET),
			}); err != nil {
				return 0, err
			}
			break
		}
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, got...)
	}
	n := 0
	var errs []error
	for _, msg := range msgs {
		e, ok := parseCT(msg.Data)
		if !ok || !matchUDP(e, ports) {
			continue
		}
		ae := netlink.NewAttributeEncoder()
		ae.Bytes(ctaTupleOrig|unix.NLA_F_NESTED, e.orig)
		if e.zone != nil {
			ae.Bytes(ctaZone, e.zone)
		}
		b, err := ae.Encode()
		if err != nil {
			return n, err
		}
		_, err = c.Execute(netlink.Message{
			Header: netlink.Header{Type: ctType(ctMsgDelete), Flags: netlink.Request | netlink.Acknowledge},
			Data:   append(nfgenmsg(unix.AF_INET), b...),
		})
		if err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// udpPortFilter is a dump request's attributes asking only for UDP entries whose original
// destination port is port.
func udpPortFilter(port uint16) []byte {
	proto := netlink.NewAttributeEncoder()
	proto.Uint8(ctaProtoNum, unix.IPPROTO_UDP)
	proto.Bytes(ctaProtoDst, binary.BigEndian.AppendUint16(nil, port))
	pb, _ := proto.Encode()
	tuple := netlink.NewAttributeEncoder()
	tuple.Bytes(ctaTupleProto|unix.NLA_F_NESTED, pb)
	tb, _ := tuple.Encode()
	filter := netlink.NewAttributeEncoder()
	filter.Uint32(ctaFilterOrig, ctFilterProtoDst)
	fb, _ := filter.Encode()
	top := netlink.NewAttributeEncoder()
	top.Bytes(ctaTupleOrig|unix.NLA_F_NESTED, tb)
	top.Bytes(ctaFilter|unix.NLA_F_NESTED, fb)
	b, _ := top.Encode()
	return b
}

func ctType(msg uint16) netlink.HeaderType {
	return netlink.HeaderType(unix.NFNL_SUBSYS_CTNETLINK<<8 | msg)
}

// nfgenmsg is the nfnetlink header: family, version 0, resource id 0.
func nfgenmsg(family uint8) []byte { return []byte{family, unix.NFNETLINK_V0, 0, 0} }

func matchUDP(e ctEntry, ports []Port) bool {
	if e.proto != unix.IPPROTO_UDP {
		return false
	}
	for _, p := range ports {
		if e.dst.Port() == p.HostPort && (!p.HostIP.IsValid() || p.HostIP.IsUnspecified() || p.HostIP == e.dst.Addr()) {
			return true
		}
	}
	return false
}

// parseCT reads the original direction's protocol and destination of one dumped entry.
func parseCT(data []byte) (ctEntry, bool) {
	var e ctEntry
	if len(data) < 4 {
		return e, false
	}
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return e, false
	}
	var ip netip.Addr
	var port uint16
	for ad.Next() {
		switch ad.Type() {
		case ctaZone:
			e.zone = ad.Bytes()
		case ctaTupleOrig:
			e.orig = ad.Bytes()
			ad.Nested(func(t *netlink.AttributeDecoder) error {
				for t.Next() {
					switch t.Type() {
					case ctaTupleIP:
						t.Nested(func(a *netlink.AttributeDecoder) error {
							for a.Next() {
								if a.Type() == ctaIPv4Dst {
									ip, _ = netip.AddrFromSlice(a.Bytes())
								}
							}
							return nil
						})
					case ctaTupleProto:
						t.Nested(func(a *netlink.AttributeDecoder) error {
							for a.Next() {
								switch a.Type() {
								case ctaProtoNum:
									e.proto = a.Uint8()
								case ctaProtoDst:
									if b := a.Bytes(); len(b) == 2 {
										port = binary.BigEndian.Uint16(b)
									}
								}
							}
							return nil
						})
					}
				}
				return nil
			})
		}
	}
	if ad.Err() != nil || e.orig == nil {
		return e, false
	}
	e.dst = netip.AddrPortFrom(ip, port)
	return e, true
}
