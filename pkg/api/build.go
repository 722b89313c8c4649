package api

import "time"

// BuildRequest is POST /containers/build. Image (original) and Tags name the
// result; MiniBox is the file's content, else the daemon reads File in the context (by
// default MiniBox, else Dockerfile, else Containerfile); ContextPath is an absolute directory on the daemon's host, Context (the
// original's key) its alias.
type BuildRequest struct {
	Image       string            `json:"image,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	MiniBox     string            `json:"minibox,omitempty"`
	File        string            `json:"file,omitempty"`
	ContextPath string            `json:"context_path,omitempty"`
	Context     string            `json:"context,omitempty"`
	NoCache     bool              `json:"no_cache,omitempty"`
	Pull        bool              `json:"pull,omitempty"`
	Target      string            `json:"target,omitempty"`
	BuildArgs   map[string]string `json:"build_args,omitempty"`
	// Dockerfile: the file is a Dockerfile (or Containerfile); otherwise its name decides
	// (Dockerfile, Containerfile, *.Dockerfile, Dockerfile.*), and a MiniBox file is read.
	Dockerfile bool              `json:"dockerfile,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`   // added to the image's labels
	Platform   string            `json:"platform,omitempty"` // only the daemon's own is built
	// Secrets are what RUN --mount=type=secret,id=<id> reads (--secret on the CLI): by id,
	// the content. They reach neither the image nor the cache key.
	Secrets map[string][]byte `json:"secrets,omitempty"`
}

// Block states in build events and results.
const (
	BlockStart  = "START"
	BlockCached = "CACHED"
	BlockDone   = "DONE"
	BlockFailed = "FAILED"
)

// BuildEvent is one line of the build stream: a log line {time, block, line} or a state
// change {block, state, duration_ms}. The stream ends with a BuildEnd.
type BuildEvent struct {
	Time       *time.Time `json:"time,omitempty"`
	Block      string     `json:"block"`
	Line       *string    `json:"line,omitempty"`
	State      string     `json:"state,omitempty"`
	DurationMS *int64     `json:"duration_ms,omitempty"`
	Title      string     `json:"title,omitempty"` // with a state: the Dockerfile step's file:line and instruction
}

// BuildEnd is the last line: {"result": ...} or {"error", "block", "last_lines"}.
type BuildEnd struct {
	Result    *BuildResult `json:"result,omitempty"`
	Error     string       `json:"error,omitempty"`
	Block     string       `json:"block,omitempty"`
	LastLines []string     `json:"last_lines,omitempty"`
}

// BuildResult describes a built image.
type BuildResult struct {
	Image        string       `json:"image"`
	Tags         []string     `json:"tags"`
	Digest       string       `json:"digest"` // manifest digest
	ID           string       `json:"id"`     // config digest
	Blocks       []BuildBlock `json:"blocks"`
	CriticalPath []string     `json:"critical_path"`
	DurationMS   int64        `json:"duration_ms"`
}

// BuildBlock is one block's outcome.
type BuildBlock struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	Key        string `json:"key,omitempty"`
	Layer      string `json:"layer,omitempty"`
}
