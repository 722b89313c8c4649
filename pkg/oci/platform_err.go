package oci

import (
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

func invalidPlatform(s string) error {
	return fmt.Errorf("platform %q: expected os/arch[/variant]: %w", s, errdefs.ErrInvalid)
}

func splitN(s string, sep byte, n int) []string { return strings.SplitN(s, string(sep), n) }
