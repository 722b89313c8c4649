package shimclient

import "github.com/minibox/minibox/pkg/shimexe"

// Prepare unpacks the shim's sealed executable now (a few ms) rather than in the first
// Start; the daemon may call it at startup, in the background.
func Prepare() error {
	_, err := shimexe.Sealed()
	return err
}
