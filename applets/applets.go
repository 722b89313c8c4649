package applets

import (
	"context"

	"github.com/minibox/minibox/applets/appletname"
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

var table = map[string]Applet{
	appletname.CLI:    {appletname.CLI, minibox.Main},
	appletname.Daemon: {appletname.Daemon, miniboxd.Main},
	appletname.LazyFS: {appletname.LazyFS, lazyfs.Main},
	appletname.DNS:    {appletname.DNS, dnsd.Main},
}

// Main runs the applet argv names (appletname.Of) and returns the process exit code.
func Main(argv []string) int {
	name, args := appletname.Of(argv)
	return errdefs.ExitCode(table[name].Main(context.Background(), args))
}
