package userns

import (
	"fmt"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

// mapLine is the uid_map/gid_map content: container ID 0 onwards maps to HostID onwards.
func mapLine(m spec.IDMap) string { return fmt.Sprintf("0 %d %d\n", m.HostID, m.Size) }

func check(m spec.IDMap) error {
	if m.Size == 0 || uint64(m.HostID)+uint64(m.Size) > 1<<32-1 {
		return errdefs.Invalid(fmt.Sprintf("id map %d+%d: want a non-empty range below 2^32-1", m.HostID, m.Size))
	}
	return nil
}

// Shift maps a container ID to the host ID backing it; IDs outside the range map to the
// kernel's overflow ID (65534), as the kernel shows unmapped owners.
func Shift(m spec.IDMap, id uint32) uint32 {
	if id >= m.Size {
		return 65534
	}
	return m.HostID + id
}

// Mode is how Remap made a directory appear correctly owned.
type Mode int

const (
	IDMapped Mode = iota + 1 // an idmapped bind mount at the target: unmount it to undo
	Copied                   // a shifted copy at the target: remove it to undo
)

func (m Mode) String() string {
	switch m {
	case IDMapped:
		return "idmapped mount"
	case Copied:
		return "chowned copy"
	}
	return "none"
}
