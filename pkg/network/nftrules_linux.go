package network

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ruleRef is one rule of minibox's table as a dump lists it: its chain, handle and comment
// are all Manager needs to find and delete it. The dump carries every rule's expressions
// too, but decoding those (nftables.Conn.GetRules, one chain per call) cost more than the
// whole transaction that follows on a table other daemons fill.
type ruleRef struct {
	chain    string
	handle   uint64
	userData []byte
}

func (r ruleRef) comment() string {
	c, _ := userdata.GetString(r.userData, userdata.TypeComment)
	return c
}

// rule is r as a handle for DelRule in table t.
func (r ruleRef) rule(t *nftables.Table) *nftables.Rule {
	return &nftables.Rule{Table: t, Chain: &nftables.Chain{Name: r.chain, Table: t}, Handle: r.handle, UserData: r.userData}
}

// listRules dumps every rule of the table in one request; a missing table has none.
func (m *Manager) listRules() ([]ruleRef, error) {
	if m.nfq == nil {
		nsfd := 0
		if m.ns != nil {
			nsfd = int(m.ns.Fd())
		}
		c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: nsfd})
		if err != nil {
			return nil, fmt.Errorf("dial nf_tables: %w", err)
		}
		m.nfq = c
	}
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.NFTA_RULE_TABLE, m.cfg.Table)
	attrs, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	// nfgenmsg: family, version, resource id.
	hdr := []byte{unix.NFPROTO_IPV4, unix.NFNETLINK_V0, 0, 0}
	msgs, err := m.nfq.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump},
		Data: append(hdr, attrs...),
	})
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list rules of table %s: %w", m.cfg.Table, err)
	}
	out := make([]ruleRef, 0, len(msgs))
	for _, msg := range msgs {
		if len(msg.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(msg.Data[4:])
		if err != nil {
			return nil, err
		}
		var r ruleRef
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_RULE_CHAIN:
				r.chain = ad.String()
			case unix.NFTA_RULE_HANDLE:
				r.handle = binary.BigEndian.Uint64(ad.Bytes())
			case unix.NFTA_RULE_USERDATA:
				r.userData = ad.Bytes()
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
