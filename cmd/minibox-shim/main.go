// Command minibox-shim is the program a container's shim and init run (by argv[0]:
// minibox-shim, minibox-init). It is built beside minibox and embedded in it
// (pkg/shimexe), never installed on its own: the daemon runs it from a sealed memfd.
// It links only the shim's and init's packages, so each of a container's two processes
// starts and stays smaller than a re-execution of the whole engine would.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibox/minibox/applets/boxinit"
	"github.com/minibox/minibox/applets/shim"
	"github.com/minibox/minibox/pkg/errdefs"
)

func main() {
	var run func(context.Context, []string) error
	switch filepath.Base(os.Args[0]) {
	case "minibox-shim":
		run = shim.Main
	case "minibox-init":
		run = boxinit.Main
	default:
		fmt.Fprintln(os.Stderr, "minibox-shim: the daemon runs this program as minibox-shim or minibox-init; it is not a command")
		os.Exit(125)
	}
	os.Exit(errdefs.ExitCode(run(context.Background(), os.Args[1:])))
}
