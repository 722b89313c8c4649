package network

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/errdefs"
)

// ClaimDir holds one file per subnet a daemon put on a shared bridge, naming its data root.
// It is on /run: claims go at a reboot, with the bridges and addresses they describe.
var ClaimDir = "/run/minibox/subnets"

func claimPath(p netip.Prefix) string {
	return filepath.Join(ClaimDir, strings.ReplaceAll(p.Masked().String(), "/", "_"))
}

// ClaimSubnet makes this Manager's subnet root's on its (shared) bridge. Another daemon's
// subnet on the bridge that overlaps it is a conflict: the two would hand out the same
// addresses, and each one's start would take the other's veths and rules for stale ones.
// A subnet counts as another daemon's while its address is on the bridge and its claim
// names another data root that still exists; an overlapping address without a claim is
// someone else's too, unless it is exactly this subnet's gateway (a daemon that predates
// claims).
func (m *Manager) ClaimSubnet(root string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	own := m.cfg.Subnet.Masked()
	br, err := linkByName(m.rt, m.cfg.Bridge)
	if err == nil {
		addrs, err := m.rt.Address.List()
		if err != nil {
			return fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			if a.Index != br.Index || a.Family != unix.AF_INET || a.Attributes == nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(a.Attributes.Address.To4())
			if !ok {
				continue
			}
			p := netip.PrefixFrom(ip, int(a.PrefixLength)).Masked()
			if !p.Overlaps(own) {
				continue
			}
			b, _ := os.ReadFile(claimPath(p))
			owner := strings.TrimSpace(string(b))
			switch {
			case owner == root:
			case owner == "":
				if p == own && ip == m.cfg.gateway() {
					continue // a daemon that predates claims: this subnet's own address
				}
				return errdefs.Conflict(fmt.Sprintf("subnet %s overlaps %s on %s, which no minibox daemon claims; choose another subnet", own, p, m.cfg.Bridge))
			case !dirExists(owner):
				// Its data root is gone: what is left of it is nobody's.
			default:
				return errdefs.Conflict(fmt.Sprintf("subnet %s overlaps %s on %s, the default network of the daemon of data root %s; choose another subnet", own, p, m.cfg.Bridge, owner))
			}
		}
	}
	if err := os.MkdirAll(ClaimDir, 0o755); err != nil {
		return err
	}
	return atomicfile.Replace(claimPath(own), []byte(root+"\n"), 0o644)
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// ClaimedBy names the data root whose claim on subnet is on record ("" when none).
func ClaimedBy(subnet netip.Prefix) string {
	b, _ := os.ReadFile(claimPath(subnet))
	return strings.TrimSpace(string(b))
}

// ReleaseSubnet takes back what this Manager added to a shared bridge for root once nothing of
// root uses it: every rule of its subnet (port rules included) in one transaction, its
// gateway address on the bridge and root's claim on the subnet. The bridge, the table and
// other subnets' addresses and rules stay: other daemons use them. What is gone is fine.
func (m *Manager) ReleaseSubnet(root string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waitDeletes()
	for id, hs := range m.holds {
		closeHolds(hs)
		delete(m.holds, id)
	}
	m.addrMu.Lock()
	clear(m.attached)
	m.addrMu.Unlock()
	m.ready = false
	errs := []error{m.deleteOwnRules()}
	if br, err := linkByName(m.rt, m.cfg.Bridge); err == nil {
		gw := m.cfg.gateway()
		err := m.rt.Address.Delete(&rtnetlink.AddressMessage{Family: unix.AF_INET,
			PrefixLength: uint8(m.cfg.Subnet.Bits()), Index: br.Index,
			Attributes: &rtnetlink.AddressAttributes{Address: gw.AsSlice(), Local: gw.AsSlice()}})
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove %s from %s: %w", gw, m.cfg.Bridge, err))
		}
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		errs = append(errs, err)
	}
	if ClaimedBy(m.cfg.Subnet) == root {
		if err := os.Remove(claimPath(m.cfg.Subnet)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
