package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/compose/loader"
	"github.com/minibox/minibox/pkg/errdefs"
)

// orphans are the project's containers of services the file no longer has (a service
// its profiles leave out is still the file's), and its one-off containers that exited.
func (r *Runner) orphans(all []api.ContainerSummary) []api.ContainerSummary {
	var out []api.ContainerSummary
	for _, c := range all {
		if c.Labels[LabelOneoff] == "True" {
			if c.Status == "exited" || c.Status == "dead" {
				out = append(out, c)
			}
			continue
		}
		if !r.hasService(c) && !r.disabled(c) {
			out = append(out, c)
		}
	}
	return out
}

// hasService says c's service is one of the project's active services.
func (r *Runner) hasService(c api.ContainerSummary) bool {
	_, ok := r.P.Services[c.Labels[LabelService]]
	return ok
}

// disabled says c's service is the file's, left out by its profiles.
func (r *Runner) disabled(c api.ContainerSummary) bool {
	_, ok := r.P.DisabledServices[c.Labels[LabelService]]
	return ok
}

// warnOrphans names the orphans that were left.
func (r *Runner) warnOrphans(orphans []api.ContainerSummary) {
	names := make([]string, len(orphans))
	for i, c := range orphans {
		names[i] = c.Name
	}
	r.warn("found orphan containers (" + strings.Join(names, ", ") + ") for this project; --remove-orphans removes them")
}

func (r *Runner) removeOrphans(ctx context.Context, all []api.ContainerSummary, timeout int) error {
	for _, c := range r.orphans(all) {
		if err := r.removeContainer(ctx, c, &timeout, false); err != nil {
			return err
		}
	}
	return nil
}

// removeContainer stops (with the service's grace period) and removes c; volumes also
// removes its anonymous volumes.
func (r *Runner) removeContainer(ctx context.Context, c api.ContainerSummary, timeout *int, volumes bool) error {
	if c.Status == "running" || c.Status == "paused" || c.Status == "restarting" {
		r.event("Container", c.Name, "Stopping")
		if err := r.C.ContainerStop(ctx, c.ID, timeout); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Stopped")
	}
	r.event("Container", c.Name, "Removing")
	if err := r.C.ContainerRemove(ctx, c.ID, true, volumes); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	r.event("Container", c.Name, "Removed")
	return nil
}

// DownOptions are `down`'s flags.
type DownOptions struct {
	Volumes, RemoveOrphans bool
	Timeout                *int
	// RemoveImages is --rmi: "local" removes the images up built without a name of the
	// file's (<project>-<service>), "all" every service's image too; "" none.
	RemoveImages string
}

// Down stops and removes the project's containers (dependents first), then its
// networks, and with Volumes its named volumes.
func (r *Runner) Down(ctx context.Context, o DownOptions) error {
	all, err := r.Containers(ctx)
	if err != nil {
		return err
	}
	services, err := loader.Order(r.P)
	if err != nil {
		return err
	}
	err = r.inOrder(services, true, func(name string) error {
		return r.removeAll(ctx, serviceContainers(all, name), r.timeout(name, o.Timeout), o.Volumes)
	}, nil)
	if err != nil {
		return err
	}
	var rest, orphans, left []api.ContainerSummary
	for _, c := range all {
		switch {
		case c.Labels[LabelOneoff] == "True":
			rest = append(rest, c)
		case r.disabled(c):
			left = append(left, c) // as in Compose: its profile is not active
		case !r.hasService(c):
			orphans = append(orphans, c)
		}
	}
	if o.RemoveOrphans {
		rest = append(rest, orphans...)
	} else if len(orphans) > 0 {
		r.warnOrphans(orphans)
	}
	if err := r.removeAll(ctx, rest, o.Timeout, o.Volumes); err != nil {
		return err
	}
	if len(left) > 0 {
		names, profiles := make([]string, len(left)), map[string]bool{}
		for i, c := range left {
			names[i] = c.Name
			for _, p := range r.P.DisabledServices[c.Labels[LabelService]].Profiles {
				profiles[p] = true
			}
		}
		r.warn("containers of services whose profiles are not active are left: " + strings.Join(names, ", ") +
			"; --profile " + strings.Join(sortedKeys(profiles), " --profile ") + " removes them")
	}
	if err := r.removeProjectFiles(); err != nil {
		return err
	}
	for _, key := range sortedKeys(r.P.Networks) {
		nw := r.P.Networks[key]
		if nw.External {
			continue
		}
		err := r.removeResource("Network", nw.Name, func() error { return r.C.NetworkRemove(ctx, nw.Name) })
		if len(left) > 0 && errors.Is(err, errdefs.ErrConflict) {
			r.event("Network", nw.Name, "Resource is still in use")
			continue
		}
		if err != nil {
			return err
		}
	}
	if err := r.removeImages(ctx, o.RemoveImages); err != nil {
		return err
	}
	if !o.Volumes {
		return nil
	}
	for _, key := range sortedKeys(r.P.Volumes) {
		vol := r.P.Volumes[key]
		if vol.External {
			continue
		}
		if err := r.removeResource("Volume", vol.Name, func() error { return r.C.VolumeRemove(ctx, vol.Name, false) }); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) timeout(service string, flag *int) *int {
	if flag != nil {
		return flag
	}
	if s, ok := r.P.Services[service]; ok {
		return stopTimeout(s)
	}
	return nil
}

func (r *Runner) removeAll(ctx context.Context, cs []api.ContainerSummary, timeout *int, volumes bool) error {
	return parallel(cs, func(c api.ContainerSummary) error { return r.removeContainer(ctx, c, timeout, volumes) })
}

func parallel(cs []api.ContainerSummary, fn func(api.ContainerSummary) error) error {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Pick lists the project's service containers (no one-offs) of the named services (all when none).
func (r *Runner) Pick(ctx context.Context, services []string) ([]api.ContainerSummary, error) {
	for _, s := range services {
		if _, ok := r.P.Services[s]; !ok {
			return nil, fmt.Errorf("no such service: %s", s)
		}
	}
	all, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.ContainerSummary
	for _, c := range all {
		if c.Labels[LabelOneoff] == "True" {
			continue
		}
		if len(services) == 0 || slices.Contains(services, c.Labels[LabelService]) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stop stops the services' containers, dependents first.
func (r *Runner) Stop(ctx context.Context, services []string, timeout *int) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	names, err := loader.Order(r.P)
	if err != nil {
		return err
	}
	return r.inOrder(names, true, func(name string) error {
		return parallel(serviceContainers(cs, name), func(c api.ContainerSummary) error {
			r.event("Container", c.Name, "Stopping")
			if err := r.C.ContainerStop(ctx, c.ID, r.timeout(name, timeout)); err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
			r.event("Container", c.Name, "Stopped")
			return nil
		})
	}, nil)
}

// Start starts the services' existing containers, dependencies first.
func (r *Runner) Start(ctx context.Context, services []string) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	names, err := loader.Order(r.P)
	if err != nil {
		return err
	}
	return r.inOrder(names, false, func(name string) error {
		return parallel(serviceContainers(cs, name), func(c api.ContainerSummary) error {
			r.event("Container", c.Name, "Starting")
			if err := r.C.ContainerStart(ctx, c.ID); err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
			r.event("Container", c.Name, "Started")
			return nil
		})
	}, func(dep string, d types.ServiceDependency) error {
		if d.Condition == types.ServiceConditionHealthy {
			return r.WaitCondition(ctx, dep, d.Condition)
		}
		return nil
	})
}

// Restart restarts the services' containers. Named services take along the services
// that depend on them with restart: true (unless noDeps), each restarted once what it
// depends on was, as Compose does.
func (r *Runner) Restart(ctx context.Context, services []string, timeout *int, noDeps bool) error {
	named := services
	if len(services) > 0 && !noDeps {
		named = r.restartDependents(services)
	}
	cs, err := r.Pick(ctx, named)
	if err != nil {
		return err
	}
	restart := func(c api.ContainerSummary) error {
		r.event("Container", c.Name, "Restarting")
		if err := r.C.ContainerRestart(ctx, c.ID, r.timeout(c.Labels[LabelService], timeout)); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		r.event("Container", c.Name, "Started")
		return nil
	}
	if len(named) == len(services) {
		return parallel(cs, restart)
	}
	order, err := r.selected(named, true)
	if err != nil {
		return err
	}
	return r.inOrder(order, false, func(name string) error {
		return parallel(serviceContainers(cs, name), restart)
	}, nil)
}

// restartDependents is services and, transitively, the services that depend on one of
// them with restart: true.
func (r *Runner) restartDependents(services []string) []string {
	out := slices.Clone(services)
	for i := 0; i < len(out); i++ {
		for _, n := range sortedKeys(r.P.Services) {
			if d, ok := r.P.Services[n].DependsOn[out[i]]; ok && d.Restart && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// Rm removes the services' stopped containers; stop first stops running ones.
func (r *Runner) Rm(ctx context.Context, services []string, stop, volumes bool) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	var gone []api.ContainerSummary
	for _, c := range cs {
		if c.Status == "running" || c.Status == "paused" || c.Status == "restarting" {
			if !stop {
				continue
			}
		}
		gone = append(gone, c)
	}
	if len(gone) == 0 {
		r.progress().note("No stopped containers")
		return nil
	}
	return r.removeAll(ctx, gone, nil, volumes)
}

// ServiceContainer is the n-th container of service (exec), running or not.
func (r *Runner) ServiceContainer(ctx context.Context, service string, n int) (*api.ContainerSummary, error) {
	cs, err := r.Pick(ctx, []string{service})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Labels[LabelNumber] == strconv.Itoa(n) {
			return &c, nil
		}
	}
	return nil, fmt.Errorf("service %q has no container #%d: run \"compose up\" first", service, n)
}

// OneOff plans `run SERVICE [CMD]`: the service's container with its command replaced,
// named <project>-<service>-run-<random>, without the service's published ports (unless
// servicePorts) and without the service's alias (the service's own containers keep the
// name).
func (r *Runner) OneOff(service string, cmd []string, imageID string, servicePorts, useAliases bool) (*api.CreateRequest, error) {
	s, ok := r.P.Services[service]
	if !ok {
		return nil, fmt.Errorf("no such service: %s", service)
	}
	if !servicePorts {
		s.Ports = nil
	}
	s.ContainerName = ""
	pl, err := PlanContainer(r.P, s, 1, imageID, r.containerOf)
	if err != nil {
		return nil, err
	}
	req := pl.Request
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	req.Name = fmt.Sprintf("%s-%s-run-%s", r.P.Name, service, hex.EncodeToString(b[:]))
	if !useAliases {
		req.NetworkAlias = slices.DeleteFunc(req.NetworkAlias, func(a string) bool { return a == service || strings.HasPrefix(a, r.P.Name+"-"+service+"-") })
	}
	req.Labels[LabelOneoff] = "True"
	delete(req.Labels, LabelNumber)
	// A one-off runs once: the service's restart policy is not its own (as in Compose),
	// and would refuse --rm.
	req.Restart = ""
	if len(cmd) > 0 {
		req.Command = cmd
	}
	return req, nil
}

// PsOptions are `ps`' flags: All also lists stopped containers, Status (created, running,
// paused, restarting, exited, dead) only those in one of them; JSON, Quiet (IDs) and
// Services (their names) say what to print.
type PsOptions struct {
	All, JSON, Quiet, Services bool
	Status                     []string
	// Template is --format's Go template over each row's Compose fields; a leading
	// "table " makes a table with a header of the fields' titles.
	Template string
	// NoTrunc keeps COMMAND whole; NoOrphans leaves out the containers of services the
	// file does not have.
	NoTrunc, NoOrphans bool
}

// Ps prints the project's containers: a table, or one JSON object a line.
func (r *Runner) Ps(ctx context.Context, o PsOptions, services []string) error {
	cs, err := r.Containers(ctx)
	if err != nil {
		return err
	}
	var rows []api.ContainerSummary
	for _, c := range cs {
		switch {
		case len(o.Status) > 0:
			if !slices.Contains(o.Status, c.Status) {
				continue
			}
		case !o.All && c.Status != "running" && c.Status != "paused" && c.Status != "restarting":
			continue
		}
		if len(services) > 0 && !slices.Contains(services, c.Labels[LabelService]) {
			continue
		}
		if o.NoOrphans && !r.hasService(c) {
			continue
		}
		rows = append(rows, c)
	}
	now := time.Now()
	switch {
	case o.Services:
		var names []string
		for _, c := range rows {
			if n := c.Labels[LabelService]; !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for _, n := range names {
			fmt.Fprintln(r.Out, n)
		}
		return nil
	case o.Quiet:
		for _, c := range rows {
			fmt.Fprintln(r.Out, c.ID)
		}
		return nil
	case o.JSON:
		enc := json.NewEncoder(r.Out)
		enc.SetEscapeHTML(false) // "->" in ports
		for _, c := range rows {
			if err := enc.Encode(r.psRow(c, now, o.NoTrunc)); err != nil {
				return err
			}
		}
		return nil
	case o.Template != "":
		out := make([]psJSON, len(rows))
		for i, c := range rows {
			out[i] = r.psRow(c, now, o.NoTrunc)
		}
		return writeTemplate(r.Out, o.Template, out)
	}
	tw := tabwriter.NewWriter(r.Out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS")
	for _, c := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Image, dockershape.CommandCell(c.Command, o.NoTrunc), c.Labels[LabelService],
			dockershape.Since(c.CreatedAt, now), statusText(c, now), ports(c))
	}
	return tw.Flush()
}

// psRow is a container as ps --format shows it, with Docker Compose's fields.
func (r *Runner) psRow(c api.ContainerSummary, now time.Time, noTrunc bool) psJSON {
	row := psJSON{ID: c.ID, Name: c.Name, Names: c.Name, Image: c.Image, Command: dockershape.CommandCell(c.Command, noTrunc),
		Project: r.P.Name, Service: c.Labels[LabelService], CreatedAt: c.CreatedAt.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: dockershape.Since(c.CreatedAt, now), State: c.Status, Health: health(c), ExitCode: c.ExitCode,
		Status: statusText(c, now), Ports: ports(c), Publishers: []psPublisher{}, Labels: dockershape.LabelsText(c.Labels)}
	for _, b := range publishers(c) {
		url := b.HostIP
		if url == "" {
			url = "0.0.0.0"
		}
		row.Publishers = append(row.Publishers, psPublisher{URL: url, TargetPort: b.ContainerPort, PublishedPort: b.HostPort, Protocol: protocol(b)})
	}
	return row
}

// psJSON is a row of ps --format json, with Docker Compose's keys.
type psJSON struct {
	ID         string        `json:"ID"`
	Name       string        `json:"Name"`
	Names      string        `json:"Names"`
	Image      string        `json:"Image"`
	Command    string        `json:"Command"`
	Project    string        `json:"Project"`
	Service    string        `json:"Service"`
	CreatedAt  string        `json:"CreatedAt"`
	RunningFor string        `json:"RunningFor"`
	State      string        `json:"State"`
	Health     string        `json:"Health"`
	ExitCode   int           `json:"ExitCode"`
	Status     string        `json:"Status"`
	Ports      string        `json:"Ports"`
	Publishers []psPublisher `json:"Publishers"`
	Labels     string        `json:"Labels"`
}

// psPublisher is a published port as Docker Compose lists it.
type psPublisher struct {
	URL           string `json:"URL"`
	TargetPort    int    `json:"TargetPort"`
	PublishedPort int    `json:"PublishedPort"`
	Protocol      string `json:"Protocol"`
}

// statusText is STATUS as Docker writes it ("Up 5 minutes (healthy)", "Exited (0) 2
// minutes ago").
func statusText(c api.ContainerSummary, now time.Time) string {
	return dockershape.StatusText(c.Status, c.Health, c.ExitCode, c.StartedAt, c.FinishedAt, now)
}

func protocol(b api.PortBinding) string {
	if b.Protocol == "" {
		return "tcp"
	}
	return b.Protocol
}

func health(c api.ContainerSummary) string {
	if c.Health == "none" {
		return ""
	}
	return c.Health
}

// ports are the container's published ports while it runs (a stopped container holds
// none, and lists none, as in Compose).
func ports(c api.ContainerSummary) string {
	var out []string
	for _, p := range publishers(c) {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

func publishers(c api.ContainerSummary) []api.PortBinding {
	if c.Status != "running" && c.Status != "paused" && c.Status != "restarting" {
		return nil
	}
	return c.Publish
}

// LogsOptions are `logs`' flags.
type LogsOptions struct {
	Follow       bool
	Tail         string
	Since, Until string // as the daemon takes them
	// Timestamps puts each line's time after its prefix; NoPrefix drops the prefix.
	Timestamps, NoPrefix bool
	// ExitStatus (with Follow) says "<container> exited with code N" as each one ends,
	// and tells OnExit when set.
	ExitStatus bool
	OnExit     func(c api.ContainerSummary, code int)
	// Index, when set, picks each service's container of that number (logs --index).
	Index int
}

// logColours are the prefixes' colours, one per container in turn (Compose's palette).
var logColours = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// Logs prints the services' output, each line prefixed "<service> | " (with the
// container's number when the service has several), in a colour per container when
// Colour is set.
func (r *Runner) Logs(ctx context.Context, services []string, o LogsOptions) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	if o.Index > 0 {
		n := strconv.Itoa(o.Index)
		cs = slices.DeleteFunc(cs, func(c api.ContainerSummary) bool { return c.Labels[LabelNumber] != n })
	}
	count := map[string]int{}
	for _, c := range cs {
		count[c.Labels[LabelService]]++
	}
	prefix := map[string]string{}
	width := 0
	for _, c := range cs {
		p := c.Labels[LabelService]
		if count[p] > 1 {
			p += "-" + c.Labels[LabelNumber]
		}
		prefix[c.ID] = p
		width = max(width, len(p))
	}
	colour := map[string]func(string) string{}
	for i, c := range cs { // cs is sorted: a service keeps its colour from one call to the next
		colour[c.ID] = func(s string) string { return s }
		if r.Colour {
			code := logColours[i%len(logColours)]
			colour[c.ID] = func(s string) string { return "\x1b[" + code + "m" + s + "\x1b[0m" }
		}
		p := colour[c.ID](fmt.Sprintf("%-*s | ", width, prefix[c.ID]))
		if o.NoPrefix {
			p = ""
		}
		prefix[c.ID] = p
	}
	return parallel(cs, func(c api.ContainerSummary) error {
		err := r.logs(ctx, c, o, prefix[c.ID])
		if err != nil || !o.Follow || !o.ExitStatus {
			return err
		}
		// The log ends with the process; the daemon may record the exit a moment later.
		res, err := r.C.ContainerWait(ctx, c.ID, client.WaitNotRunning)
		if err != nil {
			return nil // removed meanwhile
		}
		r.mu.Lock()
		fmt.Fprintln(r.Out, colour[c.ID](fmt.Sprintf("%s exited with code %d", c.Name, res.ExitCode)))
		r.mu.Unlock()
		if o.OnExit != nil {
			o.OnExit(c, res.ExitCode)
		}
		return nil
	})
}

// logs prints one container's lines, each after prefix.
func (r *Runner) logs(ctx context.Context, c api.ContainerSummary, o LogsOptions, prefix string) error {
	var partial strings.Builder
	return r.C.ContainerLogs(ctx, c.ID, client.LogsOptions{Follow: o.Follow, Tail: o.Tail, Since: o.Since, Until: o.Until}, func(l api.LogLine) error {
		partial.WriteString(l.Text)
		text := partial.String()
		i := strings.LastIndexByte(text, '\n')
		if i < 0 {
			return nil
		}
		partial.Reset()
		partial.WriteString(text[i+1:])
		stamp := ""
		if o.Timestamps {
			stamp = l.Time.UTC().Format("2006-01-02T15:04:05.000000000Z") + " "
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, line := range strings.Split(text[:i], "\n") {
			fmt.Fprintf(r.Out, "%s%s%s\n", prefix, stamp, line)
		}
		return nil
	})
}

// Project is a row of `compose ls`: a project that has containers on the daemon, with
// Compose's keys.
type Project struct {
	Name        string `json:"Name"`
	Status      string `json:"Status"`
	ConfigFiles string `json:"ConfigFiles"`
}

// Projects lists the projects with a running container (all: with any container), by name:
// each with its containers' states counted ("running(2), exited(1)") and the files it was
// last brought up from.
func Projects(ctx context.Context, c *client.Client, all bool) ([]Project, error) {
	m, err := c.ContainerList(ctx, url.Values{"label": {LabelProject}})
	if err != nil {
		return nil, err
	}
	type proj struct {
		states map[string]int
		files  string
	}
	projects := map[string]*proj{}
	for _, s := range m {
		name := s.Labels[LabelProject]
		p := projects[name]
		if p == nil {
			p = &proj{states: map[string]int{}}
			projects[name] = p
		}
		p.states[s.Status]++
		if f := s.Labels[LabelFiles]; f != "" {
			p.files = f
		}
	}
	var out []Project
	for _, n := range sortedKeys(projects) {
		p := projects[n]
		if !all && p.states["running"] == 0 {
			continue
		}
		var st []string
		for _, k := range sortedKeys(p.states) {
			st = append(st, fmt.Sprintf("%s(%d)", k, p.states[k]))
		}
		out = append(out, Project{Name: n, Status: strings.Join(st, ", "), ConfigFiles: p.files})
	}
	return out, nil
}

// removeImages is down --rmi: the services' images that mode names, each once; one that
// another container still uses is left, saying so.
func (r *Runner) removeImages(ctx context.Context, mode string) error {
	if mode == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, n := range sortedKeys(r.P.Services) {
		s := r.P.Services[n]
		if mode == "local" && s.Image != "" {
			continue
		}
		name := ImageName(r.P, s)
		if seen[name] {
			continue
		}
		seen[name] = true
		err := r.removeResource("Image", name, func() error {
			_, err := r.C.ImageRemove(ctx, name, false)
			return err
		})
		if errors.Is(err, errdefs.ErrConflict) {
			r.event("Image", name, "Resource is still in use")
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removeResource removes one of the project's networks or volumes (kind names it in the
// output); one already gone is skipped. Removed without asking first whether it exists:
// down waits for each answer, and the daemon answers a missing one at no cost.
func (r *Runner) removeResource(kind, name string, remove func() error) error {
	err := remove()
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	r.event(kind, name, "Removing")
	if err != nil {
		return fmt.Errorf("%s %s: %w", strings.ToLower(kind), name, err)
	}
	r.event(kind, name, "Removed")
	return nil
}

// Top prints the processes of the services' running containers as one table: the
// service and the container's number first, then the columns the daemon gives (the union
// over the containers, in their order), the command last.
func (r *Runner) Top(ctx context.Context, services []string) error {
	cs, err := r.Pick(ctx, services)
	if err != nil {
		return err
	}
	var titles []string
	type row struct {
		service, number string
		cells           map[string]string
	}
	var rows []row
	for _, c := range cs {
		if c.Status != "running" && c.Status != "paused" {
			continue
		}
		t, err := r.C.ContainerTop(ctx, c.ID)
		if errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrConflict) {
			continue // ended meanwhile
		}
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		for _, title := range t.Titles {
			if title != "CMD" && !slices.Contains(titles, title) {
				titles = append(titles, title)
			}
		}
		for _, p := range t.Processes {
			cells := map[string]string{}
			for i, title := range t.Titles {
				if i < len(p) {
					cells[title] = p[i]
				}
			}
			rows = append(rows, row{c.Labels[LabelService], c.Labels[LabelNumber], cells})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	titles = append(titles, "CMD")
	tw := tabwriter.NewWriter(r.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\t#\t"+strings.Join(titles, "\t"))
	for _, rw := range rows {
		line := []string{rw.service, rw.number}
		for _, title := range titles {
			v, ok := rw.cells[title]
			if !ok {
				v = "-"
			}
			line = append(line, v)
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	return tw.Flush()
}
