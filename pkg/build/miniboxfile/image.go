package miniboxfile

import (
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/oci"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// healthConfig is Docker's Healthcheck (durations in ns), kept in the config's extension.
type healthConfig struct {
	Test        []string      `json:"Test"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

type configWithHealth struct {
	ocispec.ImageConfig
	Healthcheck json.RawMessage `json:"Healthcheck,omitempty"`
	Shell       []string        `json:"Shell,omitempty"`
}

// imageConfig is ocispec.Image plus Docker's Healthcheck, which the OCI struct lacks.
type imageConfig struct {
	Created *time.Time `json:"created,omitempty"`
	ocispec.Platform
	Config  configWithHealth  `json:"config,omitempty"`
	RootFS  ocispec.RootFS    `json:"rootfs"`
	History []ocispec.History `json:"history,omitempty"`
}

// Config is the image's config blob: the base's config with the file's settings over it
// (the target block's ENV, USER and WORKDIR; ENTRYPOINT, START, EXPOSE, LABEL, VOLUME,
// HEALTHCHECK, STOPSIGNAL), labels set over the image's, the image's diffIDs, and its
// history (the base's, then one entry per block of the image, empty reporting a block
// that added nothing).
func (pl *Plan) Config(created time.Time, diffIDs []digest.Digest, labels map[string]string, empty func(*graph.Block) bool) ([]byte, error) {
	p, base := pl.Graph, pl.base
	cfg := imageConfig{Created: &created, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	cfg.Platform = base.Config.Platform
	if cfg.OS == "" || base.Digest == "scratch" || len(base.Layers) == 0 {
		hp := oci.HostPlatform()
		cfg.OS, cfg.Architecture, cfg.Variant = hp.OS, hp.Architecture, hp.Variant
	}
	c := base.Config.Config
	c.Env = nil
	st, err := finalState(p, base, c)
	if err != nil {
		return nil, err
	}
	c.Env = append([]string(nil), st.Env...)
	c.User = st.User
	if st.Workdir != "" && (st.Workdir != "/" || c.WorkingDir != "") {
		c.WorkingDir = st.Workdir
	}
	shell := fileShell(p.File, base)
	if ep := p.File.Entrypoint; ep != nil {
		c.Entrypoint = ep.Argv(shell)
		if p.File.Start == nil {
			c.Cmd = nil // Docker's rule: a new ENTRYPOINT drops an inherited CMD
		}
	}
	if cmd := p.File.Start.Argv(shell); cmd != nil {
		c.Cmd = cmd
	}
	if w := p.File.StopSignal; w != nil {
		c.StopSignal = w.Text
	}
	topEnv := graph.Env(c.Env)
	if c.ExposedPorts, err = fileExposedPorts(p, c.ExposedPorts, topEnv); err != nil {
		return nil, err
	}
	if c.Labels, err = fileLabels(p, c.Labels, topEnv); err != nil {
		return nil, err
	}
	c.Volumes = fileVolumes(p, c.Volumes)
	if len(labels) > 0 {
		c.Labels = maps.Clone(c.Labels)
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		maps.Copy(c.Labels, labels)
	}
	cfg.Config = configWithHealth{ImageConfig: c, Healthcheck: base.Health, Shell: shell}
	cfg.History = history(p, base, created, empty)
	if h := p.File.Health; h != nil {
		hc := healthConfig{Test: h.Test}
		if h.Test[0] != "NONE" {
			hc.Interval, hc.Timeout, hc.StartPeriod, hc.Retries = h.Interval, h.Timeout, h.StartPeriod, h.Retries
		}
		cfg.Config.Healthcheck, _ = json.Marshal(hc)
	}
	return json.Marshal(cfg)
}

// history is Docker's history of the image: the base's entries, then one per
// block of the image, created_by naming the block and its instructions (an ENV-only block
// is an empty layer, as Docker marks config-only steps). The base's entries keep what
// they did but not when: the image's digest depends on the base's layers and steps, not
// on when a base was imported into this data root.
func history(p *graph.Plan, base *graph.Base, epoch time.Time, empty func(*graph.Block) bool) []ocispec.History {
	var out []ocispec.History
	if base != nil && len(base.Raw) > 0 {
		var img struct {
			History []ocispec.History `json:"history"`
		}
		json.Unmarshal(base.Raw, &img)
		for _, h := range img.History {
			h.Created = nil
			out = append(out, h)
		}
	}
	for _, bp := range p.Image {
		var steps []string
		for _, ip := range bp.Instrs {
			steps = append(steps, instrText(ip))
		}
		out = append(out, ocispec.History{Created: &epoch, CreatedBy: "BLOCK " + bp.Def.Name + ": " + strings.Join(steps, "; "),
			Comment: "minibox build", EmptyLayer: empty(bp)})
	}
	return out
}

// instrText is an instruction as written: its keyword and arguments.
func instrText(ip graph.Instr) string {
	in := ip.In
	if in.Raw != "" && in.Keyword == "RUN" {
		return "RUN " + in.Raw
	}
	var b strings.Builder
	b.WriteString(in.Keyword)
	if in.Chown != "" {
		b.WriteString(" --chown=" + in.Chown)
	}
	if in.Chmod != "" {
		b.WriteString(" --chmod=" + in.Chmod)
	}
	if in.From != "" {
		b.WriteString(" FROM=" + in.From)
	}
	for _, a := range ip.Args {
		b.WriteString(" " + a)
	}
	if len(ip.Args) == 0 {
		for _, kv := range in.KVs {
			b.WriteString(" " + kv.Key + "=" + kv.Value)
		}
		if len(in.KVs) == 0 {
			for _, w := range in.Args {
				b.WriteString(" " + w.Text)
			}
		}
	}
	return b.String()
}

// fileShell is the shell of shell forms: the file's SHELL, else the base image's.
func fileShell(f *parse.File, base *graph.Base) []string {
	if len(f.Shell) > 0 {
		return f.Shell
	}
	if base == nil || len(base.Raw) == 0 {
		return nil
	}
	var img struct {
		Config struct {
			Shell []string `json:"Shell"`
		} `json:"config"`
	}
	json.Unmarshal(base.Raw, &img)
	return img.Config.Shell
}

// finalState is the environment, user and workdir the image keeps: the target block's,
// or (an image of the base and top-level settings only) the base's with the file's ENV.
func finalState(p *graph.Plan, base *graph.Base, c ocispec.ImageConfig) (graph.State, error) {
	if p.Target != nil {
		return p.Target.End, nil
	}
	st := graph.State{Env: append(graph.Env(nil), base.Env()...)}
	if len(st.Env) == 0 {
		st.Env = append(graph.Env(nil), DefaultEnv...)
	}
	for _, in := range p.File.Env {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, st.Env, p.Args)
			if err != nil {
				return st, posErr(kv.Pos, err)
			}
			st.Env = st.Env.Set(kv.Key, v)
		}
	}
	st.User, st.Workdir = c.User, c.WorkingDir
	return st, nil
}

// fileExposedPorts adds the file's EXPOSE ports to the inherited ones.
func fileExposedPorts(p *graph.Plan, inherited map[string]struct{}, env graph.Env) (map[string]struct{}, error) {
	if len(p.File.Ports) == 0 {
		return inherited, nil
	}
	ports := map[string]struct{}{}
	for k := range inherited {
		ports[k] = struct{}{}
	}
	for _, w := range p.File.Ports {
		s, err := expand(w.Text, env, p.Args)
		if err != nil {
			return nil, posErr(w.Pos, err)
		}
		if err := parse.CheckPort(s); err != nil {
			return nil, posErr(w.Pos, err)
		}
		if !strings.Contains(s, "/") {
			s += "/tcp"
		}
		ports[s] = struct{}{}
	}
	return ports, nil
}

// fileLabels sets the file's LABELs over the inherited ones.
func fileLabels(p *graph.Plan, inherited map[string]string, env graph.Env) (map[string]string, error) {
	if len(p.File.Labels) == 0 {
		return inherited, nil
	}
	labels := map[string]string{}
	for k, v := range inherited {
		labels[k] = v
	}
	for _, in := range p.File.Labels {
		for _, kv := range in.KVs {
			v, err := expand(kv.Value, env, p.Args)
			if err != nil {
				return nil, posErr(kv.Pos, err)
			}
			labels[kv.Key] = v
		}
	}
	return labels, nil
}

// fileVolumes adds the VOLUMEs of the image's blocks to the inherited ones.
func fileVolumes(p *graph.Plan, vols map[string]struct{}) map[string]struct{} {
	for _, bp := range p.Image {
		for _, ip := range bp.Instrs {
			if ip.In.Keyword != "VOLUME" {
				continue
			}
			if vols == nil {
				vols = map[string]struct{}{}
			}
			for _, v := range ip.Args {
				vols[v] = struct{}{}
			}
		}
	}
	return vols
}
