package lazyfs

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/lazyfs"
)

// Main runs the server: minibox-lazyfs --root <data root> [--idle 60s] [--debug].
func Main(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("minibox-lazyfs", flag.ContinueOnError)
	root := fl.String("root", "", "data root whose lazy layers to serve")
	idle := fl.Duration("idle", time.Minute, "exit after this long without a mount (0: never)")
	debug := fl.Bool("debug", false, "log debug lines")
	if err := fl.Parse(args); err != nil {
		return &errdefs.ExitError{Code: 2, Err: err}
	}
	if *root == "" {
		return &errdefs.ExitError{Code: 2, Err: errors.New("minibox-lazyfs: --root is required")}
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// SIGTERM stops serving and detaches the mounts; SIGHUP (a closed terminal) is ignored.
	signal.Ignore(syscall.SIGHUP)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return lazyfs.Serve(ctx, *root, *idle, log)
}
