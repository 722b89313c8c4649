package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// The table is described here as data (chains, rules as expression lists); only
// manager_linux.go sends it to the kernel. Static chains are flushed and refilled in one
// transaction by EnsureBridge; the ports chain holds one DNAT rule per published port, each
// tagged with a comment naming its container so Detach and Reconcile find it again.
const (
	chainGuard       = "guard"       // filter prerouting, raw priority: 127.0.0.0/8 from non-lo
	chainPrerouting  = "prerouting"  // nat prerouting: to a local address -> ports
	chainOutput      = "output"      // nat output: the host's own connections -> ports
	chainPostrouting = "postrouting" // nat postrouting: masquerade
	chainInput       = "input"       // filter input: containers to the daemon's API port
	chainForward     = "forward"     // filter forward: isolation of user-defined networks
	chainPorts       = "ports"       // regular: DNAT per published port
)

// ipsDstNAT is IPS_DST_NAT from linux/netfilter/nf_conntrack_common.h: the connection was
// DNATed ("ct status dnat").
const ipsDstNAT = 1 << 5

// plan is minibox's nftables table as data.
type plan struct {
	table  *nftables.Table
	chains []*nftables.Chain       // in creation order; ports first, it is a jump target
	rules  map[string][][]expr.Any // static rules per chain
	// tags holds each static rule's comment, parallel to rules: sharedTag for rules every
	// daemon writes alike, subnetTag(subnet) for those naming one daemon's subnet or API port.
	// Daemons on the same bridge with other subnets (tests run several at once) keep theirs.
	tags map[string][]string
}

// sharedTag marks the static rules that are the same for every subnet.
const sharedTag = "minibox"

// subnetTag marks the static rules of one subnet.
func subnetTag(subnet netip.Prefix) string { return "minibox subnet " + subnet.Masked().String() }

func (m *Manager) tableRef() *nftables.Table {
	return &nftables.Table{Name: m.cfg.Table, Family: nftables.TableFamilyIPv4}
}

func (m *Manager) chainRef(name string) *nftables.Chain {
	return &nftables.Chain{Name: name, Table: m.tableRef()}
}

// tablePlan describes the whole table for cfg.
func tablePlan(cfg Config) plan {
	t := &nftables.Table{Name: cfg.Table, Family: nftables.TableFamilyIPv4}
	accept := nftables.ChainPolicyAccept
	base := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return &nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept}
	}
	p := plan{
		table: t,
		chains: []*nftables.Chain{
			{Name: chainPorts, Table: t},
			base(chainGuard, nftables.ChainTypeFilter, nftables.ChainHookPrerouting, nftables.ChainPriorityRaw),
			base(chainPrerouting, nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest),
			base(chainOutput, nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest),
			base(chainPostrouting, nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource),
			base(chainInput, nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter),
		},
		rules: map[string][][]expr.Any{},
		tags:  map[string][]string{},
	}
	own := subnetTag(cfg.Subnet)
	br := cfg.Bridge
	// nft add rule ip minibox guard iifname != "lo" ip daddr 127.0.0.0/8 drop
	// route_localnet on the bridge would otherwise let neighbours reach the host's loopback
	// services (CVE-2020-8558). Raw priority runs before conntrack undoes the masquerade of
	// replies to 127.0.0.1, so those (addressed to the bridge) pass.
	p.rules[chainGuard] = [][]expr.Any{
		cat(ifname(unix.NFT_META_IIFNAME, expr.CmpOpNeq, "lo"), daddrIn(netip.MustParsePrefix("127.0.0.0/8")), verdict(expr.VerdictDrop)),
	}
	// nft add rule ip minibox prerouting fib daddr type local jump ports
	// nft add rule ip minibox output fib daddr type local jump ports
	toLocal := cat(fibDaddrLocal(), []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: chainPorts}})
	p.rules[chainPrerouting] = [][]expr.Any{toLocal}
	p.rules[chainOutput] = [][]expr.Any{toLocal}
	p.tags[chainGuard] = []string{sharedTag}
	p.tags[chainPrerouting] = []string{sharedTag}
	p.tags[chainOutput] = []string{sharedTag}
	// The middle rule names the bridge: on a user-defined network's it is that network's own,
	// and on minibox0 each daemon keeps a copy of its own (so one's leaving keeps the others').
	p.tags[chainPostrouting] = []string{own, own, own}
	p.rules[chainPostrouting] = [][]expr.Any{
		// nft add rule ip minibox postrouting ip saddr 172.19.0.0/24 oifname != "minibox0" masquerade
		// (none for an internal network: nothing of it leaves the bridge).
		cat(saddrIn(cfg.Subnet), ifname(unix.NFT_META_OIFNAME, expr.CmpOpNeq, br), masq()),
		// nft add rule ip minibox postrouting oifname "minibox0" ct status dnat fib saddr type local masquerade
		// The host's own connections to a published port (127.0.0.1 included): the container
		// cannot answer 127.0.0.1, so it sees the bridge's address.
		cat(ifname(unix.NFT_META_OIFNAME, expr.CmpOpEq, br), ctDNAT(), fibSaddrLocal(), masq()),
		// nft add rule ip minibox postrouting oifname "minibox0" ip saddr 172.19.0.0/24 ct status dnat masquerade
		// Hairpin: a container reaching a published port (its own or a peer's) must get the
		// reply through the host, which undoes the DNAT, not straight over the bridge.
		cat(ifname(unix.NFT_META_OIFNAME, expr.CmpOpEq, br), saddrIn(cfg.Subnet), ctDNAT(), masq()),
	}
	if cfg.Internal {
		p.rules[chainPostrouting] = p.rules[chainPostrouting][1:]
		p.tags[chainPostrouting] = p.tags[chainPostrouting][1:]
	}
	if cfg.Isolate || cfg.Internal {
		var fw [][]expr.Any
		iif := func(op expr.CmpOp, n string) []expr.Any { return ifname(unix.NFT_META_IIFNAME, op, n) }
		oif := func(op expr.CmpOp, n string) []expr.Any { return ifname(unix.NFT_META_OIFNAME, op, n) }
		drop := verdict(expr.VerdictDrop)
		if cfg.Isolate {
			// nft add rule ip minibox forward iifname "mb-1" oifname != "mb-1" oifname "mb-*" drop
			// nft add rule ip minibox forward oifname "mb-1" iifname != "mb-1" iifname "mb-*" drop
			// Bridged traffic inside one network has the bridge as both ends and passes.
			fw = append(fw,
				cat(iif(expr.CmpOpEq, br), oif(expr.CmpOpNeq, br), ifprefix(unix.NFT_META_OIFNAME, UserBridgePrefix), drop),
				cat(oif(expr.CmpOpEq, br), iif(expr.CmpOpNeq, br), ifprefix(unix.NFT_META_IIFNAME, UserBridgePrefix), drop))
			if cfg.PeerBridge != "" && cfg.PeerBridge != br {
				// nft add rule ip minibox forward iifname "mb-1" oifname "minibox0" drop (and back)
				fw = append(fw,
					cat(iif(expr.CmpOpEq, br), oif(expr.CmpOpEq, cfg.PeerBridge), drop),
					cat(iif(expr.CmpOpEq, cfg.PeerBridge), oif(expr.CmpOpEq, br), drop))
			}
		}
		if cfg.Internal {
			// nft add rule ip minibox forward iifname "mb-1" oifname != "mb-1" drop (and back)
			fw = append(fw,
				cat(iif(expr.CmpOpEq, br), oif(expr.CmpOpNeq, br), drop),
				cat(oif(expr.CmpOpEq, br), iif(expr.CmpOpNeq, br), drop))
		}
		// Only user-defined networks' Managers make the chain: the default bridge's table
		// stays as it was.
		p.chains = append(p.chains, base(chainForward, nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter))
		p.rules[chainForward] = fw
		for range fw {
			p.tags[chainForward] = append(p.tags[chainForward], own)
		}
	}
	if cfg.APIPort > 0 {
		// nft add rule ip minibox input iifname "minibox0" tcp dport 8080 drop
		p.rules[chainInput] = [][]expr.Any{
			cat(ifname(unix.NFT_META_IIFNAME, expr.CmpOpEq, br), l4proto(unix.IPPROTO_TCP), dport(uint16(cfg.APIPort)), verdict(expr.VerdictDrop)),
		}
		p.tags[chainInput] = []string{own}
	}
	return p
}

// portRule is the DNAT of one published port:
//
//	nft add rule ip minibox ports [ip daddr H] tcp dport HP dnat to C:CP comment "<id> H:HP/tcp C:CP"
func portRule(id string, addr netip.Addr, p Port) ([]expr.Any, []byte) {
	var e []expr.Any
	if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
		e = append(e, daddrIn(netip.PrefixFrom(p.HostIP, 32))...)
	}
	proto := byte(unix.IPPROTO_TCP)
	if p.Proto == "udp" {
		proto = unix.IPPROTO_UDP
	}
	a := addr.As4()
	e = append(e, l4proto(proto)...)
	e = append(e, dport(p.HostPort)...)
	e = append(e,
		&expr.Immediate{Register: 1, Data: a[:]},
		&expr.Immediate{Register: 2, Data: be16(p.ContainerPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
	return e, userdata.AppendString(nil, userdata.TypeComment, ruleComment(id, addr, p))
}

// ruleComment names a port rule's container and mapping: "<id> 0.0.0.0:8080/tcp 172.19.0.2:80".
func ruleComment(id string, addr netip.Addr, p Port) string {
	return id + " " + p.String() + " " + netip.AddrPortFrom(addr, p.ContainerPort).String()
}

// parseComment reverses ruleComment; ok is false for rules minibox did not write.
func parseComment(c string) (id string, addr netip.Addr, p Port, ok bool) {
	f := strings.Fields(c)
	if len(f) != 3 {
		return "", addr, p, false
	}
	hostSide, proto, found := strings.Cut(f[1], "/")
	h, err1 := netip.ParseAddrPort(hostSide)
	c2, err2 := netip.ParseAddrPort(f[2])
	if !found || err1 != nil || err2 != nil || (proto != "tcp" && proto != "udp") {
		return "", addr, p, false
	}
	p = Port{HostPort: h.Port(), ContainerPort: c2.Port(), Proto: proto}
	if !h.Addr().IsUnspecified() {
		p.HostIP = h.Addr()
	}
	return f[0], c2.Addr(), p, true
}

func cat(parts ...[]expr.Any) []expr.Any {
	var e []expr.Any
	for _, p := range parts {
		e = append(e, p...)
	}
	return e
}

// ifname compares iifname/oifname; the kernel compares the full IFNAMSIZ buffer.
func ifname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: b},
	}
}

// ifprefix is "iifname/oifname prefix*": the kernel compares only len(prefix) bytes.
func ifprefix(key expr.MetaKey, prefix string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(prefix)},
	}
}

func addrIn(offset uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	a := p.Addr().As4()
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4}}
	if p.Bits() < 32 {
		mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)})
	}
	return append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]})
}

// saddrIn and daddrIn: "ip saddr/daddr <prefix>" (offsets 12 and 16 of the IPv4 header).
func saddrIn(p netip.Prefix) []expr.Any { return addrIn(12, p) }
func daddrIn(p netip.Prefix) []expr.Any { return addrIn(16, p) }

func l4proto(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// dport is "th dport": both TCP and UDP keep the destination port at offset 2.
func dport(port uint16) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(port)},
	}
}

func fibLocal(saddr bool) []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagSADDR: saddr, FlagDADDR: !saddr, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint32(nil, unix.RTN_LOCAL)},
	}
}

func fibDaddrLocal() []expr.Any { return fibLocal(false) }
func fibSaddrLocal() []expr.Any { return fibLocal(true) }

func ctDNAT() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binary.NativeEndian.AppendUint32(nil, ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func masq() []expr.Any                      { return []expr.Any{&expr.Masq{}} }
func verdict(k expr.VerdictKind) []expr.Any { return []expr.Any{&expr.Verdict{Kind: k}} }

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// String helps test failures read like nft.
func describe(e []expr.Any) string {
	var b strings.Builder
	for _, x := range e {
		fmt.Fprintf(&b, "%T%+v ", x, x)
	}
	return strconv.Quote(b.String())
}
