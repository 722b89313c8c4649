package compose

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/minibox/minibox/pkg/api"
)

// Kill sends signal (the daemon's default, SIGKILL, when "") to the services' running
// containers.
func (r *Runner) Kill(ctx context.Context, services []string, signal string) error {
	return r.eachIn(ctx, services, "running", "Killing", "Killed", func(c api.ContainerSummary) error {
		return r.C.ContainerKill(ctx, c.ID, signal)
	})
}

// Pause freezes the services' running containers.
func (r *Runner) Pause(ctx context.Context, services []string) error {
	return r.eachIn(ctx, services, "running", "Pausing", "Paused", func(c api.ContainerSummary) error {
		return r.C.ContainerPause(ctx, c.ID)
	})
}

// Unpause thaws the services' paused containers.
func (r *Runner) Unpause(ctx context.Context, services []string) error {
	return r.eachIn(ctx, services, "paused", "Unpausing", "Unpaused", func(c api.ContainerSummary) error {
		return r.C.ContainerUnpause(ctx, c.ID)
	})
}

// eachIn runs fn at once on the services' containers in state, each between the events
// doing and done.
func (r *Runner) eachIn(ctx context.Context, services []string, state, doing, done string, fn func(api.ContainerSummary) error) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	cs = slices.DeleteFunc(cs, func(c api.ContainerSummary) bool { return c.Status != state })
	return parallel(cs, func(c api.ContainerSummary) error {
		r.event("Container", c.Name, doing)
		if err := fn(c); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, done)
		return nil
	})
}

// Port is the host address a service's n-th container publishes port/proto on:
// "127.0.0.1:8080".
func (r *Runner) Port(ctx context.Context, service string, port int, proto string, n int) (string, error) {
	if port < 1 || port > 65535 || proto != "tcp" && proto != "udp" {
		return "", fmt.Errorf("port %d/%s: expected a port number, with tcp or udp", port, proto)
	}
	c, err := r.ServiceContainer(ctx, service, n)
	if err != nil {
		return "", err
	}
	for _, b := range publishers(*c) {
		if b.ContainerPort == port && protocol(b) == proto {
			ip := b.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			return ip + ":" + strconv.Itoa(b.HostPort), nil
		}
	}
	return "", fmt.Errorf("container %s publishes no port %d/%s", c.Name, port, proto)
}
