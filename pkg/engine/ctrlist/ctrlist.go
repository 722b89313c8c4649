// Package ctrlist is a container record as lists show it: its summary, its labels and
// exposed ports, and the filters that select records for a list. Pure functions of a
// record (and its health check's report).
package ctrlist

import (
	"slices"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/network"
)

// Filter selects containers for a list; empty fields match all.
type Filter struct {
	Project, Status, Name string
	Labels                []string // "k" or "k=v"
}

// Match reports whether f selects r.
func (f Filter) Match(r *ctrstore.Record) bool {
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
		got, ok := Labels(r)[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

// Labels is the container's labels: its image's, then its own, then its Compose project's.
func Labels(r *ctrstore.Record) map[string]string {
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
func (s *Summary) Running() bool {
	return s.Status == ctrstore.StatusRunning || s.Status == ctrstore.StatusPaused
}

// Of is record r as a list shows it; h is its health check (nil: none).
func Of(r *ctrstore.Record, h *health.Checker) Summary {
	hs := h.Report().Status
	running := r.Live()
	if !running && (h == nil || hs == health.Starting) {
		hs = health.None
	}
	s := Summary{
		ID: r.ID, Name: r.Name, Image: DisplayImage(r), ImageDigest: r.ImageDigest, Command: r.Args,
		PID: r.PID, Status: r.Status, Health: hs, CreatedAt: r.Created, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ExitCode: r.ExitCode, OOMKilled: r.OOMKilled,
		Project: r.Conf.Project, Service: r.Conf.Service, IP: r.IP,
		Labels: Labels(r), RestartCount: r.RestartCount,
	}
	if running {
		s.Ports = r.Ports
	} else {
		s.Ports = r.Conf.Publish
	}
	return s
}

// DisplayImage is the container's image as the user named it, else the normalized reference.
func DisplayImage(r *ctrstore.Record) string {
	if r.Image != "" {
		return r.Image
	}
	return r.ImageName
}

// Exposed is the container's exposed ports, sorted: the image's and --expose.
func Exposed(r *ctrstore.Record) []string {
	if len(r.Config.ExposedPorts)+len(r.Conf.Expose) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.Config.ExposedPorts)+len(r.Conf.Expose))
	for p := range r.Config.ExposedPorts {
		out = append(out, p)
	}
	for _, p := range r.Conf.Expose {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
