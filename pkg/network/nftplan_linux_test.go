package network

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

func name16(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

func TestTablePlan(t *testing.T) {
	cfg, _ := Config{Bridge: "mb0", Table: "tbl", APIPort: 8080}.withDefaults()
	p := tablePlan(cfg)
	var names []string
	for _, c := range p.chains {
		names = append(names, c.Name)
	}
	if want := []string{"ports", "guard", "prerouting", "output", "postrouting", "input"}; !reflect.DeepEqual(names, want) {
		t.Errorf("chains = %v, want %v", names, want)
	}
	local := binary.NativeEndian.AppendUint32(nil, unix.RTN_LOCAL)
	dnat := binary.NativeEndian.AppendUint32(nil, 0x20)
	want := map[string][][]expr.Any{
		// nft add rule ip tbl guard iifname != "lo" ip daddr 127.0.0.0/8 drop
		"guard": {{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: name16("lo")},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127, 0, 0, 0}},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}},
		// nft add rule ip tbl prerouting fib daddr type local jump ports
		"prerouting": {{
			&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: local},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: "ports"},
		}},
		// nft add rule ip tbl output fib daddr type local jump ports
		"output": {{
			&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: local},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: "ports"},
		}},
		"postrouting": {
			// nft add rule ip tbl postrouting ip saddr 172.19.0.0/24 oifname != "mb0" masquerade
			{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 255, 0}, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{172, 19, 0, 0}},
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: name16("mb0")},
				&expr.Masq{},
			},
			// nft add rule ip tbl postrouting oifname "mb0" ct status dnat fib saddr type local masquerade
			{
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name16("mb0")},
				&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: dnat, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
				&expr.Fib{Register: 1, FlagSADDR: true, ResultADDRTYPE: true},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: local},
				&expr.Masq{},
			},
			// nft add rule ip tbl postrouting oifname "mb0" ip saddr 172.19.0.0/24 ct status dnat masquerade
			{
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name16("mb0")},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 255, 0}, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{172, 19, 0, 0}},
				&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: dnat, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
				&expr.Masq{},
			},
		},
		// nft add rule ip tbl input iifname "mb0" meta l4proto tcp th dport 8080 drop
		"input": {{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name16("mb0")},
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x1f, 0x90}},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}},
	}
	for chain, rules := range want {
		if !reflect.DeepEqual(p.rules[chain], rules) {
			t.Errorf("chain %s:\n got %v\nwant %v", chain, describeAll(p.rules[chain]), describeAll(rules))
		}
	}
	cfg.APIPort = 0
	if r := tablePlan(cfg).rules["input"]; len(r) != 0 {
		t.Errorf("input rules without an API port: %v", describeAll(r))
	}
}

func describeAll(rules [][]expr.Any) []string {
	var s []string
	for _, r := range rules {
		s = append(s, describe(r))
	}
	return s
}

func TestPortRule(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	addr := netip.MustParseAddr("172.19.0.2")
	// nft add rule ip minibox ports ip daddr 127.0.0.1 meta l4proto udp th dport 5353 dnat to 172.19.0.2:53 comment "..."
	p := Port{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, ContainerPort: 53, Proto: "udp"}
	got, ud := portRule(id, addr, p)
	want := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127, 0, 0, 1}},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x14, 0xe9}},
		&expr.Immediate{Register: 1, Data: []byte{172, 19, 0, 2}},
		&expr.Immediate{Register: 2, Data: []byte{0, 53}},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("portRule:\n got %s\nwant %s", describe(got), describe(want))
	}
	c, _ := userdata.GetString(ud, userdata.TypeComment)
	if c != id+" 127.0.0.1:5353/udp 172.19.0.2:53" {
		t.Errorf("comment = %q", c)
	}
	gid, gaddr, gp, ok := parseComment(c)
	if !ok || gid != id || gaddr != addr || gp != p {
		t.Errorf("parseComment = %q %s %+v %v", gid, gaddr, gp, ok)
	}
	// All addresses: no daddr match, and the comment says 0.0.0.0.
	p = Port{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}
	got, ud = portRule(id, addr, p)
	if len(got) != len(want)-2 {
		t.Errorf("portRule for all addresses: %s", describe(got))
	}
	c, _ = userdata.GetString(ud, userdata.TypeComment)
	if _, _, gp, ok := parseComment(c); !ok || gp != p {
		t.Errorf("parseComment(%q) = %+v", c, gp)
	}
	for _, bad := range []string{"", "x", "id 1.2.3.4:80 1.2.3.4:80", "id 1.2.3.4:80/sctp 1.2.3.4:80", "a b c d"} {
		if _, _, _, ok := parseComment(bad); ok {
			t.Errorf("parseComment(%q) accepted", bad)
		}
	}
}

// The batch EnsureBridge sends: table, chains, then the static rules, in one transaction
// (with an empty table there is nothing of its own to delete first; the ports chain is never
// listed).
func TestWriteTableBatch(t *testing.T) {
	var types []string
	dial := func(req []netlink.Message) ([]netlink.Message, error) {
		for _, m := range req {
			if int(m.Header.Type)&0xff == unix.NFT_MSG_GETRULE {
				return nil, nil // a fresh host: no rules
			}
			types = append(types, nftMsgName(m.Header.Type))
		}
		return req, nil // echo: acks
	}
	nft, err := nftables.New(nftables.WithTestDial(dial))
	if err != nil {
		t.Fatal(err)
	}
	// The rule dump: one request for the whole table, not one per chain.
	var dumps int
	nfq := nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) {
		for _, m := range req {
			if int(m.Header.Type)&0xff == unix.NFT_MSG_GETRULE && m.Header.Flags&netlink.Dump != 0 {
				dumps++
			}
		}
		return nil, nil // a fresh host: no rules
	})
	cfg, _ := Config{APIPort: 8080}.withDefaults()
	m := &Manager{cfg: cfg, nft: nft, nfq: nfq}
	if err := m.writeTable(); err != nil {
		t.Fatal(err)
	}
	want := []string{"batch-begin", "newtable",
		"newchain", "newchain", "newchain", "newchain", "newchain", "newchain",
		"newrule", "newrule", "newrule", "newrule", "newrule", "newrule", "newrule", "batch-end"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("batch:\n got %v\nwant %v", types, want)
	}
	if dumps != 1 {
		t.Errorf("%d rule dumps, want 1", dumps)
	}
}

func nftMsgName(t netlink.HeaderType) string {
	switch t {
	case 0x10:
		return "batch-begin"
	case 0x11:
		return "batch-end"
	}
	switch int(t) & 0xff {
	case unix.NFT_MSG_NEWTABLE:
		return "newtable"
	case unix.NFT_MSG_NEWCHAIN:
		return "newchain"
	case unix.NFT_MSG_NEWRULE:
		return "newrule"
	case unix.NFT_MSG_DELRULE:
		return "delrule"
	}
	return "other"
}

func TestParseCT(t *testing.T) {
	// One dumped entry: orig 10.0.0.9:4000 -> 127.0.0.1:5353/udp, zone 0.
	ip := netlink.NewAttributeEncoder()
	ip.Bytes(1, []byte{10, 0, 0, 9})
	ip.Bytes(2, []byte{127, 0, 0, 1})
	ipb, _ := ip.Encode()
	pr := netlink.NewAttributeEncoder()
	pr.Uint8(1, unix.IPPROTO_UDP)
	pr.Bytes(2, []byte{0x0f, 0xa0})
	pr.Bytes(3, []byte{0x14, 0xe9})
	prb, _ := pr.Encode()
	tu := netlink.NewAttributeEncoder()
	tu.Bytes(1|unix.NLA_F_NESTED, ipb)
	tu.Bytes(2|unix.NLA_F_NESTED, prb)
	tub, _ := tu.Encode()
	top := netlink.NewAttributeEncoder()
	top.Bytes(1|unix.NLA_F_NESTED, tub)
	topb, _ := top.Encode()
	e, ok := parseCT(append(nfgenmsg(unix.AF_INET), topb...))
	if !ok || e.proto != unix.IPPROTO_UDP || e.dst != netip.MustParseAddrPort("127.0.0.1:5353") {
		t.Fatalf("parseCT = %+v, %v", e, ok)
	}
	if !matchUDP(e, []Port{{HostPort: 5353, Proto: "udp"}}) ||
		!matchUDP(e, []Port{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, Proto: "udp"}}) ||
		matchUDP(e, []Port{{HostIP: netip.MustParseAddr("10.0.0.1"), HostPort: 5353, Proto: "udp"}}) ||
		matchUDP(e, []Port{{HostPort: 53, Proto: "udp"}}) {
		t.Error("matchUDP")
	}
}

// A user-defined network's plan: isolation from other minibox bridges and the default one
// in a forward chain tagged with its subnet; an internal one has no masquerade and forwards
// nothing in or out.
func TestTablePlanUserNetwork(t *testing.T) {
	cfg, _ := Config{Bridge: "mb-abc123", Subnet: netip.MustParsePrefix("10.5.0.0/24"), Isolate: true, PeerBridge: "minibox0"}.withDefaults()
	p := tablePlan(cfg)
	if last := p.chains[len(p.chains)-1]; last.Name != "forward" || *last.Hooknum != *nftables.ChainHookForward {
		t.Fatalf("last chain %s: want the forward hook", last.Name)
	}
	fw := p.rules["forward"]
	if len(fw) != 4 || len(p.tags["forward"]) != 4 {
		t.Fatalf("forward rules: %d (tags %v), want 4", len(fw), p.tags["forward"])
	}
	for _, tag := range p.tags["forward"] {
		if tag != "minibox subnet 10.5.0.0/24" {
			t.Errorf("tag %q: want the subnet's", tag)
		}
	}
	// nft add rule ip minibox forward iifname "mb-abc123" oifname != "mb-abc123" oifname "mb-*" drop
	want := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name16("mb-abc123")},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: name16("mb-abc123")},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("mb-")},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
	if !reflect.DeepEqual(fw[0], want) {
		t.Errorf("rule 0 = %s\nwant %s", describe(fw[0]), describe(want))
	}
	if n := len(p.rules["postrouting"]); n != 3 {
		t.Errorf("postrouting: %d rules, want 3 (masquerade, host to port, hairpin)", n)
	}

	cfg.Internal = true
	p = tablePlan(cfg)
	if n := len(p.rules["forward"]); n != 6 {
		t.Errorf("internal forward rules: %d, want 6", n)
	}
	for _, r := range p.rules["postrouting"] {
		if len(r) > 3 {
			if _, ok := r[len(r)-1].(*expr.Masq); ok && reflect.DeepEqual(r[:3], saddrIn(cfg.Subnet)) {
				t.Error("internal network still masquerades its subnet out")
			}
		}
	}
	if len(p.rules["postrouting"]) != len(p.tags["postrouting"]) {
		t.Error("postrouting rules and tags out of step")
	}
	// The default bridge's plan has no forward chain.
	def, _ := Config{}.withDefaults()
	for _, c := range tablePlan(def).chains {
		if c.Name == "forward" {
			t.Error("default bridge plan has a forward chain")
		}
	}
}
