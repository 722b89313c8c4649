package engine

import (
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/network"
)

// ContainerFilter selects containers for GET /containers; empty fields match all.
type ContainerFilter struct {
	Project, Status, Name string
	Labels                []string // "k" or "k=v"
}

func (f ContainerFilter) match(r *Record) bool {
	if f.Project != "" && r.Conf.Project != f.Project && r.Conf.Labels["minibox.compose.project"] != f.Project {
		return false
	}
	if f.Status != "" && r.Status != f.Status {
		return false
	}
	if f.Name != "" && !strings.Contains(r.Name, strings.TrimPrefix(f.Name, "/")) {
		return false
	}
	for _, l := range f.Labels {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := labels(r)[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

func labels(r *Record) map[string]string {
	out := map[string]string{}
	for k, v := range r.Config.Labels {
		out[k] = v
	}
	for k, v := range r.Conf.Labels {
		out[k] = v
	}
	if r.Conf.Project != "" {
		out["minibox.compose.project"] = r.Conf.Project
	}
	if r.Conf.Service != "" {
		out["minibox.compose.service"] = r.Conf.Service
	}
	return out
}

// Summary is one container as a list shows it.
type Summary struct {
	ID, Name    string
	Image       string // as the user named it, else the normalized reference
	ImageDigest string
	Command     []string
	PID         int
	Status      string
	Health      string // health.None when it has no check, or is stopped before its first
	CreatedAt   time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	ExitCode    int
	OOMKilled   bool
	// Ports are its published ports: those bound while it runs (or is paused), else those
	// its create asked for (a zero host address: every address).
	Ports            []network.Port
	Project, Service string
	IP               string
	Labels           map[string]string
	RestartCount     int
}

// Running says whether the container runs (or is paused): its ports are bound then.
func (s *Summary) Running() bool { return s.Status == StatusRunning || s.Status == StatusPaused }

func summaryOf(r *Record, h *health.Checker) Summary {
	hs := h.Report().Status
	running := r.Status == StatusRunning || r.Status == StatusPaused
	if !running && (h == nil || hs == health.Starting) {
		hs = health.None
	}
	s := Summary{
		ID: r.ID, Name: r.Name, Image: displayImage(r), ImageDigest: r.ImageDigest, Command: r.Args,
		PID: r.PID, Status: r.Status, Health: hs, CreatedAt: r.Created, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ExitCode: r.ExitCode, OOMKilled: r.OOMKilled,
		Project: r.Conf.Project, Service: r.Conf.Service, IP: r.IP,
		Labels: labels(r), RestartCount: r.RestartCount,
	}
	if running {
		s.Ports = r.Ports
	} else {
		s.Ports = r.Conf.Publish
	}
	return s
}

func displayImage(r *Record) string {
	if r.Image != "" {
		return r.Image
	}
	return r.ImageName
}

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
	d.Hostname, d.Image, d.Labels, d.StopSignal = hostnameOf(&r), displayImage(&r), labels(&r), runspec.StopSignal(&r.Conf, &r.Config)
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
