package applets

import (
	"context"
	"path/filepath"

	"github.com/minibox/minibox/applets/dnsd"
	"github.com/minibox/minibox/applets/lazyfs"
	"github.com/minibox/minibox/applets/minibox"
	"github.com/minibox/minibox/applets/miniboxd"
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
		"minibox-lazyfs": {"minibox-lazyfs", lazyfs.Main},
		"minibox-dns":    {"minibox-dns", dnsd.Main},
	}
	// byAlias: "minibox daemon|lazyfs|dns".
	byAlias = map[string]Applet{
		"daemon": daemon,
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
	return errdefs.ExitCode(a.Main(context.Background(), args))
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
