// Package netsvc is the daemon's user-defined networks: their records in the data root,
// create, inspect, list, remove and prune, containers joining and leaving them, the name
// table the embedded resolver serves and that resolver's process. It asks the containers
// it wires about them through Containers, and speaks its own types: the API edges convert.
package netsvc

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/minibox/minibox/pkg/network"
)

// Config is what the service takes from the daemon's configuration.
type Config struct {
	// Root is the data root: the records are in Root/networks.
	Root string
	// BridgeSubnet is the default bridge's subnet (new networks keep off it).
	BridgeSubnet netip.Prefix
	// Pool is where networks created without --subnet get theirs (zero: network.DefaultPool).
	Pool netip.Prefix
	// APIPort is the daemon's TCP port, which containers must not reach (0: none).
	APIPort int
	// DNSUpstream is the servers the resolver forwards to ("ip:port"); nil: the host's.
	DNSUpstream []string
	// BridgeOnStartup: the daemon sets the default bridge up at start, so Open looks for
	// leftover bridges even in a root without networks.
	BridgeOnStartup bool
}

// Deps is what the service calls back: the containers and events.
type Deps struct {
	Log *slog.Logger
	// NewManager opens the Manager of one network, the default bridge's too (network.New
	// when nil).
	NewManager func(network.Config, *slog.Logger) (*network.Manager, error)
	// Publish sends a network event (create, destroy, connect, disconnect).
	Publish    func(action, id string, attrs map[string]string)
	Containers Containers
}

// Container is a container as the service sees it.
type Container struct {
	ID, Name string
	// Mode is its network mode: bridge, host, none, container:<ref> or a network's name.
	Mode string
	// PID is its shim's while it runs (the network namespace to wire), else 0.
	PID int
	// IP is its primary address of its last run (the default bridge's in mode bridge).
	IP string
	// Bridge is the default bridge joined after the create (network connect bridge).
	Bridge *Endpoint
	// Endpoints are its user-defined networks, in the order of their interfaces.
	Endpoints []Endpoint
	// Links are its --link options as given (name[:alias]).
	Links []string
	// Ports are the ports it publishes while it runs or is paused (nil otherwise).
	Ports []network.Port
	// Active: it runs, is paused or is about to restart.
	Active bool
}

// Containers is what the service asks of the containers.
type Containers interface {
	// Visit calls fn for each container (only the running ones when running) while the
	// containers cannot change: fn reads c and returns, it calls nothing back.
	Visit(running bool, fn func(c *Container))
	// Edit runs fn on container ref while nothing starts, stops or removes it. When fn
	// reports a change, c's Endpoints and Bridge are stored in its record and saved.
	Edit(ref string, fn func(c *Container) (changed bool, err error)) error
}

// Service is the user-defined networks of one data root.
type Service struct {
	cfg           Config
	log           *slog.Logger
	newManager    func(network.Config, *slog.Logger) (*network.Manager, error)
	defaultBridge func(ctx context.Context, setUp bool) (*network.Manager, error)
	bridgeReady   func() bool
	publish       func(action, id string, attrs map[string]string)
	ctrs          Containers

	// bridge is the default bridge's Manager, made when first needed (bridgeMu).
	bridgeMu sync.Mutex
	bridge   *network.Manager

	// mu guards the maps; op serialises create, remove and prune (each checks, then
	// changes the host).
	mu    sync.RWMutex
	nets  map[string]*userNet // by id
	names map[string]string   // name -> id
	op    sync.Mutex
	// background counts what network operations left running after their answer: the
	// Managers of removed networks closing, name tables of created ones being published.
	background sync.WaitGroup
	// publishing: the name table is kept (from Open on).
	publishing atomic.Bool
	namesMu    sync.Mutex // one writer of the name table at a time
	// namesReq counts PublishNames calls; namesDone is the count the last table written
	// covered (namesMu): containers starting at once share one write.
	namesReq  atomic.Uint64
	namesDone uint64
	// resolverFD is a pidfd on the running resolver as last started or found, 0 when
	// none is kept (namesMu).
	resolverFD int
}

// New reads the records of the data root's networks; nothing on the host changes
// until Open.
func New(cfg Config, d Deps) (*Service, error) {
	s := &Service{cfg: cfg, log: d.Log, newManager: d.NewManager, publish: d.Publish, ctrs: d.Containers}
	s.defaultBridge, s.bridgeReady = s.openDefaultBridge, s.defaultBridgeReady
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newManager == nil {
		s.newManager = network.New
	}
	if s.publish == nil {
		s.publish = func(string, string, map[string]string) {}
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) dir() string { return filepath.Join(s.cfg.Root, "networks") }

func (s *Service) recordPath(id string) string {
	return filepath.Join(s.dir(), id+".json")
}
