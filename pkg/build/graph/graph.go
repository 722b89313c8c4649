// Package graph is the build graph: what a frontend (a MiniBox file, a Dockerfile) makes
// of its file and what the builder runs. A Plan is blocks, each one layer, in the order of
// the file; a Block names the blocks it stacks on (Closure), copies from (Froms) and waits
// for (Deps), and holds its instructions with their arguments expanded and the State
// (ENV, USER, WORKDIR) in force before each.
//
// It is data only: parsing, planning, running blocks and caching their layers belong to
// the frontends and the builder.
package graph

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/minibox/minibox/pkg/build/parse"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Env is an ordered environment: setting a key keeps its first position, so the
// image's Env order is stable across builds.
type Env []string

// Get is k's value.
func (e Env) Get(k string) (string, bool) {
	for _, kv := range e {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v, true
		}
	}
	return "", false
}

// Set returns e with k set to v, in k's first position if it has one.
func (e Env) Set(k, v string) Env {
	for i, kv := range e {
		if key, _, _ := strings.Cut(kv, "="); key == k {
			out := append(Env(nil), e...)
			out[i] = k + "=" + v
			return out
		}
	}
	return append(append(Env(nil), e...), k+"="+v)
}

// Merge returns e with each of o's settings set over it.
func (e Env) Merge(o Env) Env {
	for _, kv := range o {
		k, v, _ := strings.Cut(kv, "=")
		e = e.Set(k, v)
	}
	return e
}

// State is what is in force at a point of a block: ENV, USER, WORKDIR.
type State struct {
	Env     Env
	User    string
	Workdir string
}

// Instr is one instruction with its arguments expanded and the state before it.
type Instr struct {
	In    *parse.Instr
	Args  []string // expanded (COPY: sources then destination; WORKDIR, USER: one)
	State State
	Step  *Step // a Dockerfile's RUN or ADD: what it runs and mounts
}

// Block is a block ready to schedule: its base, its NEED closure, and every
// instruction expanded.
type Block struct {
	Def      *parse.Block
	Index    int // file order
	Base     *Base
	Closure  []*Block // NEED closure, dependency order, not including this block
	Froms    []*Block // COPY FROM= blocks, in instruction order
	Deps     []string // NEED + BNEED names, for the scheduler
	Start    State
	End      State
	Instrs   []Instr
	AutoDeps bool // AUTO-DEPS present
}

// Plan holds the whole build: blocks to build (file order) and the target.
type Plan struct {
	File   *parse.File
	Args   map[string]string // ARG defaults overridden by build args
	Blocks []*Block          // the ones this build runs, file order
	ByName map[string]*Block
	Target *Block   // nil when the file has no block
	Image  []*Block // target's NEED closure then the target: the image's layers
}

// Base is a resolved base image (BASE, FROM): what the key hashes, what the image inherits, and the
// unpacked layers build containers stack on.
type Base struct {
	Ref     string
	Digest  string // manifest digest; a tarball's content digest; "scratch"
	Config  ocispec.Image
	Health  json.RawMessage // the base config's Healthcheck (Docker's extension), if any
	Raw     []byte          // the base's config blob as stored
	Layers  []ocispec.Descriptor
	DiffIDs []digest.Digest
	Dirs    []string // top first
	Built   bool     // a tarball's layer, written by this builder: indexed like block layers
}

// Env is the base image's environment (nil for none).
func (b *Base) Env() []string {
	if b == nil {
		return nil
	}
	return b.Config.Config.Env
}

// Step is what a Dockerfile's RUN, COPY or ADD adds to its block's key and needs to run.
type Step struct {
	Argv    []string `json:"argv,omitempty"`
	Env     []string `json:"env,omitempty"`
	Network string   `json:"network,omitempty"`
	Mounts  []Mount  `json:"mounts,omitempty"`
	Scripts []Script `json:"scripts,omitempty"`
	Unpack  bool     `json:"unpack,omitempty"`
	// ADD's downloads: the URLs, and the digest the one URL must have (--checksum).
	URLs     []string `json:"urls,omitempty"`
	Checksum string   `json:"checksum,omitempty"`
	// COPY and ADD heredocs: files written from the Dockerfile itself.
	Inline []Script `json:"inline,omitempty"`
}

// Script is a heredoc run as a script (it starts with #!), mounted at /dev/pipes.
type Script struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// Mount is a RUN --mount.
type Mount struct {
	Type     string  `json:"type"`
	Target   string  `json:"target"`
	Source   string  `json:"source,omitempty"`
	From     string  `json:"from,omitempty"` // block name of the stage, "" = context
	ReadOnly bool    `json:"ro,omitempty"`
	CacheID  string  `json:"id,omitempty"`
	Mode     *uint64 `json:"mode,omitempty"`
	UID      *uint64 `json:"uid,omitempty"`
	GID      *uint64 `json:"gid,omitempty"`
	Required bool    `json:"required,omitempty"`
	Env      string  `json:"env,omitempty"` // a secret given as this variable too
}

// Key is what the step adds to its block's cache key.
func (d *Step) Key() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// Order orders blocks so deps come first, picking the earliest in file order among ready ones.
func Order(blocks []*Block, deps func(*Block) []string, byName map[string]*Block) []*Block {
	done := map[string]bool{}
	var out []*Block
	for len(out) < len(blocks) {
		progress := false
		for _, bp := range blocks {
			if done[bp.Def.Name] {
				continue
			}
			ready := true
			for _, d := range deps(bp) {
				if _, in := byName[d]; in && !done[d] {
					ready = false
					break
				}
			}
			if ready {
				done[bp.Def.Name] = true
				out = append(out, bp)
				progress = true
				break // restart from the top: file order among the ready
			}
		}
		if !progress {
			break // a cycle; the parser already reported it
		}
	}
	return out
}

// RunEnv is the environment of a build container: the state's ENV plus build args not
// shadowed by it, sorted after the ENV for a stable order.
func (p *Plan) RunEnv(st State) []string {
	env := append([]string(nil), st.Env...)
	var extra []string
	for k, v := range p.Args {
		if _, ok := st.Env.Get(k); !ok {
			extra = append(extra, k+"="+v)
		}
	}
	sort.Strings(extra)
	return append(env, extra...)
}
