package minibox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
	"github.com/minibox/minibox/pkg/errdefs"
)

func sortSlice[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}

// ---- ps ---------------------------------------------------------------------------

// PsCmd is `ps [-a] [-q] [-s] [-n N|-l] [--no-trunc] [--filter k=v]... [--format F|--json]`.
type PsCmd struct {
	All     bool     `short:"a" help:"Show all containers (default: running, paused, restarting)."`
	Quiet   bool     `short:"q" help:"Print only IDs."`
	JSON    bool     `help:"Print a JSON array of Docker's container summaries (GET /containers/json)."`
	NoTrunc bool     `name:"no-trunc" help:"Do not shorten IDs and commands."`
	Filter  []string `short:"f" sep:"none" placeholder:"KEY=VAL" help:"Filter: id, name, status, label=KEY[=VAL], ancestor, exited, health, before, since, project (repeatable)."`
	Format  string   `placeholder:"TEMPLATE" help:"Go template per container ({{.ID}} {{.Names}} {{.Status}}...), \"table TEMPLATE\" or json."`
	Last    int      `short:"n" name:"last" default:"-1" placeholder:"N" help:"Show the N last created containers (all states)."`
	Latest  bool     `short:"l" help:"Show the last created container (all states)."`
	Size    bool     `short:"s" help:"Show each container's disk size."`
}

// psFilter is --filter, applied here: keys repeat as alternatives, different keys must
// all hold, as in Docker.
type psFilter struct {
	ids, names, statuses, projects, ancestors, exited, health []string
	labels                                                    []string
	before, since                                             []string
	// resolved by resolve: image digests of ancestors, creation times of before/since
	ancestorDigests       map[string]bool
	beforeTime, sinceTime time.Time
	hasBefore, hasSince   bool
}

func parsePsFilters(fs []string) (psFilter, error) {
	var f psFilter
	for _, kv := range fs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, usageError("--filter %s: expected KEY=VALUE (id, name, status, label, ancestor, exited, health, before, since, project)", kv)
		}
		switch k {
		case "id":
			f.ids = append(f.ids, v)
		case "name":
			f.names = append(f.names, v)
		case "status":
			switch v {
			case "created", "running", "paused", "restarting", "exited", "removing", "dead":
			default:
				return f, usageError("--filter status=%s: use created, running, paused, restarting, removing, exited or dead", v)
			}
			f.statuses = append(f.statuses, v)
		case "label":
			f.labels = append(f.labels, v)
		case "project":
			f.projects = append(f.projects, v)
		case "ancestor":
			f.ancestors = append(f.ancestors, v)
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return f, usageError("--filter exited=%s: expected an exit code", v)
			}
			f.exited = append(f.exited, v)
		case "health":
			switch v {
			case "starting", "healthy", "unhealthy", "none":
			default:
				return f, usageError("--filter health=%s: use starting, healthy, unhealthy or none", v)
			}
			f.health = append(f.health, v)
		case "before":
			f.before = append(f.before, v)
		case "since":
			f.since = append(f.since, v)
		default:
			return f, usageError("--filter %s: unknown key %q; use id, name, status, label, ancestor, exited, health, before, since or project", kv, k)
		}
	}
	return f, nil
}

// showsAll reports whether the filter asks for stopped containers by itself.
func (f psFilter) showsAll() bool { return len(f.statuses) > 0 || len(f.exited) > 0 }

// resolve looks up what the filter names: the images of ancestor= (a container made from
// an image under another name, or by ID, is still its descendant) and the containers of
// before= and since=.
func (f *psFilter) resolve(ctx context.Context, cl *client.Client, list map[string]api.ContainerSummary) error {
	f.ancestorDigests = map[string]bool{}
	for _, a := range f.ancestors {
		if im, err := cl.ImageInspect(ctx, a); err == nil {
			f.ancestorDigests[im.Manifest.Digest] = true
			for _, d := range im.RepoDigests {
				if _, dg, ok := strings.Cut(d, "@"); ok {
					f.ancestorDigests[dg] = true
				}
			}
		}
	}
	find := func(key, ref string) (time.Time, error) {
		var hits []api.ContainerSummary
		for id, s := range list {
			if s.Name == ref || id == ref {
				return s.CreatedAt, nil
			}
			if strings.HasPrefix(id, ref) {
				hits = append(hits, s)
			}
		}
		if len(hits) != 1 {
			return time.Time{}, usageError("--filter %s=%s: no such container", key, ref)
		}
		return hits[0].CreatedAt, nil
	}
	for _, b := range f.before {
		t, err := find("before", b)
		if err != nil {
			return err
		}
		if !f.hasBefore || t.Before(f.beforeTime) {
			f.beforeTime, f.hasBefore = t, true
		}
	}
	for _, b := range f.since {
		t, err := find("since", b)
		if err != nil {
			return err
		}
		if !f.hasSince || t.After(f.sinceTime) {
			f.sinceTime, f.hasSince = t, true
		}
	}
	return nil
}

func anyOf(list []string, match func(string) bool) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if match(v) {
			return true
		}
	}
	return false
}

// sameImageName reports whether two image references name the same image (":latest"
// and Docker Hub's "docker.io/library/" may be left out).
func sameImageName(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "docker.io/"), "library/")
		if i := strings.LastIndexByte(s, ':'); i < 0 || strings.Contains(s[i:], "/") {
			if !strings.Contains(s, "@") {
				s += ":latest"
			}
		}
		return s
	}
	return norm(a) == norm(b)
}

func (f psFilter) match(s api.ContainerSummary) bool {
	if !anyOf(f.ids, func(id string) bool { return strings.HasPrefix(s.ID, id) }) {
		return false
	}
	if !anyOf(f.names, func(n string) bool { return strings.Contains(s.Name, strings.TrimPrefix(n, "/")) }) {
		return false
	}
	if !anyOf(f.statuses, func(st string) bool { return s.Status == st }) {
		return false
	}
	if !anyOf(f.projects, func(p string) bool { return s.Project == p || s.Labels["minibox.compose.project"] == p }) {
		return false
	}
	if !anyOf(f.ancestors, func(a string) bool { return sameImageName(s.Image, a) || f.ancestorDigests[s.ImageDigest] }) {
		return false
	}
	if !anyOf(f.exited, func(code string) bool { return s.Status == "exited" && strconv.Itoa(s.ExitCode) == code }) {
		return false
	}
	if !anyOf(f.health, func(h string) bool { return s.Health == h || h == "none" && s.Health == "" }) {
		return false
	}
	if f.hasBefore && !s.CreatedAt.Before(f.beforeTime) || f.hasSince && !s.CreatedAt.After(f.sinceTime) {
		return false
	}
	for _, l := range f.labels { // every label filter must hold, as Docker's
		k, v, hasV := strings.Cut(l, "=")
		got, ok := s.Labels[k]
		if !ok || (hasV && got != v) {
			return false
		}
	}
	return true
}

// psCommand is the original's COMMAND (ps --json): cut to 22 characters plus "..." past 25.
func psCommand(cmd []string, noTrunc bool) string {
	s := strings.Join(cmd, " ")
	if !noTrunc && len([]rune(s)) > 25 {
		s = string([]rune(s)[:22]) + "..."
	}
	return s
}

// isUp reports whether the container has a process (its ports are published).
func isUp(status string) bool {
	return status == "running" || status == "paused" || status == "restarting"
}

// portsText is PORTS: "0.0.0.0:8080->80/tcp" sorted, "" if none. A stopped container
// publishes nothing, so lists none (as Docker).
func portsText(s api.ContainerSummary) string {
	if !isUp(s.Status) {
		return ""
	}
	var ps []string
	if len(s.Publish) > 0 {
		for _, b := range s.Publish {
			ip, proto := b.HostIP, b.Protocol
			if ip == "" {
				ip = "0.0.0.0"
			}
			if proto == "" {
				proto = "tcp"
			}
			ps = append(ps, fmt.Sprintf("%s:%d->%d/%s", ip, b.HostPort, b.ContainerPort, proto))
		}
	} else {
		for h, c := range s.Ports {
			ps = append(ps, fmt.Sprintf("0.0.0.0:%s->%d/tcp", h, c))
		}
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}

// psRow is the original's string row (ps -q prints its ID).
func psRow(s api.ContainerSummary, noTrunc bool) api.PSRow {
	id := s.ID
	if !noTrunc {
		id = short(id)
	}
	exit := "-"
	if s.Status == "exited" {
		exit = strconv.Itoa(s.ExitCode)
	}
	health := s.Health
	if health == "" {
		health = "none"
	}
	created := ""
	if !s.CreatedAt.IsZero() {
		created = s.CreatedAt.Local().Format("2006-01-02 15:04:05")
	}
	ports := portsText(s)
	if ports == "" {
		ports = "-"
	}
	return api.PSRow{ID: id, Name: s.Name, Image: s.Image, Command: psCommand(s.Command, noTrunc),
		Created: created, Status: s.Status, Health: health, Exit: exit, Ports: ports}
}

// psContext is one container for --format, with Docker's field names.
type psContext struct {
	header, trunc bool
	s             api.ContainerSummary
	now           time.Time
	size          string
}

func (c *psContext) setHeader() { c.header = true }

func (c *psContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *psContext) ID() string {
	if c.trunc {
		return c.pick("CONTAINER ID", short(c.s.ID))
	}
	return c.pick("CONTAINER ID", c.s.ID)
}
func (c *psContext) Image() string { return c.pick("IMAGE", c.s.Image) }
func (c *psContext) Command() string {
	return c.pick("COMMAND", dockershape.CommandCell(c.s.Command, !c.trunc))
}
func (c *psContext) CreatedAt() string {
	return c.pick("CREATED AT", c.s.CreatedAt.Local().Format("2006-01-02 15:04:05 -0700 MST"))
}
func (c *psContext) RunningFor() string {
	return c.pick("CREATED", dockershape.Since(c.s.CreatedAt, c.now))
}
func (c *psContext) Ports() string { return c.pick("PORTS", portsText(c.s)) }
func (c *psContext) State() string { return c.pick("STATE", c.s.Status) }
func (c *psContext) Status() string {
	return c.pick("STATUS", dockershape.StatusText(c.s.Status, c.s.Health, c.s.ExitCode, c.s.StartedAt, c.s.FinishedAt, c.now))
}
func (c *psContext) Size() string   { return c.pick("SIZE", c.size) }
func (c *psContext) Names() string  { return c.pick("NAMES", c.s.Name) }
func (c *psContext) Labels() string { return c.pick("LABELS", dockershape.LabelsText(c.s.Labels)) }
func (c *psContext) Label(k string) string {
	return c.pick("LABEL", c.s.Labels[k])
}
func (c *psContext) Networks() string {
	n := "bridge"
	if c.s.IP == "" && !isUp(c.s.Status) {
		n = ""
	}
	return c.pick("NETWORKS", n)
}
func (c *psContext) Mounts() string       { return c.pick("MOUNTS", "") }
func (c *psContext) LocalVolumes() string { return c.pick("LOCAL VOLUMES", "0") }
func (c *psContext) MarshalJSON() ([]byte, error) {
	return marshalFields(c)
}

const psTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

func (c *PsCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	f, err := parsePsFilters(c.Filter)
	if err != nil {
		return err
	}
	if c.JSON && c.Format != "" {
		return usageError("--json and --format: give one of them")
	}
	list, err := api.ContainerList(ctx, nil)
	if err != nil {
		return err
	}
	if err := f.resolve(ctx, api, list); err != nil {
		return err
	}
	last := c.Last
	if c.Latest {
		last = 1
	}
	rows := psRows(list, f, c.All || last > 0)
	if last >= 0 && last < len(rows) {
		rows = rows[:last]
	}
	if c.JSON {
		// Docker's shape (GET /containers/json), as the Docker-compatible API lists them.
		now := time.Now()
		out2 := make([]any, 0, len(rows))
		for _, s := range rows {
			out2 = append(out2, dockershape.Summary(&s, dockershape.StatusText(s.Status, s.Health, s.ExitCode, s.StartedAt, s.FinishedAt, now)))
		}
		return printJSON(out, out2)
	}
	if c.Quiet {
		for _, s := range rows {
			fmt.Fprintln(out.Stdout, psRow(s, c.NoTrunc).ID)
		}
		return nil
	}
	sizes, err := c.sizes(ctx, api, rows)
	if err != nil {
		return err
	}
	now := time.Now()
	ctxs := make([]rowContext, len(rows))
	for i, s := range rows {
		ctxs[i] = &psContext{trunc: !c.NoTrunc, s: s, now: now, size: sizes[s.ID]}
	}
	def := psTable
	if c.Size {
		def += "\\t{{.Size}}"
	}
	return formatRows(out, c.Format, def, &psContext{}, ctxs)
}

// sizes is SIZE for -s (or a --format naming .Size): the container's own disk bytes (its
// upper layer and log), then with its image's, as Docker's "2B (virtual 4.3MB)".
func (c *PsCmd) sizes(ctx context.Context, cl *client.Client, rows []api.ContainerSummary) (map[string]string, error) {
	if !c.Size && !strings.Contains(c.Format, ".Size") && c.Format != "json" {
		return nil, nil
	}
	du, err := cl.DiskUsage(ctx, true)
	if err != nil {
		return nil, err
	}
	imgs, err := cl.Images(ctx, true)
	if err != nil {
		return nil, err
	}
	own := map[string]int64{}
	for _, it := range du.Items {
		if it.Kind == "container" {
			own[it.Name] = it.SizeBytes
		}
	}
	out := map[string]string{}
	for _, s := range rows {
		n := own[short(s.ID)]
		var img int64
		for _, im := range imgs {
			if im.Digest == s.ImageDigest || sameImageName(im.Name, s.Image) {
				img = im.SizeBytes
				break
			}
		}
		out[s.ID] = fmt.Sprintf("%s (virtual %s)", humanSize(float64(n)), humanSize(float64(n+img)))
	}
	return out, nil
}

// psRows filters and orders the list: newest first; without all only running, paused and
// restarting containers (unless a status filter says otherwise).
func psRows(list map[string]api.ContainerSummary, f psFilter, all bool) []api.ContainerSummary {
	var rows []api.ContainerSummary
	for id, s := range list {
		if s.ID == "" {
			s.ID = id
		}
		if !all && !f.showsAll() && s.Status != "running" && s.Status != "paused" && s.Status != "restarting" {
			continue
		}
		if !f.match(s) {
			continue
		}
		rows = append(rows, s)
	}
	sortSlice(rows, func(a, b api.ContainerSummary) bool {
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return rows
}

// ---- inspect ----------------------------------------------------------------------

// InspectCmd is `inspect [-f TEMPLATE] [--type T] <obj>...`: a container, else an image,
// else a volume.
type InspectCmd struct {
	Format  string   `short:"f" name:"format" placeholder:"TEMPLATE" help:"Go template over each object ({{.State.ExitCode}})."`
	Type    string   `name:"type" enum:"container,image,volume," default:"" help:"Only look for this kind: container, image or volume."`
	Objects []string `arg:"" name:"object" help:"Containers, images or volumes."`
}

var inspectKinds = []struct{ kind, path, key string }{
	{"container", "/containers/inspect", "id"},
	{"image", "/images/inspect", "image"},
	{"volume", "/volumes/inspect", "name"},
}

// inspectFuncs are the listing template functions, with join over what JSON decodes (an
// inspect template walks decoded JSON, where a list is []any).
var inspectFuncs = func() template.FuncMap {
	m := maps.Clone(dockershape.TemplateFuncs)
	m["join"] = func(v []any, sep string) string { return strings.Join(toStrings(v), sep) }
	return m
}()

func toStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func (c *InspectCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	var tmpl *template.Template
	if c.Format != "" {
		t, err := template.New("format").Funcs(inspectFuncs).Option("missingkey=zero").Parse(c.Format)
		if err != nil {
			return usageError("-f %s: %v", c.Format, err)
		}
		tmpl = t
	}
	var objs []json.RawMessage
	failed := false
	for _, ref := range c.Objects {
		raw, err := c.find(ctx, api, ref)
		if err != nil {
			var ue *client.UnreachableError
			if errors.As(err, &ue) {
				return err
			}
			fmt.Fprintf(out.Stderr, "[error] %v\n", err)
			failed = true
			continue
		}
		objs = append(objs, raw)
	}
	if tmpl == nil {
		if objs == nil {
			objs = []json.RawMessage{}
		}
		if err := printJSON(out, objs); err != nil {
			return err
		}
	} else {
		for _, raw := range objs {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber() // large numbers print as digits, not 5.36870912e+08
			var v any
			if err := d.Decode(&v); err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := tmpl.Execute(&buf, v); err != nil {
				return fmt.Errorf("-f %s: %v", c.Format, err)
			}
			s := strings.ReplaceAll(buf.String(), "<no value>", "")
			fmt.Fprintln(out.Stdout, s)
		}
	}
	if failed {
		return &errdefs.ExitError{Code: 1, Silent: true}
	}
	return nil
}

func (c *InspectCmd) find(ctx context.Context, api *client.Client, ref string) (json.RawMessage, error) {
	for _, k := range inspectKinds {
		if c.Type != "" && c.Type != k.kind {
			continue
		}
		raw, err := c.inspect(ctx, api, k.kind, k.path, k.key, ref)
		if err == nil {
			return raw, nil
		}
		// Only "no such object" moves on to the next kind; anything else is the answer
		// (an ambiguous prefix must not turn into an image).
		if !errors.Is(err, errdefs.ErrNotFound) || c.Type != "" {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no such object: %s; \"minibox ps -a\", \"minibox images\" and \"minibox volume ls\" list them", ref)
}

// inspect is one object's answer; a container's in Docker's shape (with the top-level
// NetworkSettings.IPAddress that docker inspect printed before API 1.44, which scripts
// still read).
func (c *InspectCmd) inspect(ctx context.Context, cl *client.Client, kind, path, key, ref string) (json.RawMessage, error) {
	if kind != "container" {
		return cl.InspectRaw(ctx, path, key, ref)
	}
	in, err := cl.ContainerInspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	return json.Marshal(dockershape.InspectLegacy(in))
}

// ---- logs -------------------------------------------------------------------------

// logBound reads --since or --until (flag): the time, also put in wire in the form the
// daemon takes; zero and "" when v is empty.
func logBound(flag, v string, now time.Time, wire *string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := parseLogTime(v, now)
	if err != nil {
		return time.Time{}, usageError("%s %v", flag, err)
	}
	*wire = t.UTC().Format(time.RFC3339Nano)
	return t, nil
}

// LogsCmd is `logs [-f] [--tail N|all] [-t] [--since T] [--until T] <ctr>`.
type LogsCmd struct {
	Follow     bool   `short:"f" help:"Keep printing until the container exits."`
	Tail       string `short:"n" default:"all" placeholder:"N|all" help:"Only the last N lines."`
	Timestamps bool   `short:"t" help:"Prefix each line with its time (RFC 3339)."`
	Since      string `placeholder:"T" help:"Only after T: RFC 3339, Unix time, or a duration ago (10m)."`
	Until      string `placeholder:"T" help:"Only before T."`
	Details    bool   `help:"Prefix each line with the labels and variables --log-opt labels=/env= name."`
	Container  string `arg:"" name:"container" help:"The container."`
}

// parseLogTime reads RFC 3339 (or a date), Unix seconds (with a fraction), or a duration
// before now.
func parseLogTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eE") {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time; use RFC 3339 (2024-05-01T10:00:00Z), Unix seconds or a duration (10m)", s)
}

func (c *LogsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	o := client.LogsOptions{Follow: c.Follow, Timestamps: c.Timestamps, Details: c.Details}
	if c.Tail != "all" && c.Tail != "" {
		if n, err := strconv.Atoi(c.Tail); err != nil || n < 0 {
			return usageError("--tail %s: expected a number of lines or all", c.Tail)
		}
		o.Tail = c.Tail
	}
	now := time.Now()
	since, err := logBound("--since", c.Since, now, &o.Since)
	if err != nil {
		return err
	}
	until, err := logBound("--until", c.Until, now, &o.Until)
	if err != nil {
		return err
	}
	w := newLogWriter(out, c.Timestamps)
	w.details = c.Details
	write := func(l api.LogLine) error {
		// The same bounds here: a record on the edge is in or out the same way everywhere.
		if !since.IsZero() && l.Time.Before(since) {
			return nil
		}
		if !until.IsZero() && !l.Time.Before(until) {
			return nil
		}
		return w.write(l)
	}
	if c.Follow {
		return followLogs(ctx, cl, c.Container, o, write)
	}
	return cl.ContainerLogs(ctx, c.Container, o, write)
}

// logWriter writes records to their own stream; with timestamps (and details) each line,
// not each chunk, starts with the time (and attributes) of the chunk it begins in, as
// Docker prints them: time, then attributes, then the line.
type logWriter struct {
	out        *Output
	timestamps bool
	details    bool
	midLine    map[string]bool
}

func newLogWriter(out *Output, ts bool) *logWriter {
	return &logWriter{out: out, timestamps: ts, midLine: map[string]bool{}}
}

func (w *logWriter) write(l api.LogLine) error {
	dst := w.out.Stdout
	if l.Stream == "stderr" {
		dst = w.out.Stderr
	}
	if !w.timestamps && !w.details {
		_, err := io.WriteString(dst, l.Text)
		return err
	}
	prefix := ""
	if w.timestamps {
		prefix = l.Time.UTC().Format(time.RFC3339Nano) + " "
	}
	if w.details {
		prefix += l.Details + " "
	}
	var b strings.Builder
	text := l.Text
	for text != "" {
		if !w.midLine[l.Stream] {
			b.WriteString(prefix)
		}
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			b.WriteString(text)
			w.midLine[l.Stream] = true
			break
		}
		b.WriteString(text[:i+1])
		w.midLine[l.Stream] = false
		text = text[i+1:]
	}
	_, err := io.WriteString(dst, b.String())
	return err
}

// ---- stats ------------------------------------------------------------------------

// StatsCmd is `stats [-a] [--no-stream] [--json] [ctr...]`.
type StatsCmd struct {
	All        bool     `short:"a" help:"All containers (default: running ones)."`
	NoStream   bool     `name:"no-stream" help:"Print once and exit."`
	JSON       bool     `help:"Print JSON arrays of docker stats --format json objects (one array per line when streaming)."`
	Format     string   `placeholder:"TEMPLATE" help:"Go template per container ({{.Name}} {{.CPUPerc}} {{.MemUsage}}...), \"table TEMPLATE\" or json."`
	Containers []string `arg:"" optional:"" name:"container" help:"Containers (default: all running)."`
}

func (c *StatsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	ids := c.Containers
	if c.All && len(ids) == 0 {
		list, err := cl.ContainerList(ctx, nil)
		if err != nil {
			return err
		}
		for _, s := range psRows(list, psFilter{}, true) {
			ids = append(ids, s.ID)
		}
		if len(ids) == 0 {
			return c.print(out, nil, true)
		}
	}
	first := true
	return cl.ContainerStats(ctx, ids, !c.NoStream, func(st []api.Stats) error {
		err := c.print(out, st, first)
		first = false
		return err
	})
}

func (c *StatsCmd) print(out *Output, st []api.Stats, first bool) error {
	if st == nil {
		st = []api.Stats{}
	}
	sortSlice(st, func(a, b api.Stats) bool { return a.Name < b.Name })
	if c.JSON {
		// Docker's docker stats --format json fields, as an array per sample.
		rows := make([]*statsContext, len(st))
		for i, s := range st {
			rows[i] = &statsContext{s: s}
		}
		if c.NoStream {
			return printJSON(out, rows)
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out.Stdout, "%s\n", b)
		return err
	}
	if out.Terminal() && !c.NoStream {
		fmt.Fprint(out.Stdout, "\x1b[2J\x1b[H") // redraw in place
	} else if !first {
		fmt.Fprintln(out.Stdout)
	}
	rows := make([]rowContext, len(st))
	for i, s := range st {
		rows[i] = &statsContext{s: s}
	}
	return formatRows(out, c.Format, statsTable, &statsContext{}, rows)
}

const statsTable = "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}"

// statsContext is one container's figures for --format, with Docker's field names.
type statsContext struct {
	header bool
	s      api.Stats
}

func (c *statsContext) setHeader() { c.header = true }

func (c *statsContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *statsContext) Container() string { return c.pick("CONTAINER", short(c.s.ID)) }
func (c *statsContext) ID() string        { return c.pick("CONTAINER ID", short(c.s.ID)) }
func (c *statsContext) Name() string      { return c.pick("NAME", c.s.Name) }
func (c *statsContext) CPUPerc() string {
	return c.pick("CPU %", fmt.Sprintf("%.2f%%", c.s.CPUPercent))
}
func (c *statsContext) MemUsage() string {
	limit := "-"
	if c.s.MemoryLimit > 0 {
		limit = diskSize(int64(c.s.MemoryLimit))
	}
	return c.pick("MEM USAGE / LIMIT", diskSize(int64(c.s.MemoryUsage))+" / "+limit)
}
func (c *statsContext) MemPerc() string {
	return c.pick("MEM %", fmt.Sprintf("%.2f%%", c.s.MemoryPercent))
}
func (c *statsContext) NetIO() string {
	return c.pick("NET I/O", diskSize(int64(c.s.NetInput))+" / "+diskSize(int64(c.s.NetOutput)))
}
func (c *statsContext) BlockIO() string {
	return c.pick("BLOCK I/O", diskSize(int64(c.s.BlockInput))+" / "+diskSize(int64(c.s.BlockOutput)))
}
func (c *statsContext) PIDs() string                 { return c.pick("PIDS", strconv.FormatUint(c.s.Pids, 10)) }
func (c *statsContext) MarshalJSON() ([]byte, error) { return marshalFields(c) }

// printJSON is out.JSON without HTML escaping: "0.0.0.0:80->80/tcp" stays readable.
func printJSON(out *Output, v any) error {
	enc := json.NewEncoder(out.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// followGrace is how long a follow may lag behind the container's exit before the CLI
// stops following and reads the rest once.
const followGrace = 2 * time.Second

// followLogs follows id's log (o.Follow set) until the daemon ends the stream. It also
// waits for the container to stop: should the stream not end within followGrace of that,
// it stops following and reads what it has not yet written, once. A daemon that misses
// the end of a container must not hang `logs -f` or `start -a`.
func followLogs(ctx context.Context, cl *client.Client, id string, o client.LogsOptions, write func(api.LogLine) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last *api.LogLine
	var count atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- cl.ContainerLogs(lctx, id, o, func(l api.LogLine) error {
			last = &l
			count.Add(1)
			return write(l)
		})
	}()
	exited := make(chan struct{})
	go func() {
		if _, err := cl.ContainerWait(lctx, id, client.WaitNotRunning); err == nil {
			close(exited)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-exited:
	}
	for seen := count.Load(); ; {
		select {
		case err := <-done:
			return err
		case <-time.After(followGrace):
		}
		if now := count.Load(); now != seen {
			seen = now // still draining
			continue
		}
		break
	}
	cancel()
	<-done
	// Catch up: everything after the last record written (or the tail, if none was).
	o.Follow = false
	tail := o.Tail
	o.Tail = ""
	var all []api.LogLine
	if err := cl.ContainerLogs(ctx, id, o, func(l api.LogLine) error { all = append(all, l); return nil }); err != nil {
		return err
	}
	start := 0
	if last != nil {
		for i := len(all) - 1; i >= 0; i-- {
			if all[i] == *last {
				start = i + 1
				break
			}
		}
	} else if n, err := strconv.Atoi(tail); err == nil && n < len(all) {
		start = len(all) - n
	}
	for _, l := range all[start:] {
		if err := write(l); err != nil {
			return err
		}
	}
	return nil
}
