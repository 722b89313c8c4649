package minibox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

func sortSlice[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}

// ---- ps ---------------------------------------------------------------------------

// PsCmd is `ps [-a] [-q] [--json] [--no-trunc] [--filter k=v]...`.
type PsCmd struct {
	All     bool     `short:"a" help:"Show all containers (default: running, paused, restarting)."`
	Quiet   bool     `short:"q" help:"Print only IDs."`
	JSON    bool     `help:"Print a JSON array of the original's rows."`
	NoTrunc bool     `name:"no-trunc" help:"Do not shorten IDs and commands."`
	Filter  []string `short:"f" sep:"none" placeholder:"KEY=VAL" help:"Filter: name=, status=, label=KEY[=VAL], project= (repeatable)."`
}

// psFilter is --filter, applied here too so that the result does not depend on which
// filters the daemon knows.
type psFilter struct {
	names, statuses, projects []string
	labels                    []string
}

func parsePsFilters(fs []string) (psFilter, url.Values, error) {
	var f psFilter
	q := url.Values{}
	for _, kv := range fs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, nil, usageError("--filter %s: expected KEY=VALUE (name, status, label, project)", kv)
		}
		switch k {
		case "name":
			f.names = append(f.names, v)
		case "status":
			switch v {
			case "created", "running", "paused", "restarting", "exited":
			default:
				return f, nil, usageError("--filter status=%s: use created, running, paused, restarting or exited", v)
			}
			f.statuses = append(f.statuses, v)
		case "label":
			f.labels = append(f.labels, v)
		case "project":
			f.projects = append(f.projects, v)
		default:
			return f, nil, usageError("--filter %s: unknown key %q; use name, status, label or project", kv, k)
		}
		q.Add(k, v)
	}
	return f, q, nil
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

func (f psFilter) match(s api.ContainerSummary) bool {
	if !anyOf(f.names, func(n string) bool { return strings.Contains(s.Name, n) }) {
		return false
	}
	if !anyOf(f.statuses, func(st string) bool { return s.Status == st }) {
		return false
	}
	if !anyOf(f.projects, func(p string) bool { return s.Project == p || s.Labels["minibox.compose.project"] == p }) {
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

// psCommand is COMMAND: cut to 22 characters plus "..." past 25.
func psCommand(cmd []string, noTrunc bool) string {
	s := strings.Join(cmd, " ")
	if !noTrunc && len([]rune(s)) > 25 {
		s = string([]rune(s)[:22]) + "..."
	}
	return s
}

// psPorts is PORTS: "0.0.0.0:8080->80/tcp" sorted, "-" if none.
func psPorts(s api.ContainerSummary) string {
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
	if len(ps) == 0 {
		return "-"
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}

// psRow is the original's string row (also the table's cells).
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
	return api.PSRow{ID: id, Name: s.Name, Image: s.Image, Command: psCommand(s.Command, noTrunc),
		Created: created, Status: s.Status, Health: health, Exit: exit, Ports: psPorts(s)}
}

func (c *PsCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	f, q, err := parsePsFilters(c.Filter)
	if err != nil {
		return err
	}
	list, err := api.ContainerList(ctx, q)
	if err != nil {
		return err
	}
	rows := psRows(list, f, c.All)
	if c.JSON {
		out2 := make([]any, 0, len(rows))
		for _, s := range rows {
			out2 = append(out2, psRow(s, c.NoTrunc))
		}
		return printJSON(out, out2)
	}
	if c.Quiet {
		for _, s := range rows {
			fmt.Fprintln(out.Stdout, psRow(s, c.NoTrunc).ID)
		}
		return nil
	}
	if len(rows) == 0 {
		if c.All {
			fmt.Fprintln(out.Stdout, "No containers found.")
		} else {
			fmt.Fprintln(out.Stdout, "No active containers found. Use -a to see all.")
		}
		return nil
	}
	var cells [][]string
	for _, s := range rows {
		r := psRow(s, c.NoTrunc)
		cells = append(cells, []string{r.ID, r.Image, r.Command, r.Created, r.Status, r.Health, r.Exit, r.Ports, r.Name})
	}
	out.Table([]string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "HEALTH", "EXIT", "PORTS", "NAMES"}, cells)
	return nil
}

// psRows filters and orders the list: newest first; without all only running, paused and
// restarting containers (unless a status filter says otherwise).
func psRows(list map[string]api.ContainerSummary, f psFilter, all bool) []api.ContainerSummary {
	var rows []api.ContainerSummary
	for id, s := range list {
		if s.ID == "" {
			s.ID = id
		}
		if !all && len(f.statuses) == 0 && s.Status != "running" && s.Status != "paused" && s.Status != "restarting" {
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

// templateFuncs are Docker's inspect template helpers.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  func(v []any, sep string) string { return strings.Join(toStrings(v), sep) },
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"println": fmt.Sprintln,
}

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
		t, err := template.New("format").Funcs(templateFuncs).Option("missingkey=zero").Parse(c.Format)
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
		raw, err := api.InspectRaw(ctx, k.path, k.key, ref)
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

// ---- logs -------------------------------------------------------------------------

// LogsCmd is `logs [-f] [--tail N|all] [-t] [--since T] [--until T] <ctr>`.
type LogsCmd struct {
	Follow     bool   `short:"f" help:"Keep printing until the container exits."`
	Tail       string `short:"n" default:"all" placeholder:"N|all" help:"Only the last N lines."`
	Timestamps bool   `short:"t" help:"Prefix each line with its time (RFC 3339)."`
	Since      string `placeholder:"T" help:"Only after T: RFC 3339, Unix time, or a duration ago (10m)."`
	Until      string `placeholder:"T" help:"Only before T."`
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
	o := client.LogsOptions{Follow: c.Follow, Timestamps: c.Timestamps}
	if c.Tail != "all" && c.Tail != "" {
		if n, err := strconv.Atoi(c.Tail); err != nil || n < 0 {
			return usageError("--tail %s: expected a number of lines or all", c.Tail)
		}
		o.Tail = c.Tail
	}
	now := time.Now()
	var since, until time.Time
	var err error
	if c.Since != "" {
		if since, err = parseLogTime(c.Since, now); err != nil {
			return usageError("--since %v", err)
		}
		o.Since = since.UTC().Format(time.RFC3339Nano)
	}
	if c.Until != "" {
		if until, err = parseLogTime(c.Until, now); err != nil {
			return usageError("--until %v", err)
		}
		o.Until = until.UTC().Format(time.RFC3339Nano)
	}
	w := newLogWriter(out, c.Timestamps)
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

// logWriter writes records to their own stream; with timestamps each line (not each
// chunk) starts with the time of the chunk it begins in.
type logWriter struct {
	out        *Output
	timestamps bool
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
	if !w.timestamps {
		_, err := io.WriteString(dst, l.Text)
		return err
	}
	stamp := l.Time.UTC().Format(time.RFC3339Nano) + " "
	var b strings.Builder
	text := l.Text
	for text != "" {
		if !w.midLine[l.Stream] {
			b.WriteString(stamp)
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
	JSON       bool     `help:"Print JSON arrays (one per line when streaming)."`
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
		if c.NoStream {
			return printJSON(out, st)
		}
		b, err := json.Marshal(st)
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
	var rows [][]string
	for _, s := range st {
		limit := "-"
		if s.MemoryLimit > 0 {
			limit = diskSize(int64(s.MemoryLimit))
		}
		pids := strconv.FormatUint(s.Pids, 10)
		rows = append(rows, []string{short(s.ID), s.Name,
			fmt.Sprintf("%.2f%%", s.CPUPercent),
			diskSize(int64(s.MemoryUsage)) + " / " + limit,
			fmt.Sprintf("%.2f%%", s.MemoryPercent),
			diskSize(int64(s.NetInput)) + " / " + diskSize(int64(s.NetOutput)),
			diskSize(int64(s.BlockInput)) + " / " + diskSize(int64(s.BlockOutput)),
			pids})
	}
	out.Table([]string{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}, rows)
	return nil
}

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
