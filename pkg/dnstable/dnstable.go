// Package dnstable is the name table the daemon writes for the embedded resolver
// (networks/names.json): per network (the default bridge, id "bridge", and each
// user-defined one), its gateway (where the resolver listens), its subnet (who may ask)
// and the names of the containers on it.
package dnstable

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FileName is the table's name under <data root>/networks.
const FileName = "names.json"

// PIDFile and LockFile are the resolver's, beside the table.
const (
	PIDFile  = "dns.pid"
	LockFile = "dns.lock"
)

// Table is names.json.
type Table struct {
	Networks []Network `json:"networks"`
	// Upstream are "ip:port" servers for every other name.
	Upstream []string `json:"upstream"`
	// Hosts lists each running container's addresses on all its networks: a container
	// asking one network's resolver learns the names of every network it is on, and only
	// those.
	Hosts [][]netip.Addr `json:"hosts"`
}

// Network is one network's part of the table.
type Network struct {
	ID      string                  `json:"id"`
	Gateway netip.Addr              `json:"gateway"`
	Subnet  netip.Prefix            `json:"subnet"`
	Names   map[string][]netip.Addr `json:"names"` // lower-case, no trailing dot
}

// Add records name -> addr (names compare case-insensitively).
func (n *Network) Add(name string, addr netip.Addr) {
	if n.Names == nil {
		n.Names = map[string][]netip.Addr{}
	}
	k := Key(name)
	if !slices.Contains(n.Names[k], addr) {
		n.Names[k] = append(n.Names[k], addr)
		slices.SortFunc(n.Names[k], func(a, b netip.Addr) int { return a.Compare(b) })
	}
}

// Key is the table's form of a queried or recorded name.
func Key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// Path is the table's path for data root root.
func Path(root string) string { return filepath.Join(root, "networks", FileName) }

// Read reads the table; a missing file is an empty table.
func Read(root string) (*Table, error) {
	b, err := os.ReadFile(Path(root))
	if os.IsNotExist(err) {
		return &Table{}, nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes a table file's contents.
func Parse(b []byte) (*Table, error) {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
