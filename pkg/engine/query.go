package engine

import (
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/ctrlist"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/network"
)

// ContainerDetails is one container as the engine knows it, for an edge to show in its
// own shape (pkg/api/ctrview makes the native API's inspect answer of it).
type ContainerDetails struct {
	Record
	Dir     string // the container's directory in the data root
	Running bool   // running or paused
	// The workload's process as it starts: the image's environment, user and working
	// directory with the container's applied.
	Env        []string
	User       string
	WorkingDir string
	Hostname   string
	Image      string            // as the user named it, else the normalized reference
	Labels     map[string]string // the image's, then the container's
	StopSignal string
	CPUQuota   int64 // the quota the limits come to (--cpus, the original -c or --cpu-quota)
	// Healthcheck is the probe that runs (the container's, else the image's); nil: none.
	// Health is its state then.
	Healthcheck *ctrconfig.Healthcheck
	Health      *health.Report
	// Gateway and MAC are the default bridge's, while the container runs on it.
	Gateway, MAC string
	// Endpoints are its networks by name, with their addresses while it runs.
	Endpoints map[string]Endpoint
}

// Endpoint is a container's place on one network: its address, gateway and MAC while it
// runs.
type Endpoint struct {
	NetworkID   string
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	Aliases     []string
	Interface   string
}

// InspectContainer returns what the engine knows of one container.
func (e *Engine) InspectContainer(ref string) (*ContainerDetails, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	e.store.RLock()
	r := *c.rec
	h := c.health
	e.store.RUnlock()
	d := &ContainerDetails{Record: r, Dir: e.ctrDir(r.ID), Running: r.Status == StatusRunning || r.Status == StatusPaused}
	d.Env, d.User, d.WorkingDir = []string{}, r.Conf.User, r.Conf.WorkingDir
	if s, _ := e.buildSpec(&r, nil); s != nil {
		d.Env, d.User, d.WorkingDir = s.Process.Env, s.Process.User, s.Process.Cwd
	}
	d.Hostname, d.Image, d.Labels, d.StopSignal = hostnameOf(&r), ctrlist.DisplayImage(&r), ctrlist.Labels(&r), runspec.StopSignal(&r.Conf, &r.Config)
	d.CPUQuota = runspec.Resources(&r.Conf.Resources).CPUQuota
	if d.Healthcheck = healthcheckOf(&r); d.Healthcheck != nil {
		// A stopped container that never finished starting shows none.
		rep := h.Report()
		if !d.Running && rep.Status == health.Starting {
			rep.Status = health.None
		}
		d.Health = &rep
	}
	if r.Conf.Network == "bridge" && d.Running && r.IP != "" {
		d.Gateway = network.Gateway(e.Cfg.BridgeSubnet).String()
		if a, err := parseAddr(r.IP); err == nil {
			d.MAC = macString(network.MAC(a))
		}
	}
	d.Endpoints = e.inspectEndpoints(&r, d.Running)
	return d, nil
}
