package lazyfs

import (
	"context"
	"errors"
)

// Main is replaced by the real applet.
func Main(ctx context.Context, args []string) error {
	return errors.New("lazyfs applet is not built yet")
}
