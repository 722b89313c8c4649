package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/minibox/minibox/pkg/atomicfile"
)

// A secret or config reaches its container as a read-only bind of a file, as Docker
// Compose does outside swarm. One from a file binds that file; one from an environment
// variable or inline content is written first to a file of the project's own under the
// runtime directory (tmpfs on most hosts: a secret's value does not reach the disk), kept
// while the project lives, since a restarted container binds it again.
type fileRef struct {
	kind   string // "secrets" or "configs"
	name   string // its key at the top level
	target string
	mode   os.FileMode
}

// fileRefs are the service's secrets, then its configs.
func fileRefs(p *types.Project, s types.ServiceConfig) []fileRef {
	var out []fileRef
	for _, sec := range s.Secrets {
		t := sec.Target
		if t == "" {
			t = sec.Source
		}
		if !filepath.IsAbs(t) {
			t = "/run/secrets/" + t
		}
		out = append(out, fileRef{kind: "secrets", name: sec.Source, target: t, mode: fileMode(sec.Mode)})
	}
	for _, c := range s.Configs {
		t := c.Target
		if t == "" {
			t = c.Source
		}
		if !filepath.IsAbs(t) {
			t = "/" + t
		}
		out = append(out, fileRef{kind: "configs", name: c.Source, target: t, mode: fileMode(c.Mode)})
	}
	return out
}

func fileMode(m *types.FileMode) os.FileMode {
	if m == nil {
		return 0o444
	}
	return os.FileMode(*m) & 0o777
}

func (f fileRef) def(p *types.Project) (types.FileObjectConfig, bool) {
	if f.kind == "secrets" {
		d, ok := p.Secrets[f.name]
		return types.FileObjectConfig(d), ok
	}
	d, ok := p.Configs[f.name]
	return types.FileObjectConfig(d), ok
}

// source is the host file to bind: the definition's file, or the project's copy of its
// environment variable or content.
func (f fileRef) source(p *types.Project) (string, error) {
	d, ok := f.def(p)
	switch {
	case !ok:
		return "", fmt.Errorf("%s.%s: not declared under the top-level %s", f.kind, f.name, f.kind)
	case d.File != "":
		return d.File, nil
	case d.Environment != "" || d.Content != "":
		return filepath.Join(runtimeDir(p), f.kind, f.name), nil
	case bool(d.External):
		return "", fmt.Errorf("%s.%s: external %s belong to swarm: give it a file, an environment variable or content", f.kind, f.name, f.kind)
	}
	return "", fmt.Errorf("%s.%s: expected file, environment or content", f.kind, f.name)
}

// projectFiles are the files the service's secrets and configs from the environment or
// inline content need, by path: their contents.
func projectFiles(p *types.Project, s types.ServiceConfig) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, f := range fileRefs(p, s) {
		d, ok := f.def(p)
		if !ok || d.File != "" {
			continue
		}
		path, err := f.source(p)
		if err != nil {
			return nil, err
		}
		switch {
		case d.Environment != "":
			v, ok := p.Environment[d.Environment]
			if !ok {
				return nil, fmt.Errorf("%s.%s.environment: variable %s is not set", f.kind, f.name, d.Environment)
			}
			out[path] = []byte(v)
		default:
			out[path] = []byte(d.Content)
		}
	}
	return out, nil
}

// runtimeDir holds the project's secret and config files: under /run for root, else
// under XDG_RUNTIME_DIR (or the temporary directory).
func runtimeDir(p *types.Project) string {
	base := "/run"
	if os.Geteuid() != 0 {
		if base = os.Getenv("XDG_RUNTIME_DIR"); base == "" {
			base = filepath.Join(os.TempDir(), "minibox-"+strconv.Itoa(os.Geteuid()))
		}
	}
	return filepath.Join(base, "minibox-compose", p.Name)
}

// writeProjectFiles writes the files the services' secrets and configs need, readable
// by the container's user (the mode its service asks, else 0444) in a directory only
// the owner can enter.
func (r *Runner) writeProjectFiles(services []string) error {
	for _, n := range services {
		s := r.P.Services[n]
		files, err := projectFiles(r.P, s)
		if err != nil {
			return err
		}
		modes := map[string]os.FileMode{}
		for _, f := range fileRefs(r.P, s) {
			if src, err := f.source(r.P); err == nil {
				modes[src] = f.mode
			}
		}
		for path, b := range files {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			if err := atomicfile.WriteFile(path, b, modes[path]); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeProjectFiles removes what writeProjectFiles wrote (down).
func (r *Runner) removeProjectFiles() error {
	dir := runtimeDir(r.P)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	os.Remove(filepath.Dir(dir)) // the last project's: an error says another's is there
	return nil
}
