package boxinit

import (
	"context"
	"errors"
)

// Main is replaced by the real applet.
func Main(ctx context.Context, args []string) error {
	return errors.New("boxinit applet is not built yet")
}
