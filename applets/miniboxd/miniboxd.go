package miniboxd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/api/ctrreq"
	"github.com/minibox/minibox/pkg/api/server"
	"github.com/minibox/minibox/pkg/dockerapi"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/dataroot"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/rsstrim/heapgauge"
	"github.com/minibox/minibox/pkg/timerslack"
	"github.com/minibox/minibox/pkg/version"
)

const shutdownGrace = 10 * time.Second

// Main runs the daemon.
func Main(ctx context.Context, args []string) error {
	switch {
	case len(args) == 1 && (args[0] == "--version" || args[0] == "version" || args[0] == "-v"):
		fmt.Println(version.String("miniboxd"))
		return nil
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help"):
		fmt.Println("Usage: miniboxd [--version]\n\nThe minibox daemon. Configured by MINIBOX_* environment variables (see README.md); start it with \"sudo -E miniboxd\".")
		return nil
	case len(args) > 0:
		return &errdefs.ExitError{Code: 2, Err: fmt.Errorf("miniboxd takes no arguments (got %q); configure it with MINIBOX_* environment variables", strings.Join(args, " "))}
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return exit1(err)
	}
	// Before the engine starts its threads and shims: they inherit it.
	timerslack.Widen()
	if os.Geteuid() != 0 {
		return exit1(errors.New("miniboxd must run as root; start it with \"sudo -E miniboxd\""))
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := dataroot.MakeSkeleton(cfg.DataRoot); err != nil {
		return exit1(fmt.Errorf("miniboxd: data root %s: %w", cfg.DataRoot, err))
	}
	lock, err := LockDataRoot(cfg.DataRoot)
	if err != nil {
		return exit1(err)
	}
	defer lock.Release()
	if cfg.APIToken == "" && !IsLoopback(cfg.HTTPAddr) {
		log.Warn("the API listens beyond loopback without MINIBOX_API_TOKEN: anyone who reaches it controls this host", "addr", cfg.HTTPAddr)
	}
	if cfg.BuildPrefixes == nil {
		log.Info("MINIBOX_BUILD_PREFIXES is unset: builds and archive paths may use any directory of this host")
	}
	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return exit1(fmt.Errorf("miniboxd: listen on %s: %w", cfg.HTTPAddr, err))
	}
	var dockerLn net.Listener
	if cfg.DockerAPI != "" {
		if dockerLn, err = listenDocker(cfg.DockerAPI); err != nil {
			ln.Close()
			return exit1(fmt.Errorf("miniboxd: MINIBOX_DOCKER_API: listen on %s: %w", cfg.DockerAPI, err))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.MigrateConfig = ctrreq.Migrate // the engine does not link the API's validator
	eng, err := engine.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		if dockerLn != nil {
			dockerLn.Close()
		}
		return exit1(fmt.Errorf("miniboxd: %w", err))
	}
	srv := server.New(eng, server.Backing{Volumes: eng.VolumeService(), Networks: eng.NetworkService(),
		Images: eng.ImageService(), Builds: eng.BuildService(), Execs: eng.ExecService(),
		Files: eng.FileService(), Logs: eng.LogService(), Attach: eng.AttachService(), Events: eng.EventService()}, cfg.APIToken, log)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 2)
	// Idle, the daemon gives back what start-up and its last requests touched (the
	// binary's pages, freed heap): each accepted connection is work that puts off a trim.
	trim := rsstrim.NewTrimmerWith(idleTrimQuiet, heapgauge.New())
	go trim.Run()
	trim.Kick()
	go func() { served <- srv.Serve(kickListener{ln, trim}) }()
	log.Info("Daemon listening on " + cfg.HTTPAddr)
	var dsrv *dockerapi.Server
	if dockerLn != nil {
		dsrv = dockerapi.New(eng, dockerapi.Backing{Volumes: eng.VolumeService(), Networks: eng.NetworkService(),
			Images: eng.ImageService(), Builds: eng.BuildService(), Execs: eng.ExecService(),
			Files: eng.FileService(), Logs: eng.LogService(), Attach: eng.AttachService(), Events: eng.EventService()}, cfg.APIToken, log)
		go func() { served <- dsrv.Serve(kickListener{dockerLn, trim}) }()
		log.Info("Docker API listening on " + cfg.DockerAPI)
	}
	select {
	case err := <-served:
		eng.Close()
		return exit1(err)
	case <-sigs:
	}
	log.Info("[daemon] shutdown requested")
	go func() { <-sigs; log.Warn("second signal: exiting now"); lock.Release(); os.Exit(1) }()
	cancel() // builds, pulls and pushes stop
	if dsrv != nil {
		go dsrv.Shutdown(shutdownGrace)
	}
	if err := srv.Shutdown(shutdownGrace); err != nil {
		log.Warn("shutdown", "err", err)
	}
	eng.Close()
	return nil
}

// idleTrimQuiet is how long the daemon must have accepted no connection before it trims:
// longer than the gap between the commands of a script, so a busy one never pays for it.
const idleTrimQuiet = 2 * time.Second

// kickListener tells the trimmer about each connection it accepts.
type kickListener struct {
	net.Listener
	trim *rsstrim.Trimmer
}

func (l kickListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	l.trim.Kick()
	return c, err
}

func exit1(err error) error { return &errdefs.ExitError{Code: 1, Err: err} }

// listen binds before the engine opens, so a taken port fails fast and /ping answers
// as soon as the engine is ready. A unix socket is made 0660.
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
			os.Remove(path) // stale: the data-root lock proves no daemon of ours serves it
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, err
		}
		return ln, os.Chmod(path, 0o660)
	}
	return net.Listen("tcp", addr)
}

// listenDocker binds Docker's API: a unix socket is made 0660 and given to the group
// minibox when there is one (its members may drive the daemon), else it stays root's.
func listenDocker(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	ln, err := listen(addr)
	if err != nil {
		return nil, err
	}
	if g, err := user.LookupGroup("minibox"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			if err := os.Chown(path, 0, gid); err != nil {
				ln.Close()
				return nil, err
			}
		}
	}
	return ln, nil
}
