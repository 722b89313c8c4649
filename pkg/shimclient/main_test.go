package shimclient_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibox/minibox/applets/boxinit"
	"github.com/minibox/minibox/applets/shim"
	"github.com/minibox/minibox/pkg/errdefs"
)

// TestMain makes the test binary the shim and init too: the shimclient package re-executes
// /proc/self/exe as minibox-shim, which runs init by argv[0] minibox-init.
func TestMain(m *testing.M) {
	var main func(context.Context, []string) error
	switch filepath.Base(os.Args[0]) {
	case "minibox-shim":
		main = shim.Main
	case "minibox-init":
		main = boxinit.Main
	default:
		if dir := os.Getenv("MINIBOX_TEST_STARTER"); dir != "" {
			os.Exit(starter(dir))
		}
		code := m.Run()
		if rootfsDir != "" {
			os.RemoveAll(rootfsDir) // the busybox layer the tests shared
		}
		os.Exit(code)
	}
	err := main(context.Background(), os.Args[1:])
	var ee *errdefs.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &ee):
		if !ee.Silent && ee.Err != nil {
			fmt.Fprintln(os.Stderr, "[error]", ee.Err)
		}
		os.Exit(ee.Code)
	default:
		fmt.Fprintln(os.Stderr, "[error]", err)
		os.Exit(125)
	}
}
