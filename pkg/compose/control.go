package compose

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
)

// Kill sends signal (the daemon's default, SIGKILL, when "") to the services' running
// containers.
func (r *Runner) Kill(ctx context.Context, services []string, signal string) error {
	return r.eachRunning(ctx, services, "Killing", "Killed", func(c api.ContainerSummary) error {
		return r.C.ContainerKill(ctx, c.ID, signal)
	})
}

// Pause freezes the services' running containers.
func (r *Runner) Pause(ctx context.Context, services []string) error {
	return r.eachRunning(ctx, services, "Pausing", "Paused", func(c api.ContainerSummary) error {
		return r.C.ContainerPause(ctx, c.ID)
	})
}

// Unpause thaws the services' paused containers.
func (r *Runner) Unpause(ctx context.Context, services []string) error {
	cs, err := r.pick(ctx, services)
	if err != nil {
		return err
	}
	var paused []api.ContainerSummary
	for _, c := range cs {
		if c.Status == "paused" {
			paused = append(paused, c)
		}
	}
	return parallel(paused, func(c api.ContainerSummary) error {
		r.event("Container", c.Name, "Unpausing")
		if err := r.C.ContainerUnpause(ctx, c.ID); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Unpaused")
		return nil
	})
}

// eachRunning runs fn on the services' running containers at once, each between the
// events doing and done.
func (r *Runner) eachRunning(ctx context.Context, services []string, doing, done string, fn func(api.ContainerSummary) error) error {
	cs, err := r.pick(ctx, services)
	if err != nil {
		return err
	}
	var running []api.ContainerSummary
	for _, c := range cs {
		if c.Status == "running" {
			running = append(running, c)
		}
	}
	return parallel(running, func(c api.ContainerSummary) error {
		r.event("Container", c.Name, doing)
		if err := fn(c); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, done)
		return nil
	})
}

// Port is the host address a service's n-th container publishes port (a number, with
// /tcp or /udp) on: "127.0.0.1:8080".
func (r *Runner) Port(ctx context.Context, service, port string, n int) (string, error) {
	num, proto, _ := strings.Cut(port, "/")
	if proto == "" {
		proto = "tcp"
	}
	p, err := strconv.Atoi(num)
	if err != nil || p < 1 || p > 65535 || proto != "tcp" && proto != "udp" {
		return "", fmt.Errorf("port %q: expected a port number, with /tcp or /udp", port)
	}
	c, err := r.ServiceContainer(ctx, service, n)
	if err != nil {
		return "", err
	}
	for _, b := range publishers(*c) {
		if b.ContainerPort == p && protocol(b) == proto {
			ip := b.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			return ip + ":" + strconv.Itoa(b.HostPort), nil
		}
	}
	return "", fmt.Errorf("container %s publishes no port %d/%s", c.Name, p, proto)
}
