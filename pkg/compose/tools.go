package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

// CopyTargets are the containers `compose cp` copies with, as Compose picks them: the
// index-th of the service's containers when index > 0; otherwise, copying from the
// service its first container, copying to it every one of them. oneOffs takes the
// service's one-off containers in too (--all).
func (r *Runner) CopyTargets(ctx context.Context, service string, index int, toService, oneOffs bool) ([]api.ContainerSummary, error) {
	if _, ok := r.P.Services[service]; !ok {
		return nil, fmt.Errorf("no such service: %s", service)
	}
	if index > 0 {
		c, err := r.ServiceContainer(ctx, service, index)
		if err != nil {
			return nil, err
		}
		return []api.ContainerSummary{*c}, nil
	}
	all, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var cs []api.ContainerSummary
	for _, c := range all {
		if c.Labels[LabelService] == service && (oneOffs || c.Labels[LabelOneoff] != "True") {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("no container found for service %q", service)
	}
	if !toService {
		return cs[:1], nil
	}
	return cs, nil
}

// ImageRow is a row of `compose images`: a container and the image it was made from.
type ImageRow struct {
	ContainerName string `json:"ContainerName"`
	Repository    string `json:"Repository"`
	Tag           string `json:"Tag"`
	ID            string `json:"ID"`
	Size          int64  `json:"Size"`
}

// Images lists the image of each of the services' containers. An image removed since its
// container was made keeps its row, without ID and size.
func (r *Runner) Images(ctx context.Context, services []string) ([]ImageRow, error) {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return nil, err
	}
	inspected := map[string]*api.ImageInspect{}
	rows := make([]ImageRow, 0, len(cs))
	for _, c := range cs {
		img, ok := inspected[c.Image]
		if !ok {
			img, err = r.C.ImageInspect(ctx, c.Image)
			if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return nil, fmt.Errorf("container %s: image %s: %w", c.Name, c.Image, err)
			}
			inspected[c.Image] = img
		}
		repo, tag := splitReference(c.Image)
		row := ImageRow{ContainerName: c.Name, Repository: repo, Tag: tag}
		if img != nil {
			row.ID, row.Size = img.ID, img.Size
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// splitReference splits an image reference into repository and tag ("latest" when it
// names none; "<none>" when it names a digest).
func splitReference(ref string) (repo, tag string) {
	if name, _, ok := strings.Cut(ref, "@"); ok {
		return name, "<none>"
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

// Wait waits until each of the services' containers (one-offs too) is not running, writing
// `container "ID" exited with status code N` as each one is; its code is that of the
// last container to stop, as Compose's is.
func (r *Runner) Wait(ctx context.Context, services []string) (int, error) {
	for _, s := range services {
		if _, ok := r.P.Services[s]; !ok {
			return 0, fmt.Errorf("no such service: %s", s)
		}
	}
	all, err := r.Containers(ctx)
	if err != nil {
		return 0, err
	}
	var cs []api.ContainerSummary
	for _, c := range all {
		if len(services) == 0 || slices.Contains(services, c.Labels[LabelService]) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return 0, fmt.Errorf("no containers for project %q", r.P.Name)
	}
	var mu sync.Mutex
	code := 0
	err = parallel(cs, func(c api.ContainerSummary) error {
		res, err := r.C.ContainerWait(ctx, c.ID, client.WaitNotRunning)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		code = res.ExitCode
		fmt.Fprintf(r.Out, "container %q exited with status code %d\n", c.ID, res.ExitCode)
		return nil
	})
	return code, err
}

// EventOptions say which of the project's container events Events passes on and how.
type EventOptions struct {
	Services     []string
	Since, Until string // RFC 3339, for the daemon
	JSON         bool
}

// Events streams the events of the project's containers (of services when given) until
// ctx ends or the daemon's until: Compose's line, or its JSON object with --json. The
// project's labels (com.docker.compose.*, and minibox.compose.* the engine adds) are left
// out of the attributes; the service is a field of its own.
func (r *Runner) Events(ctx context.Context, o EventOptions) error {
	for _, s := range o.Services {
		if _, ok := r.P.Services[s]; !ok {
			return fmt.Errorf("no such service: %s", s)
		}
	}
	filters := []string{"type=container", "label=" + LabelProject + "=" + r.P.Name}
	return r.C.Events(ctx, client.EventsOptions{Filters: filters, Since: o.Since, Until: o.Until}, func(ev api.Event) error {
		service := ev.Attributes[LabelService]
		if len(o.Services) > 0 && !slices.Contains(o.Services, service) {
			return nil
		}
		attrs := map[string]string{}
		for k, v := range ev.Attributes {
			if !strings.HasPrefix(k, "com.docker.compose.") && !strings.HasPrefix(k, "minibox.compose.") {
				attrs[k] = v
			}
		}
		return writeEvent(r.Out, ev, service, attrs, o.JSON)
	})
}

// PushTargets are the image names of the services that have both an image and a build
// section, as Compose pushes. A service without a build section runs an image someone
// else publishes.
func (r *Runner) PushTargets(services []string) ([]string, error) {
	names, err := r.selected(services, true)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, n := range names {
		s := r.P.Services[n]
		if s.Build != nil && s.Image != "" && !slices.Contains(refs, s.Image) {
			refs = append(refs, s.Image)
		}
	}
	if len(refs) == 0 {
		return nil, errors.New("no service has an image to push: push takes the services with both image and build")
	}
	return refs, nil
}

// ScaleOptions turn `compose scale SERVICE=N...` into the up it is.
func ScaleOptions(args []string, noDeps bool) (UpOptions, error) {
	o := UpOptions{Scale: map[string]int{}, NoDeps: noDeps}
	for _, a := range args {
		name, n, ok := strings.Cut(a, "=")
		v, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || v < 0 {
			return o, fmt.Errorf("%s: expected SERVICE=REPLICAS", a)
		}
		o.Scale[name] = v
		if !slices.Contains(o.Services, name) {
			o.Services = append(o.Services, name)
		}
	}
	return o, nil
}

// writeEvent writes one event as Compose's events command does.
func writeEvent(w io.Writer, ev api.Event, service string, attrs map[string]string, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(map[string]any{"time": ev.Time, "type": "container", "service": service,
			"id": ev.ID, "action": ev.Action, "attributes": attrs})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + attrs[k]
	}
	_, err := fmt.Fprintf(w, "%s container %s %s (%s)\n", ev.Time.Local().Format("2006-01-02 15:04:05.000000"),
		ev.Action, ev.ID, strings.Join(parts, ", "))
	return err
}

// Profiles are the profiles the project's services name, enabled or not, sorted.
func Profiles(p *types.Project) []string {
	var out []string
	for _, services := range []types.Services{p.Services, p.DisabledServices} {
		for _, s := range services {
			for _, name := range s.Profiles {
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
