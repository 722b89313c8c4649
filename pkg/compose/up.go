package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/compose/loader"
	"github.com/minibox/minibox/pkg/errdefs"
)

// Runner carries out actions on one project through the daemon's API.
type Runner struct {
	C *client.Client
	P *types.Project
	// Out takes data (ps, logs, config); Progress takes what happens to each network,
	// volume and container: redrawn in place when Live (a terminal), else one
	// " Container x  Started" line per change.
	Out, Progress io.Writer
	Live          bool
	// Colour gives each service's prefix in logs a colour of its own.
	Colour bool
	// QuietPull leaves the images' pull lines out (up --quiet-pull).
	QuietPull bool

	mu       sync.Mutex // one line at a time on Out
	progOnce sync.Once
	prog     *progress
}

func (r *Runner) progress() *progress {
	r.progOnce.Do(func() { r.prog = newProgress(r.Progress, r.Live) })
	return r.prog
}

func (r *Runner) event(kind, name, state string) { r.progress().event(kind, name, state) }

func (r *Runner) warn(msg string) { r.progress().note("[warn] " + msg) }

// Close ends the action's progress: the live lines stop moving and the warnings held
// for after them are printed. What the command prints next goes below.
func (r *Runner) Close() { r.progress().close() }

// Containers lists the project's containers (one-offs too), sorted by name.
func (r *Runner) Containers(ctx context.Context) ([]api.ContainerSummary, error) {
	return projectContainers(ctx, r.C, r.P.Name)
}

func projectContainers(ctx context.Context, c *client.Client, project string) ([]api.ContainerSummary, error) {
	m, err := c.ContainerList(ctx, url.Values{"label": {LabelProject + "=" + project}})
	if err != nil {
		return nil, err
	}
	return ofProject(m, project), nil
}

// ofProject picks project's containers out of a listing, sorted by service, number and
// name.
func ofProject(m map[string]api.ContainerSummary, project string) []api.ContainerSummary {
	out := make([]api.ContainerSummary, 0, len(m))
	for _, s := range m {
		if s.Labels[LabelProject] == project {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b api.ContainerSummary) int {
		if a.Labels[LabelService] != b.Labels[LabelService] {
			if a.Labels[LabelService] < b.Labels[LabelService] {
				return -1
			}
			return 1
		}
		an, _ := strconv.Atoi(a.Labels[LabelNumber])
		bn, _ := strconv.Atoi(b.Labels[LabelNumber])
		if an != bn {
			return an - bn
		}
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}

// serviceContainers are the project's (not one-off) containers of service.
func serviceContainers(all []api.ContainerSummary, service string) []api.ContainerSummary {
	var out []api.ContainerSummary
	for _, c := range all {
		if c.Labels[LabelService] == service && c.Labels[LabelOneoff] != "True" {
			out = append(out, c)
		}
	}
	return out
}

// UpOptions are `up`'s flags.
type UpOptions struct {
	Build, NoBuild, ForceRecreate, RemoveOrphans, Wait bool
	Scale                                              map[string]int
	Services                                           []string // none: all
	NoDeps                                             bool
	// NoStart creates the containers without starting them (compose create): nothing
	// waits for a dependency's condition, and a container kept as it is stays as it is.
	NoStart bool
	// NoRecreate keeps a service's existing containers even when its configuration
	// changed.
	NoRecreate bool
	// Timeout, when set, is the stop timeout (seconds) of the containers up replaces or
	// restarts, over each service's stop_grace_period.
	Timeout *int
	// WaitTimeout bounds --wait (0: none).
	WaitTimeout time.Duration
	// RenewAnonVolumes gives a recreated container new anonymous volumes instead of its
	// predecessor's (-V).
	RenewAnonVolumes bool
	// Listing, when set, is the daemon's containers asked for before the project was
	// loaded (ListContainers), so that the warm shims are asked for as soon as it is.
	Listing *Listing
}

// Listing is a listing of every container on the daemon, under way.
type Listing struct {
	done chan struct{}
	m    map[string]api.ContainerSummary
	err  error
}

// ListContainers starts listing every container: it needs no project, so a command asks
// for it first and loads its project meanwhile.
func ListContainers(ctx context.Context, c *client.Client) *Listing {
	l := &Listing{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.m, l.err = c.ContainerList(ctx, nil)
	}()
	// With one P (the CLI runs with one) the request would otherwise wait for the caller
	// to block: let it go out first, to be answered while the caller loads the files.
	runtime.Gosched()
	return l
}

// Wait returns the listing once it came.
func (l *Listing) Wait() (map[string]api.ContainerSummary, error) {
	<-l.done
	return l.m, l.err
}

// deps are the services s waits for and how: depends_on, and network_mode: service:x.
func deps(s types.ServiceConfig) map[string]types.ServiceDependency {
	out := map[string]types.ServiceDependency{}
	for k, v := range s.DependsOn {
		out[k] = v
	}
	if len(s.NetworkMode) > 8 && s.NetworkMode[:8] == "service:" {
		if _, ok := out[s.NetworkMode[8:]]; !ok {
			out[s.NetworkMode[8:]] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		}
	}
	return out
}

// selected is the services named (with what they depend on unless noDeps), or all.
func (r *Runner) selected(names []string, noDeps bool) ([]string, error) {
	all, err := loader.Order(r.P)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	var add func(n string) error
	add = func(n string) error {
		s, ok := r.P.Services[n]
		if !ok {
			return fmt.Errorf("no such service: %s", n)
		}
		if want[n] {
			return nil
		}
		want[n] = true
		if noDeps {
			return nil
		}
		for d := range deps(s) {
			if _, ok := r.P.Services[d]; ok {
				if err := add(d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, n := range names {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, n := range all {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (r *Runner) replicas(s types.ServiceConfig, scale map[string]int) int {
	if n, ok := scale[s.Name]; ok {
		return n
	}
	return s.GetScale()
}

// Prepare makes what the services need before any container: the networks and volumes
// they use, and their images (built or pulled). Nothing is started, so a failure here
// leaves no container behind. The networks, the volumes and the images are made at once:
// a network's bridge takes the longest, and the image lookups need not wait for it.
func (r *Runner) Prepare(ctx context.Context, services []string, build, noBuild bool) (map[string]string, error) {
	return r.prepare(ctx, services, build, noBuild, nil)
}

// prepare is Prepare; meanwhile (when set) runs once the networks and volumes are under
// way, before the images.
func (r *Runner) prepare(ctx context.Context, services []string, build, noBuild bool, meanwhile func()) (map[string]string, error) {
	var wg sync.WaitGroup
	var nerr, verr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		nerr = r.ensureNetworks(ctx, services)
	}()
	go func() {
		defer wg.Done()
		if verr = r.ensureVolumes(ctx, services); verr != nil {
			return
		}
		if verr = r.ensureBindSources(services); verr != nil {
			return
		}
		verr = r.writeProjectFiles(services)
	}()
	if meanwhile != nil {
		// A hint whose answer nothing waits for (the daemon, busy making what it was told,
		// took 2-10 ms to give it, which the images' lookups and so every start waited
		// out): sent first, not waited for. The up's own requests outlast it.
		go meanwhile()
		runtime.Gosched() // one P: let it go out before the images' requests
	}
	ids, ierr := r.ensureImages(ctx, services, build, noBuild)
	wg.Wait()
	if err := errors.Join(nerr, verr, ierr); err != nil {
		return nil, err
	}
	return ids, nil
}

// ensureImages finds (or builds, or pulls) each service's image, once for services that
// share one.
func (r *Runner) ensureImages(ctx context.Context, services []string, build, noBuild bool) (map[string]string, error) {
	ids := map[string]string{}
	present := map[string]string{} // image name -> ID, for services that share an image
	for _, n := range services {
		s := r.P.Services[n]
		name := ImageName(r.P, s)
		if id, ok := present[name]; ok && s.Build == nil && s.PullPolicy != types.PullPolicyAlways {
			ids[n] = id
			continue
		}
		id, err := r.ensureImage(ctx, s, build, noBuild)
		if err != nil {
			return nil, err
		}
		ids[n], present[name] = id, id
	}
	return ids, nil
}

// Up creates or recreates what changed and starts the services, each as soon as what it
// depends on holds.
func (r *Runner) Up(ctx context.Context, o UpOptions) error {
	for name := range o.Scale {
		if _, ok := r.P.Services[name]; !ok {
			return fmt.Errorf("--scale: no such service: %s", name)
		}
	}
	services, err := r.selected(o.Services, o.NoDeps)
	if err != nil {
		return err
	}
	for _, n := range services {
		if _, err := PlanContainer(r.P, r.P.Services[n], 1, "", func(string) string { return "" }); err != nil {
			return fmt.Errorf("%s: %w", r.P.Name, err)
		}
	}
	// One listing serves the port check (every running container) and this project's
	// containers.
	if o.Listing == nil {
		o.Listing = ListContainers(ctx, r.C)
	}
	all, err := o.Listing.Wait()
	if err != nil {
		return err
	}
	if err := r.checkPorts(services, o.Scale, all); err != nil {
		return err
	}
	existing := ofProject(all, r.P.Name)
	// The daemon readies a warm shim for each container to start while the networks,
	// images and containers are made; a build first would only share the CPUs with them.
	// The warm shims take the longest: announced from this goroutine, which runs now,
	// while the network's goroutine is already on its way (a new goroutine may wait
	// for a thread of its own to be scheduled on a busy machine).
	building := o.Build || slices.ContainsFunc(services, func(n string) bool {
		return r.P.Services[n].PullPolicy == types.PullPolicyAlways || r.P.Services[n].PullPolicy == types.PullPolicyBuild
	})
	announce := func() { r.announce(ctx, services, existing, o) }
	if building || o.NoStart {
		announce = nil
	}
	images, err := r.prepare(ctx, services, o.Build, o.NoBuild, announce)
	if err != nil {
		return err
	}
	if building && !o.NoStart {
		r.announce(ctx, services, existing, o)
	}
	cv := &convergence{o: o, existing: existing, changed: map[string]bool{}}
	err = r.inOrder(services, false, func(name string) error {
		return r.converge(ctx, r.P.Services[name], cv, images[name])
	}, func(dep string, d types.ServiceDependency) error {
		if o.NoStart {
			return nil // nothing started: there is no condition to wait for
		}
		return r.WaitCondition(ctx, dep, d.Condition)
	})
	if err != nil {
		return err
	}
	if o.RemoveOrphans {
		if err := r.removeOrphans(ctx, existing, 10); err != nil {
			return err
		}
	} else if orphans := r.orphans(existing); len(orphans) > 0 {
		r.warnOrphans(orphans)
	}
	if o.Wait {
		return r.waitUp(ctx, services, o.WaitTimeout)
	}
	return nil
}

// waitUp is --wait: each service's containers healthy (with a healthcheck) or running,
// within timeout when it is set.
func (r *Runner) waitUp(ctx context.Context, services []string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout,
			fmt.Errorf("--wait-timeout: the services were not all running (healthy) within %v", timeout))
		defer cancel()
	}
	err := func() error {
		// The health checks first: the services that only have to run are looked at once
		// those waits are over, which lets a container that ends at once be seen ended.
		var running []string
		for _, n := range services {
			if h := r.P.Services[n].HealthCheck; h == nil || h.Disable {
				running = append(running, n)
				continue
			}
			if err := r.WaitCondition(ctx, n, types.ServiceConditionHealthy); err != nil {
				return err
			}
		}
		for _, n := range running {
			if err := r.checkRunning(ctx, n); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// checkRunning is --wait for a service without a healthcheck: each of its containers is
// running (one that exited fails the up, as in Compose).
func (r *Runner) checkRunning(ctx context.Context, service string) error {
	all, err := r.Containers(ctx)
	if err != nil {
		return err
	}
	for _, c := range serviceContainers(all, service) {
		if c.Status == "running" || c.Status == "restarting" {
			continue
		}
		if c.Status == "exited" || c.Status == "dead" {
			return fmt.Errorf("container %s exited (%d)", c.Name, c.ExitCode)
		}
		return fmt.Errorf("container %s is %s, not running", c.Name, c.Status)
	}
	return nil
}

// announce tells the daemon how many containers this up is about to start in namespaces
// of their own (those a warm shim fits): it readies that many meanwhile. Only a hint: an
// error changes nothing but speed.
func (r *Runner) announce(ctx context.Context, services []string, existing []api.ContainerSummary, o UpOptions) {
	n := 0
	for _, name := range services {
		s := r.P.Services[name]
		if !fitsWarm(s) || ipcJoined(r.P, name) {
			continue
		}
		running := 0
		for _, c := range serviceContainers(existing, name) {
			if c.Status == "running" && !o.ForceRecreate {
				running++ // kept unless its configuration changed
			}
		}
		n += max(r.replicas(s, o.Scale)-running, 0)
	}
	if n > 0 {
		r.C.ContainerPrewarm(ctx, n)
	}
}

// fitsWarm says whether s's containers get namespaces of their own, as a warm shim's init
// has: not the host's or another container's, no user namespace. A service whose IPC
// another joins is shareable, which does not fit either.
func fitsWarm(s types.ServiceConfig) bool {
	switch s.NetworkMode {
	case "", "bridge", "none", "default":
	default:
		return false
	}
	return s.Pid == "" && (s.Ipc == "" || s.Ipc == "private") && s.Uts == "" && s.Cgroup != "host" && s.UserNSMode == ""
}

// checkPorts refuses, before anything is made, a published host port that a running
// container of another project (or none) holds: otherwise the services before the one
// that needs it would start, and up would fail halfway.
func (r *Runner) checkPorts(services []string, scale map[string]int, all map[string]api.ContainerSummary) error {
	held := map[string]api.ContainerSummary{} // "port/proto" -> holder
	hostIPs := map[string][]string{}
	for _, c := range all {
		if c.Status != "running" {
			continue
		}
		if c.Labels[LabelProject] == r.P.Name {
			continue // this project's own: kept or recreated by this up
		}
		for _, b := range c.Publish {
			if b.HostPort == 0 {
				continue
			}
			k := portKey(b)
			held[k] = c
			hostIPs[k] = append(hostIPs[k], b.HostIP)
		}
	}
	file := strings.Join(r.P.ComposeFiles, ", ")
	for _, n := range services {
		s := r.P.Services[n]
		for i, pc := range s.Ports {
			// Several containers of a service cannot share one host port: each takes the
			// next of a range, which must be long enough.
			if lo, hi, ok := hostPorts(pc); ok && r.replicas(s, scale) > hi-lo+1 {
				return fmt.Errorf("%s: services.%s.ports[%d]: %d containers cannot publish host port %s (one each); publish a range as long, or the container port alone for a free host port each; nothing was started",
					file, n, i, r.replicas(s, scale), pc.Published)
			}
			bs, err := portBindings(pc, 1)
			if err != nil || len(bs) == 0 || bs[0].HostPort == 0 {
				continue
			}
			k := portKey(bs[0])
			c, ok := held[k]
			if !ok || !slices.ContainsFunc(hostIPs[k], func(ip string) bool { return overlaps(ip, bs[0].HostIP) }) {
				continue
			}
			owner := "no project"
			if p := c.Labels[LabelProject]; p != "" {
				owner = "project " + p
			}
			return fmt.Errorf("%s: services.%s.ports[%d]: host port %s is already taken by container %s (%s); nothing was started", file, n, i, k, c.Name, owner)
		}
	}
	return nil
}

func portKey(b api.PortBinding) string {
	proto := b.Protocol
	if proto == "" {
		proto = "tcp"
	}
	return strconv.Itoa(b.HostPort) + "/" + proto
}

// overlaps says whether two host addresses of one port collide: the same, or either
// every address.
func overlaps(a, b string) bool {
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a == b || wild(a) || wild(b)
}

// inOrder runs fn for each service in its own goroutine once what it depends on is done
// (and its condition holds); reverse runs each once its dependents are done (down).
func (r *Runner) inOrder(services []string, reverse bool, fn func(string) error, cond func(string, types.ServiceDependency) error) error {
	done := map[string]chan struct{}{}
	errs := map[string]*error{}
	for _, n := range services {
		done[n] = make(chan struct{})
		errs[n] = new(error)
	}
	waitFor := map[string]map[string]types.ServiceDependency{}
	for _, n := range services {
		for d, dep := range deps(r.P.Services[n]) {
			if _, ok := done[d]; !ok {
				continue
			}
			if reverse {
				if waitFor[d] == nil {
					waitFor[d] = map[string]types.ServiceDependency{}
				}
				waitFor[d][n] = types.ServiceDependency{Required: true}
			} else {
				if waitFor[n] == nil {
					waitFor[n] = map[string]types.ServiceDependency{}
				}
				waitFor[n][d] = dep
			}
		}
	}
	var wg sync.WaitGroup
	for _, n := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[n])
			for _, d := range sortedKeys(waitFor[n]) {
				<-done[d]
				if *errs[d] != nil && !reverse {
					if waitFor[n][d].Required {
						*errs[n] = fmt.Errorf("service %s not started: dependency %s failed", n, d)
						return
					}
					continue
				}
				if cond != nil {
					if err := cond(d, waitFor[n][d]); err != nil {
						if waitFor[n][d].Required {
							*errs[n] = err
							return
						}
					}
				}
			}
			*errs[n] = fn(n)
		}()
	}
	wg.Wait()
	var all []error
	for _, n := range services {
		if e := *errs[n]; e != nil {
			all = append(all, e)
		}
	}
	if len(all) > 0 {
		return all[0]
	}
	return nil
}

// convergence is what one up shares between its services: its options, the containers
// there were, and which services it changed (a container created, recreated or started),
// which restarts the running containers of the services that depend on them with
// restart: true.
type convergence struct {
	o        UpOptions
	existing []api.ContainerSummary
	mu       sync.Mutex
	changed  map[string]bool
}

// stopTimeout is how long a container of s being replaced or restarted gets to stop.
func (cv *convergence) stopTimeout(s types.ServiceConfig) *int {
	if cv.o.Timeout != nil {
		return cv.o.Timeout
	}
	return stopTimeout(s)
}

func (cv *convergence) change(service string) {
	cv.mu.Lock()
	cv.changed[service] = true
	cv.mu.Unlock()
}

// restartFor names a dependency of s with restart: true that this up changed, or "".
// inOrder runs s only once its dependencies converged.
func (cv *convergence) restartFor(s types.ServiceConfig) string {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	for _, d := range sortedKeys(s.DependsOn) {
		if s.DependsOn[d].Restart && cv.changed[d] {
			return d
		}
	}
	return ""
}

// converge brings one service to its replicas: kept when its hash is the same, recreated
// when it changed, removed above the count.
func (r *Runner) converge(ctx context.Context, s types.ServiceConfig, cv *convergence, imageID string) error {
	have := map[int]api.ContainerSummary{}
	var extra []api.ContainerSummary
	for _, c := range serviceContainers(cv.existing, s.Name) {
		n, err := strconv.Atoi(c.Labels[LabelNumber])
		if _, dup := have[n]; err != nil || dup {
			extra = append(extra, c)
			continue
		}
		have[n] = c
	}
	want := r.replicas(s, cv.o.Scale)
	if want > 1 && s.ContainerName != "" {
		return fmt.Errorf("services.%s: container_name %q allows one container, not %d", s.Name, s.ContainerName, want)
	}
	for n, c := range have {
		if n < 1 || n > want {
			extra = append(extra, c)
		}
	}
	// The containers above the count go first, as in Compose: one of them may hold what a
	// kept one needs to start again (a published host port).
	for _, c := range extra {
		if err := r.removeContainer(ctx, c, cv.stopTimeout(s), false); err != nil {
			return err
		}
	}
	containerOf, err := r.liveContainerOf(ctx, s)
	if err != nil {
		return err
	}
	restart := cv.restartFor(s)
	var wg sync.WaitGroup
	errs := make([]error, want+1)
	for n := 1; n <= want; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = r.convergeOne(ctx, s, n, have, imageID, cv, restart, containerOf)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// convergeOne brings s's n-th container to its plan. restart names a dependency this up
// changed that s restarts with: a container kept running is restarted then.
func (r *Runner) convergeOne(ctx context.Context, s types.ServiceConfig, n int, have map[int]api.ContainerSummary, imageID string, cv *convergence, restart string, containerOf func(string) string) error {
	pl, err := PlanContainer(r.P, s, n, imageID, containerOf)
	if err != nil {
		return err
	}
	name := pl.Request.Name
	if c, ok := have[n]; ok {
		if (c.Labels[LabelHash] == pl.Hash || cv.o.NoRecreate) && !cv.o.ForceRecreate {
			switch {
			case cv.o.NoStart && c.Status == "running":
				r.event("Container", c.Name, "Running")
				return nil
			case cv.o.NoStart:
				r.event("Container", c.Name, "Created")
				return nil
			case c.Status == "running" && restart == "":
				r.event("Container", c.Name, "Running")
				return nil
			case c.Status == "running":
				r.event("Container", c.Name, "Restarting")
				if err := r.C.ContainerRestart(ctx, c.ID, cv.stopTimeout(s)); err != nil {
					return fmt.Errorf("container %s: restart after %s: %w", c.Name, restart, err)
				}
				r.event("Container", c.Name, "Restarted")
			default:
				r.event("Container", c.Name, "Starting")
				if err := r.C.ContainerStart(ctx, c.ID); err != nil {
					return fmt.Errorf("container %s: %w", c.Name, err)
				}
				r.event("Container", c.Name, "Started")
			}
			cv.change(s.Name)
			return nil
		}
		r.event("Container", c.Name, "Recreate")
		if !cv.o.RenewAnonVolumes {
			if err := r.inheritAnonymous(ctx, c, pl.Request, imageID); err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
		}
		if err := r.removeContainer(ctx, c, cv.stopTimeout(s), false); err != nil {
			return err
		}
	} else {
		r.event("Container", name, "Creating")
	}
	cv.change(s.Name)
	if len(pl.Connects) == 0 && !cv.o.NoStart {
		// Created and started in one request: no round trip between the two.
		if _, err := r.C.ContainerRunDetached(ctx, pl.Request); err != nil {
			return fmt.Errorf("container %s: %w", name, err)
		}
		r.event("Container", name, "Created")
		r.event("Container", name, "Started")
		return nil
	}
	created, err := r.C.ContainerCreate(ctx, pl.Request)
	if err != nil {
		return fmt.Errorf("container %s: %w", name, err)
	}
	for _, cn := range pl.Connects {
		if err := r.C.NetworkConnect(ctx, &api.NetworkConnectRequest{Network: cn.Network, Container: created.ID, Aliases: cn.Aliases, IP: cn.IP}); err != nil {
			return fmt.Errorf("container %s: network %s: %w", name, cn.Network, err)
		}
	}
	r.event("Container", name, "Created")
	if cv.o.NoStart {
		return nil
	}
	r.event("Container", name, "Starting")
	if err := r.C.ContainerStart(ctx, created.ID); err != nil {
		return fmt.Errorf("container %s: %w", name, err)
	}
	r.event("Container", name, "Started")
	return nil
}

// inheritAnonymous gives req, which replaces c, c's anonymous volumes where req would
// mount new ones (the service's volumes without a source, the image's VOLUMEs), as
// Compose does: data in an anonymous volume outlives a change of configuration.
func (r *Runner) inheritAnonymous(ctx context.Context, c api.ContainerSummary, req *api.CreateRequest, imageID string) error {
	ins, err := r.C.ContainerInspect(ctx, c.ID)
	if err != nil {
		return err
	}
	anon := map[string]string{} // target -> volume
	for _, m := range ins.Mounts {
		if m.Type != "volume" || m.Name == "" {
			continue
		}
		v, err := r.C.VolumeInspect(ctx, m.Name)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if v.Anonymous {
			anon[m.Destination] = m.Name
		}
	}
	if len(anon) == 0 {
		return nil
	}
	covered := map[string]bool{}
	for i, m := range req.Mounts {
		covered[m.Target] = true
		if name, ok := anon[m.Target]; ok && m.Type == types.VolumeTypeVolume && m.Source == "" {
			req.Mounts[i].Source = name
		}
	}
	if imageID == "" {
		return nil
	}
	img, err := r.C.ImageInspect(ctx, imageID)
	if err != nil {
		return err
	}
	for _, target := range sortedKeys(img.Config.Volumes) {
		if name, ok := anon[target]; ok && !covered[target] {
			req.Mounts = append(req.Mounts, api.MountRequest{Type: types.VolumeTypeVolume, Source: name, Target: target})
		}
	}
	return nil
}

// containerOf is the container network_mode: service:x joins.
// liveContainerOf names the containers of the services s refers to (network_mode, ipc,
// pid, volumes_from) by their IDs, once they converged: the IDs join s's hash, so
// that s is recreated when one of them was, instead of keeping the namespaces or volumes
// of a container that is gone.
func (r *Runner) liveContainerOf(ctx context.Context, s types.ServiceConfig) (func(string) string, error) {
	refs := len(s.VolumesFrom) > 0
	for _, m := range []string{s.NetworkMode, s.Ipc, s.Pid} {
		refs = refs || strings.HasPrefix(m, types.ServicePrefix)
	}
	if !refs {
		return r.containerOf, nil
	}
	all, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, c := range all {
		if c.Labels[LabelNumber] == "1" && c.Labels[LabelOneoff] != "True" {
			ids[c.Labels[LabelService]] = c.ID
		}
	}
	return func(service string) string {
		if id, ok := ids[service]; ok {
			return id
		}
		return r.containerOf(service)
	}, nil
}

func (r *Runner) containerOf(service string) string {
	s, ok := r.P.Services[service]
	if !ok {
		return service
	}
	return ContainerName(r.P, s, 1)
}

func stopTimeout(s types.ServiceConfig) *int {
	if s.StopGracePeriod == nil {
		return nil
	}
	t := int(time.Duration(*s.StopGracePeriod) / time.Second)
	return &t
}

// WaitCondition holds until service's containers satisfy condition: started (nothing to
// wait for once up ran), healthy (polling inspect, bounded by the healthcheck's own
// timing), or completed successfully (exit 0).
func (r *Runner) WaitCondition(ctx context.Context, service, condition string) error {
	if condition != types.ServiceConditionHealthy && condition != types.ServiceConditionCompletedSuccessfully {
		return nil // started: up returned once it was
	}
	all, err := r.Containers(ctx)
	if err != nil {
		return err
	}
	cs := serviceContainers(all, service)
	s := r.P.Services[service]
	for _, c := range cs {
		switch condition {
		case types.ServiceConditionHealthy:
			if err := r.waitHealthy(ctx, s, c); err != nil {
				return err
			}
		case types.ServiceConditionCompletedSuccessfully:
			r.event("Container", c.Name, "Waiting")
			res, err := r.C.ContainerWait(ctx, c.ID, client.WaitNotRunning)
			if err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
			if res.ExitCode != 0 {
				return fmt.Errorf("service %q didn't complete successfully: exit %d", service, res.ExitCode)
			}
			r.event("Container", c.Name, "Exited")
		}
	}
	return nil
}

func (r *Runner) waitHealthy(ctx context.Context, s types.ServiceConfig, c api.ContainerSummary) error {
	r.event("Container", c.Name, "Waiting")
	limit := 60 * time.Second
	if h := s.HealthCheck; h != nil {
		var per, start time.Duration = 30 * time.Second, 0
		if h.Interval != nil {
			per = time.Duration(*h.Interval)
		}
		if h.Timeout != nil {
			per += time.Duration(*h.Timeout)
		}
		if h.StartPeriod != nil {
			start = time.Duration(*h.StartPeriod)
		}
		retries := 3
		if h.Retries != nil {
			retries = int(*h.Retries)
		}
		limit = max(limit, start+per*time.Duration(retries+2))
	}
	deadline := time.Now().Add(limit)
	for {
		in, err := r.C.ContainerInspect(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		if in.State.Health == nil {
			return fmt.Errorf("container %s has no healthcheck: service_healthy cannot hold", c.Name)
		}
		switch in.State.Health.Status {
		case "healthy":
			r.event("Container", c.Name, "Healthy")
			return nil
		case "unhealthy":
			return fmt.Errorf("dependency failed to start: container %s is unhealthy", c.Name)
		}
		if !in.State.Running && !in.State.Restarting {
			return fmt.Errorf("dependency failed to start: container %s exited (%d)", c.Name, in.State.ExitCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dependency failed to start: container %s is not healthy after %s", c.Name, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureNetworks creates the project's networks the services use, and checks external
// ones exist.
func (r *Runner) ensureNetworks(ctx context.Context, services []string) error {
	used := map[string]bool{}
	for _, n := range services {
		s := r.P.Services[n]
		if s.NetworkMode != "" {
			continue
		}
		for k := range s.Networks {
			used[k] = true
		}
	}
	for _, key := range sortedKeys(used) {
		nw, ok := r.P.Networks[key]
		if !ok {
			return fmt.Errorf("network %q is used but not declared under the top-level networks", key)
		}
		if nw.External {
			if _, err := r.C.NetworkInspect(ctx, nw.Name); errors.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("networks.%s: external network %q not found", key, nw.Name)
			} else if err != nil {
				return err
			}
			continue
		}
		// Created without asking first whether it exists: the containers wait for it, and
		// the daemon refuses a name it has (a conflict) at no cost.
		req := &api.NetworkCreateRequest{Name: nw.Name, Internal: nw.Internal,
			Labels: map[string]string{LabelProject: r.P.Name, LabelNetwork: key}}
		for k, v := range nw.Labels {
			req.Labels[k] = v
		}
		if len(nw.Ipam.Config) > 0 && nw.Ipam.Config[0] != nil {
			req.Subnet, req.Gateway = nw.Ipam.Config[0].Subnet, nw.Ipam.Config[0].Gateway
		}
		if _, err := r.C.NetworkCreate(ctx, req); err != nil {
			// A conflict is fine when the network exists (made earlier, or by another up
			// meanwhile); not when it is the subnet's.
			if _, ierr := r.C.NetworkInspect(ctx, nw.Name); !errors.Is(err, errdefs.ErrConflict) || ierr != nil {
				return fmt.Errorf("networks.%s: %w", key, err)
			}
			continue
		}
		r.event("Network", nw.Name, "Creating")
		r.event("Network", nw.Name, "Created")
	}
	return nil
}

// ensureVolumes creates the project's named volumes the services mount.
func (r *Runner) ensureVolumes(ctx context.Context, services []string) error {
	used := map[string]bool{}
	for _, n := range services {
		for _, v := range r.P.Services[n].Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				used[v.Source] = true
			}
		}
	}
	for _, key := range sortedKeys(used) {
		vol, ok := r.P.Volumes[key]
		if !ok {
			return fmt.Errorf("volume %q is used but not declared under the top-level volumes", key)
		}
		_, err := r.C.VolumeInspect(ctx, vol.Name)
		if err == nil {
			continue
		}
		if !errors.Is(err, errdefs.ErrNotFound) {
			return err
		}
		if vol.External {
			return fmt.Errorf("volumes.%s: external volume %q not found", key, vol.Name)
		}
		labels := map[string]string{LabelProject: r.P.Name, LabelVolume: key}
		for k, v := range vol.Labels {
			labels[k] = v
		}
		r.event("Volume", strconv.Quote(vol.Name), "Creating")
		if _, err := r.C.VolumeCreate(ctx, &api.VolumeCreateRequest{Name: vol.Name, Labels: labels}); err != nil {
			return fmt.Errorf("volumes.%s: %w", key, err)
		}
		r.event("Volume", strconv.Quote(vol.Name), "Created")
	}
	return nil
}

// ensureBindSources makes the missing source directories of the binds that ask for it
// (create_host_path: the short syntax's default), as Compose does.
func (r *Runner) ensureBindSources(services []string) error {
	for _, n := range services {
		for i, v := range r.P.Services[n].Volumes {
			if v.Type != types.VolumeTypeBind || v.Bind == nil || !bool(v.Bind.CreateHostPath) {
				continue
			}
			if _, err := os.Lstat(v.Source); !errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err := os.MkdirAll(v.Source, 0o755); err != nil {
				return fmt.Errorf("services.%s.volumes[%d]: %w", n, i, err)
			}
		}
	}
	return nil
}

// ensureImage builds (when asked, or when a service with build has no image yet) or
// pulls (when missing) the service's image and returns its ID.
func (r *Runner) ensureImage(ctx context.Context, s types.ServiceConfig, build, noBuild bool) (string, error) {
	name := ImageName(r.P, s)
	in, err := r.C.ImageInspect(ctx, name)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return "", err
	}
	missing := err != nil
	switch {
	case s.Build != nil && !noBuild && (build || missing || s.PullPolicy == types.PullPolicyBuild):
		if err := r.build(ctx, s, BuildOptions{}); err != nil {
			return "", err
		}
	case missing && s.PullPolicy == types.PullPolicyNever:
		return "", fmt.Errorf("services.%s: image %s is missing and pull_policy is never", s.Name, name)
	case missing || s.PullPolicy == types.PullPolicyAlways:
		if err := r.pull(ctx, s); err != nil {
			return "", err
		}
	default:
		return in.ID, nil
	}
	in, err = r.C.ImageInspect(ctx, name)
	if err != nil {
		return "", fmt.Errorf("services.%s: image %s: %w", s.Name, name, err)
	}
	return in.ID, nil
}

// BuildOptions are `build`'s flags: they add to what each service's build section says.
type BuildOptions struct {
	NoCache, Pull bool
	Args          map[string]string // over the file's args
	// Quiet leaves the build lines out; WithDeps builds the named services'
	// dependencies too.
	Quiet, WithDeps bool
}

func (r *Runner) build(ctx context.Context, s types.ServiceConfig, o BuildOptions) error {
	b := s.Build
	name := ImageName(r.P, s)
	req := api.BuildRequest{Tags: []string{name}, ContextPath: b.Context, File: b.Dockerfile, Target: b.Target,
		NoCache: b.NoCache || o.NoCache, Pull: b.Pull || o.Pull, Labels: b.Labels}
	if b.DockerfileInline != "" {
		// dockerfile_inline: the Dockerfile is the text itself, the context still the directory.
		req.MiniBox, req.File, req.Dockerfile = b.DockerfileInline, "", true
	}
	for k, v := range b.Args {
		if v != nil {
			if req.BuildArgs == nil {
				req.BuildArgs = map[string]string{}
			}
			req.BuildArgs[k] = *v
		}
	}
	for k, v := range o.Args {
		if req.BuildArgs == nil {
			req.BuildArgs = map[string]string{}
		}
		req.BuildArgs[k] = v
	}
	if !o.Quiet {
		r.event("Image", name, "Building")
	}
	if _, err := r.C.Build(ctx, req, "", nil); err != nil {
		return fmt.Errorf("services.%s.build: %w", s.Name, err)
	}
	if !o.Quiet {
		r.event("Image", name, "Built")
	}
	return nil
}

func (r *Runner) pull(ctx context.Context, s types.ServiceConfig) error {
	name := ImageName(r.P, s)
	if !r.QuietPull {
		r.event("Image", name, "Pulling")
	}
	if _, err := r.C.ImagePull(ctx, name, s.Platform, "", nil); err != nil {
		return fmt.Errorf("services.%s: pull %s: %w", s.Name, name, err)
	}
	if !r.QuietPull {
		r.event("Image", name, "Pulled")
	}
	return nil
}

// Build builds the services that have a build section.
func (r *Runner) Build(ctx context.Context, services []string, o BuildOptions) error {
	names, err := r.selected(services, !o.WithDeps)
	if err != nil {
		return err
	}
	for _, n := range names {
		if s := r.P.Services[n]; s.Build != nil {
			if err := r.build(ctx, s, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// Pull pulls the images of the services that have no build section.
func (r *Runner) Pull(ctx context.Context, services []string, o PullOptions) error {
	names, err := r.selected(services, !o.IncludeDeps)
	if err != nil {
		return err
	}
	r.QuietPull = r.QuietPull || o.Quiet
	for _, n := range names {
		s := r.P.Services[n]
		if s.Build != nil {
			continue
		}
		if o.Missing {
			_, err := r.C.ImageInspect(ctx, ImageName(r.P, s))
			if err == nil {
				continue
			}
			if !errors.Is(err, errdefs.ErrNotFound) {
				return err
			}
		}
		if err := r.pull(ctx, s); err != nil {
			if !o.IgnoreFailures {
				return err
			}
			r.warn(err.Error())
		}
	}
	return nil
}

// PullOptions are `pull`'s flags.
type PullOptions struct {
	// Quiet leaves the pull lines out; IgnoreFailures warns of a failed pull and goes on;
	// IncludeDeps pulls the images of the named services' dependencies too; Missing pulls
	// only the images not present (--policy missing).
	Quiet, IgnoreFailures, IncludeDeps, Missing bool
}
