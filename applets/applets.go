package applets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibox/minibox/applets/boxinit"
	"github.com/minibox/minibox/applets/dnsd"
	"github.com/minibox/minibox/applets/lazyfs"
	"github.com/minibox/minibox/applets/minibox"
	"github.com/minibox/minibox/applets/miniboxd"
	"github.com/minibox/minibox/applets/shim"
	"github.com/minibox/minibox/pkg/errdefs"
)

// Applet is one personality of the binary.
type Applet struct {
	Name string
	Main func(ctx context.Context, args []string) error
}

var (
	cli    = Applet{"minibox", minibox.Main}
	daemon = Applet{"miniboxd", miniboxd.Main}
	table  = map[string]Applet{
		"minibox":        cli,
		"miniboxd":       daemon,
		"minibox-shim":   {"minibox-shim", shim.Main},
		"minibox-init":   {"minibox-init", boxinit.Main},
		"minibox-lazyfs": {"minibox-lazyfs", lazyfs.Main},
		"minibox-dns":    {"minibox-dns", dnsd.Main},
	}
	// byAlias: "minibox daemon|shim|init|lazyfs".
	byAlias = map[string]Applet{
		"daemon": daemon,
		"shim":   table["minibox-shim"],
		"init":   table["minibox-init"],
		"lazyfs": table["minibox-lazyfs"],
		"dns":    table["minibox-dns"],
	}
)

// Main runs the applet named by argv[0] (unknown names get the CLI) or, for "minibox", by
// arg 1, and returns the process exit code.
func Main(argv []string) int {
	a, args := byName(filepath.Base(argv[0])), argv[1:]
	if b, ok := byAlias[first(args)]; ok && a.Name == "minibox" {
		a, args = b, args[1:]
	}
	return exitCode(a.Main(context.Background(), args))
}

func byName(name string) Applet {
	if a, ok := table[name]; ok {
		return a
	}
	return cli
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *errdefs.ExitError
	if errors.As(err, &ee) {
		if !ee.Silent && ee.Err != nil {
			fmt.Fprintln(os.Stderr, "[error]", errdefs.Message(ee.Err))
		}
		return ee.Code
	}
	fmt.Fprintln(os.Stderr, "[error]", errdefs.Message(err))
	return 125
}
