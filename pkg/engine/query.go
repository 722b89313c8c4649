package engine

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/network"
)

// ContainerFilter selects containers for GET /containers; empty fields match all.
type ContainerFilter struct {
	Project, Status, Name string
	Labels                []string // "k" or "k=v"
}

func (f ContainerFilter) empty() bool {
	return f.Project == "" && f.Status == "" && f.Name == "" && len(f.Labels) == 0
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

// ListContainersJSON answers GET /containers: {"<id>": summary} of every container. The
// unfiltered answer is cached until something changes.
func (e *Engine) ListContainersJSON(f ContainerFilter) ([]byte, error) {
	e.cmu.RLock()
	if f.empty() && e.listJSON != nil && e.listGen == e.gen {
		b := e.listJSON
		e.cmu.RUnlock()
		return b, nil
	}
	gen := e.gen
	out := make(map[string]api.ContainerSummary, len(e.ctrs))
	for id, c := range e.ctrs {
		if f.match(c.rec) {
			out[id] = summaryOf(c.rec, c.health)
		}
	}
	e.cmu.RUnlock()
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if f.empty() {
		e.cmu.Lock()
		if e.gen == gen {
			e.listJSON, e.listGen = b, gen
		}
		e.cmu.Unlock()
	}
	return b, nil
}

func summaryOf(r *Record, h *healthState) api.ContainerSummary {
	health, _, _ := h.snapshot()
	if r.Status != StatusRunning && r.Status != StatusPaused {
		if h == nil || health == HealthStarting {
			health = HealthNone
		}
	}
	s := api.ContainerSummary{
		ID: r.ID, Name: r.Name, Image: displayImage(r), ImageDigest: r.ImageDigest, Command: r.Args,
		PID: r.PID, Status: r.Status, Health: health, CreatedAt: r.Created, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ExitCode: r.ExitCode, OOMKilled: r.OOMKilled, Ports: map[string]int{},
		Publish: []api.PortBinding{}, Project: r.Conf.Project, Service: r.Conf.Service, IP: r.IP,
		Labels: labels(r), RestartCount: r.RestartCount,
	}
	if s.Command == nil {
		s.Command = []string{}
	}
	if r.Status == StatusRunning || r.Status == StatusPaused {
		for _, p := range r.Ports {
			s.Publish = append(s.Publish, bindingOf(p))
			if p.Proto == "tcp" {
				s.Ports[strconv.Itoa(int(p.HostPort))] = int(p.ContainerPort)
			}
		}
	} else {
		for _, p := range r.Conf.Publish {
			s.Publish = append(s.Publish, requestedBinding(p))
		}
	}
	return s
}

func bindingOf(p network.Port) api.PortBinding {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return api.PortBinding{HostIP: ip, HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
}

// requestedBinding is a port as the create request named it: an empty host address for
// every address.
func requestedBinding(p network.Port) api.PortBinding {
	b := api.PortBinding{HostPort: int(p.HostPort), ContainerPort: int(p.ContainerPort), Protocol: p.Proto}
	if p.HostIP.IsValid() {
		b.HostIP = p.HostIP.String()
	}
	return b
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
	Health      *HealthReport
	// Gateway and MAC are the default bridge's, while the container runs on it.
	Gateway, MAC string
	// Endpoints are its networks by name, with their addresses while it runs.
	Endpoints map[string]api.InspectEndpoint
}

// HealthReport is a health check's state: its status, failures in a row and last probes.
type HealthReport struct {
	Status        string
	FailingStreak int
	Log           []HealthProbe
}

// InspectContainer returns what the engine knows of one container.
func (e *Engine) InspectContainer(ref string) (*ContainerDetails, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	e.cmu.RLock()
	r := *c.rec
	h := c.health
	e.cmu.RUnlock()
	d := &ContainerDetails{Record: r, Dir: e.ctrDir(r.ID), Running: r.Status == StatusRunning || r.Status == StatusPaused}
	d.Env, d.User, d.WorkingDir = []string{}, r.Conf.User, r.Conf.WorkingDir
	if s, _ := e.buildSpec(&r, nil); s != nil {
		d.Env, d.User, d.WorkingDir = s.Process.Env, s.Process.User, s.Process.Cwd
	}
	d.Hostname, d.Image, d.Labels, d.StopSignal = hostnameOf(&r), displayImage(&r), labels(&r), runspec.StopSignal(&r.Conf, &r.Config)
	d.CPUQuota = runspec.Resources(&r.Conf.Resources).CPUQuota
	if d.Healthcheck = healthcheckOf(&r); d.Healthcheck != nil {
		// A stopped container that never finished starting shows none.
		status, failing, log := h.snapshot()
		if !d.Running && status == HealthStarting {
			status = HealthNone
		}
		d.Health = &HealthReport{Status: status, FailingStreak: failing, Log: log}
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
