package minibox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"golang.org/x/term"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/api/dockershape"
)

// TopCmd is `top <ctr>`: the container's processes, ps -ef's columns.
type TopCmd struct {
	Container string `arg:"" name:"container" help:"A running container."`
}

func (c *TopCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	t, err := cl.ContainerTop(ctx, c.Container)
	if err != nil {
		return err
	}
	out.Table(t.Titles, t.Processes)
	return nil
}

// DiffCmd is `diff <ctr>`: what the container changed in its filesystem (A, C, D).
type DiffCmd struct {
	Container string `arg:"" name:"container" help:"The container."`
}

func (c *DiffCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	changes, err := cl.ContainerChanges(ctx, c.Container)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		fmt.Fprintf(out.Stdout, "%s %s\n", ch.Kind, ch.Path)
	}
	return nil
}

// ExportCmd is `export [-o FILE] <ctr>`: the container's filesystem as a tar.
type ExportCmd struct {
	Output    string `short:"o" placeholder:"FILE" help:"Write to FILE instead of stdout."`
	Container string `arg:"" name:"container" help:"The container."`
}

func (c *ExportCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	if c.Output == "" {
		if f, ok := out.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return usageError("refusing to write a tar to a terminal; use -o FILE or redirect stdout")
		}
		return cl.ContainerExport(ctx, c.Container, out.Stdout)
	}
	// Written beside the target and renamed: a failed export leaves no half tar.
	tmp, err := os.CreateTemp(filepath.Dir(c.Output), "."+filepath.Base(c.Output)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := cl.ContainerExport(ctx, c.Container, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.Output)
}

// HistoryCmd is `history [--no-trunc] [-q] [-H=false] <image>`.
type HistoryCmd struct {
	NoTrunc bool   `name:"no-trunc" help:"Show whole IDs and commands."`
	Quiet   bool   `short:"q" help:"Only the IDs."`
	Human   bool   `short:"H" default:"true" negatable:"" help:"Sizes and times for people (--no-human: bytes and RFC 3339)."`
	Format  string `placeholder:"TEMPLATE" help:"Go template per layer ({{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}), \"table TEMPLATE\" or json."`
	Image   string `arg:"" name:"image" help:"The image."`
}

func (c *HistoryCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	h, err := cl.ImageHistory(ctx, c.Image)
	if err != nil {
		return err
	}
	now := time.Now()
	if c.Format != "" && !c.Quiet {
		rows := make([]rowContext, len(h))
		for i, it := range h {
			rows[i] = &historyContext{it: it, now: now, trunc: !c.NoTrunc, human: c.Human}
		}
		return formatRows(out, c.Format, "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}", &historyContext{}, rows)
	}
	var rows [][]string
	for _, it := range h {
		id := it.ID
		if !c.NoTrunc && strings.HasPrefix(id, "sha256:") {
			id = strings.TrimPrefix(id, "sha256:")[:12]
		}
		if c.Quiet {
			fmt.Fprintln(out.Stdout, id)
			continue
		}
		by := strings.Join(strings.Fields(it.CreatedBy), " ")
		if !c.NoTrunc && len(by) > 45 {
			by = by[:44] + "…"
		}
		created, size := "", strconv.FormatInt(it.Size, 10)
		if c.Human {
			if !it.Created.IsZero() {
				created = dockershape.Since(it.Created, now)
			}
			size = humanSize(float64(it.Size))
		} else if !it.Created.IsZero() {
			created = it.Created.Format(time.RFC3339)
		}
		rows = append(rows, []string{id, created, by, size, it.Comment})
	}
	if !c.Quiet {
		out.Table([]string{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}, rows)
	}
	return nil
}

// EventsCmd is `events [--since T] [--until T] [-f key=value]... [--format json]`.
type EventsCmd struct {
	Since  string   `placeholder:"T" help:"Replay events from T (RFC 3339, Unix time or a duration ago) from the daemon's recent memory."`
	Until  string   `placeholder:"T" help:"Stop at T."`
	Filter []string `short:"f" sep:"none" placeholder:"KEY=VALUE" help:"type, event, container, image, network, volume or label (repeatable)."`
	Format string   `placeholder:"TEMPLATE" help:"json (one JSON object a line), or a Go template per event over Docker's fields ({{.Type}} {{.Action}} {{.Status}} {{.ID}} {{.From}} {{.Actor.Attributes.name}} {{.Time}} {{.TimeNano}} {{.Scope}})."`
}

func (c *EventsCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	var tmpl *template.Template
	if c.Format != "" && c.Format != "json" && c.Format != "{{json .}}" {
		t, err := template.New("format").Funcs(dockershape.TemplateFuncs).Parse(
			strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(c.Format))
		if err != nil {
			return usageError("--format: %v", err)
		}
		tmpl = t
	}
	o := client.EventsOptions{Filters: c.Filter}
	now := time.Now()
	if _, err := logBound("--since", c.Since, now, &o.Since); err != nil {
		return err
	}
	if _, err := logBound("--until", c.Until, now, &o.Until); err != nil {
		return err
	}
	for _, f := range c.Filter {
		if k, v, ok := strings.Cut(f, "="); !ok || k == "" || v == "" {
			return usageError("--filter %s: expected key=value", f)
		}
	}
	return cl.Events(ctx, o, func(ev api.Event) error {
		if tmpl != nil {
			if err := tmpl.Execute(out.Stdout, dockerEvent(ev)); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			_, err := fmt.Fprintln(out.Stdout)
			return err
		}
		if c.Format != "" {
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out.Stdout, "%s\n", b)
			return err
		}
		// Docker's line: time type action id (attributes).
		var attrs []string
		keys := make([]string, 0, len(ev.Attributes))
		for k := range ev.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			attrs = append(attrs, k+"="+ev.Attributes[k])
		}
		_, err := fmt.Fprintf(out.Stdout, "%s %s %s %s (%s)\n", ev.Time.Local().Format("2006-01-02T15:04:05.000000000-07:00"),
			ev.Type, ev.Action, ev.ID, strings.Join(attrs, ", "))
		return err
	})
}

// UpdateCmd is `update [flags] <ctr>...`: limits and restart policy of containers, live.
type UpdateCmd struct {
	Memory     string    `short:"m" placeholder:"SIZE" help:"Memory limit (0: none)."`
	MemorySwap negString `name:"memory-swap" placeholder:"SIZE" help:"Memory plus swap (-1: unlimited swap)."`
	CPUs       string    `name:"cpus" placeholder:"N" help:"Number of CPUs (1.5)."`
	CPUShares  *int64    `name:"cpu-shares" short:"c" placeholder:"N" help:"Relative CPU weight."`
	CPUQuota   *int64    `name:"cpu-quota" placeholder:"USEC" help:"CPU time per period."`
	CPUPeriod  *int64    `name:"cpu-period" placeholder:"USEC" help:"CPU period."`
	CpusetCpus *string   `name:"cpuset-cpus" placeholder:"LIST" help:"CPUs allowed (0-3,5)."`
	PidsLimit  *int64    `name:"pids-limit" placeholder:"N" help:"Process limit (-1: none)."`
	Restart    *string   `placeholder:"POLICY" help:"no, on-failure[:N], always or unless-stopped."`
	Containers []string  `arg:"" name:"container" help:"Containers to update."`
}

func (c *UpdateCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	req := &api.UpdateRequest{CPUShares: c.CPUShares, CPUQuota: c.CPUQuota, CPUPeriod: c.CPUPeriod,
		CpusetCpus: c.CpusetCpus, PidsLimit: c.PidsLimit, Restart: c.Restart}
	if c.Memory != "" {
		n, err := sizeFlag("--memory", c.Memory, false)
		if err != nil {
			return err
		}
		req.MemoryBytes = &n
	}
	if c.MemorySwap != "" {
		n, err := sizeFlag("--memory-swap", string(c.MemorySwap), true)
		if err != nil {
			return err
		}
		req.MemorySwap = &n
	}
	if c.CPUs != "" {
		f, err := strconv.ParseFloat(c.CPUs, 64)
		if err != nil || f < 0 {
			return usageError("--cpus %s: expected a number of CPUs such as 1.5", c.CPUs)
		}
		req.CPUs = &f
	}
	if *req == (api.UpdateRequest{}) {
		return usageError("nothing to update: give at least one of --memory, --memory-swap, --cpus, --cpu-shares, --cpu-quota, --cpu-period, --cpuset-cpus, --pids-limit, --restart")
	}
	return eachRef(out, c.Containers, func(ref string) error {
		res, err := cl.ContainerUpdate(ctx, ref, req)
		if err != nil {
			return err
		}
		for _, w := range res.Warnings {
			out.Warn("%s", w)
		}
		return nil
	})
}

// historyContext is one layer of history for --format, with Docker's field names.
type historyContext struct {
	header       bool
	it           api.HistoryItem
	now          time.Time
	trunc, human bool
}

func (c *historyContext) setHeader() { c.header = true }

func (c *historyContext) pick(title, v string) string {
	if c.header {
		return title
	}
	return v
}

func (c *historyContext) ID() string {
	id := c.it.ID
	if c.trunc && strings.HasPrefix(id, "sha256:") {
		id = strings.TrimPrefix(id, "sha256:")[:12]
	}
	return c.pick("IMAGE", id)
}
func (c *historyContext) CreatedSince() string {
	if c.it.Created.IsZero() {
		return c.pick("CREATED", "")
	}
	if !c.human {
		return c.pick("CREATED", c.it.Created.Format(time.RFC3339))
	}
	return c.pick("CREATED", dockershape.Since(c.it.Created, c.now))
}
func (c *historyContext) CreatedAt() string {
	if c.it.Created.IsZero() {
		return c.pick("CREATED AT", "")
	}
	return c.pick("CREATED AT", c.it.Created.Format(time.RFC3339))
}
func (c *historyContext) CreatedBy() string {
	by := strings.Join(strings.Fields(c.it.CreatedBy), " ")
	if c.trunc && len(by) > 45 {
		by = by[:44] + "…"
	}
	return c.pick("CREATED BY", by)
}
func (c *historyContext) Size() string {
	if !c.human {
		return c.pick("SIZE", strconv.FormatInt(c.it.Size, 10))
	}
	return c.pick("SIZE", humanSize(float64(c.it.Size)))
}
func (c *historyContext) Comment() string              { return c.pick("COMMENT", c.it.Comment) }
func (c *historyContext) MarshalJSON() ([]byte, error) { return marshalFields(c) }

// eventFields is an event as Docker's events --format templates see it (its events.Message).
type eventFields struct {
	Status, ID, From, Type, Action, Scope string
	Actor                                 struct {
		ID         string
		Attributes map[string]string
	}
	Time, TimeNano int64
}

func dockerEvent(ev api.Event) eventFields {
	f := eventFields{Status: ev.Action, ID: ev.ID, From: ev.Attributes["image"], Type: ev.Type, Action: ev.Action,
		Scope: "local", Time: ev.Time.Unix(), TimeNano: ev.Time.UnixNano()}
	f.Actor.ID, f.Actor.Attributes = ev.ID, ev.Attributes
	return f
}
