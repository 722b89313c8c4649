// Package loader loads a Compose project: it finds the files (-f, COMPOSE_FILE, the
// defaults), reads them with the environment for interpolation (.env, --env-file),
// follows include and extends, merges them, applies profiles, normalizes names and
// defaults, and checks what ties services to each other and to the top-level sections,
// naming the file and the key. The result is compose-go's types.Project.
//
// compose-go's loader is not used: it validates through a JSON schema whose package init
// compiles every meta-schema (about 9 ms and 1.7 MB in every process of this binary, each
// container's shim and init included). This loader checks what matters instead: unknown
// keys and wrong types, naming the file and the key. The original minibox dialect
// (minibox-compose.yaml, db_mode, data) is rewritten into Compose while loading.
//
// It leaves out running the project (package compose).
package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
)

// Options say where a project comes from: what `-f`, `-p`, `--env-file`, `--profile` and
// `--project-directory` gave, and the environment for interpolation.
type Options struct {
	Files      []string
	Name       string
	EnvFiles   []string
	Profiles   []string
	WorkingDir string
	Env        []string // KEY=VALUE, the CLI's environment
	Warn       func(msg string)
	// Services are those the command names: each is enabled whatever its profiles (their
	// profiles become active), as a service a command targets is in Compose.
	Services []string
}

// The names looked for, in order: the original minibox's, then Docker Compose's in its
// order of preference.
var (
	defaultFiles  = []string{"minibox-compose.yaml", "minibox-compose.yml", "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}
	overrideFiles = []string{"compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"}
)

// Load reads the files in order, interpolates and merges them, applies extends and the
// !reset/!override tags, checks keys and types, and decodes the project; then checks what
// ties services together: depends_on naming services that exist, no cycle among them,
// networks, volumes and secrets declared.
func Load(ctx context.Context, o Options) (*types.Project, error) {
	env := map[string]string{}
	for _, kv := range o.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	files, err := configFiles(o, env, cwd)
	if err != nil {
		return nil, err
	}
	workDir := o.WorkingDir
	if workDir == "" {
		workDir = filepath.Dir(files[0])
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return nil, err
	}
	if env, err = withEnvFiles(env, o.EnvFiles, workDir); err != nil {
		return nil, err
	}
	profiles := o.Profiles
	if len(profiles) == 0 && env["COMPOSE_PROFILES"] != "" {
		for _, p := range strings.Split(env["COMPOSE_PROFILES"], ",") {
			if p = strings.TrimSpace(p); p != "" {
				profiles = append(profiles, p)
			}
		}
	}
	l := &loader{env: env, workDir: workDir, warnf: o.Warn, oneFile: len(files) == 1}
	name, err := l.projectName(o.Name, files)
	if err != nil {
		return nil, err
	}
	// ${COMPOSE_PROJECT_NAME} in a file is the name decided above, as in Compose.
	env["COMPOSE_PROJECT_NAME"] = name
	dict := map[string]any{}
	for _, f := range files {
		if dict, err = l.mergeFile(dict, f); err != nil {
			return nil, err
		}
	}
	p, err := l.project(dict, name, files)
	if err != nil {
		return nil, err
	}
	if p, err = p.WithProfiles(profiles); err != nil {
		return nil, err
	}
	if len(o.Services) > 0 {
		if p, err = p.WithServicesEnabled(o.Services...); err != nil {
			return nil, err
		}
	}
	if err := checkProject(p); err != nil {
		return nil, err
	}
	if p, err = p.WithServicesEnvironmentResolved(false); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
	}
	if p, err = p.WithServicesLabelsResolved(false); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
	}
	return p, nil
}

// configFiles are the -f files (or COMPOSE_FILE's), else the first default name found in
// the directory or its parents, with its override file beside it.
func configFiles(o Options, env map[string]string, cwd string) ([]string, error) {
	files := o.Files
	if len(files) == 0 && env["COMPOSE_FILE"] != "" {
		sep := env["COMPOSE_PATH_SEPARATOR"]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		files = strings.Split(env["COMPOSE_FILE"], sep)
	}
	if len(files) > 0 {
		out := make([]string, 0, len(files))
		for _, f := range files {
			if f == "-" {
				return nil, errors.New("-f -: reading a compose file from stdin is not supported")
			}
			if !filepath.IsAbs(f) {
				base := cwd
				if o.WorkingDir != "" && len(o.Files) == 0 {
					base = o.WorkingDir
				}
				f = filepath.Join(base, f)
			}
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("open %s: no such file", f)
			}
			out = append(out, f)
		}
		return out, nil
	}
	dir := cwd
	if o.WorkingDir != "" {
		dir, _ = filepath.Abs(o.WorkingDir)
	}
	for {
		for _, n := range defaultFiles {
			f := filepath.Join(dir, n)
			if st, err := os.Stat(f); err == nil && !st.IsDir() {
				out := []string{f}
				for _, on := range overrideFiles {
					of := filepath.Join(dir, on)
					if st, err := os.Stat(of); err == nil && !st.IsDir() {
						out = append(out, of)
						break
					}
				}
				return out, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, errors.New("no configuration file provided: not found (looked for minibox-compose.yaml, minibox-compose.yml, compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml here and in the parent directories)")
		}
		dir = parent
	}
}

// withEnvFiles adds the --env-file files (else the project directory's .env, when there
// is one) under the process's environment, which wins, as in Compose.
func withEnvFiles(env map[string]string, files []string, workDir string) (map[string]string, error) {
	if len(files) == 0 {
		dot := filepath.Join(workDir, ".env")
		if st, err := os.Stat(dot); err != nil || st.IsDir() {
			return env, nil
		}
		files = []string{dot}
	}
	from, err := dotenv.GetEnvFromFile(env, files)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	out := make(map[string]string, len(env)+len(from))
	for k, v := range from {
		out[k] = v
	}
	for k, v := range env {
		out[k] = v
	}
	return out, nil
}

// projectName is -p, else COMPOSE_PROJECT_NAME, else the files' name: (the last one
// wins), else the project directory's base name made into a valid one.
func (l *loader) projectName(flag string, files []string) (string, error) {
	if flag != "" {
		if normalizeName(flag) != flag {
			return "", fmt.Errorf("-p %q: a project name is lowercase letters, digits, dashes and underscores, starting with a letter or digit", flag)
		}
		return flag, nil
	}
	if v := l.env["COMPOSE_PROJECT_NAME"]; v != "" {
		if normalizeName(v) != v {
			return "", fmt.Errorf("COMPOSE_PROJECT_NAME=%q: a project name is lowercase letters, digits, dashes and underscores, starting with a letter or digit", v)
		}
		return v, nil
	}
	name := ""
	for _, f := range files {
		n, err := l.nameIn(f)
		if err != nil {
			return "", err
		}
		if n != "" {
			name = n
		}
	}
	if name != "" {
		if normalizeName(name) != name {
			return "", fmt.Errorf("%s: name %q: a project name is lowercase letters, digits, dashes and underscores, starting with a letter or digit", files[len(files)-1], name)
		}
		return name, nil
	}
	name = normalizeName(filepath.Base(l.workDir))
	if name == "" {
		return "", fmt.Errorf("project directory %s gives no valid project name: use -p", l.workDir)
	}
	return name, nil
}

// nameIn is the interpolated top-level name: of one file, "" when it has none.
func (l *loader) nameIn(file string) (string, error) {
	docs, err := readYAML(file)
	if err != nil {
		return "", err
	}
	if l.parsed == nil {
		l.parsed = map[string][]doc{}
	}
	l.parsed[file] = docs
	name := ""
	for _, d := range docs {
		if s, ok := d.dict["name"].(string); ok {
			v, err := template.Substitute(s, l.lookup)
			if err != nil {
				return "", fmt.Errorf("%s: name: %w", file, err)
			}
			name = v
		}
	}
	return name, nil
}

// normalizeName keeps what a project name may hold: lowercase letters, digits, dashes
// and underscores, not leading with a dash or an underscore.
func normalizeName(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		}
	}
	return strings.TrimLeft(b.String(), "_-")
}

// checkProject checks what ties the services to each other and to the top-level
// sections, naming the key.
func checkProject(p *types.Project) error {
	file := strings.Join(p.ComposeFiles, ", ")
	for _, name := range sortedServices(p) {
		s := p.Services[name]
		at := "services." + name
		if s.Image == "" && s.Build == nil {
			return fmt.Errorf("%s: %s: neither image nor build is set", file, at)
		}
		if s.NetworkMode != "" && len(s.Networks) > 0 {
			return fmt.Errorf("%s: %s: network_mode and networks cannot be used together", file, at)
		}
		if h := s.HealthCheck; h != nil && len(h.Test) > 0 && !slices.Contains([]string{"CMD", "CMD-SHELL", "NONE"}, h.Test[0]) {
			return fmt.Errorf("%s: %s.healthcheck.test: %q: expected CMD, CMD-SHELL or NONE first, or a string", file, at, h.Test[0])
		}
		if svc, ok := strings.CutPrefix(s.NetworkMode, types.ServicePrefix); ok {
			if _, ok := p.Services[svc]; !ok {
				return fmt.Errorf("%s: %s.network_mode: unknown service %q", file, at, svc)
			}
		}
		if err := checkShares(p, s, at); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, n := range sortedKeys(s.Networks) {
			if _, ok := p.Networks[n]; !ok {
				return fmt.Errorf("%s: %s.networks: undefined network %q: declare it under the top-level networks", file, at, n)
			}
		}
		for i, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				if _, ok := p.Volumes[v.Source]; !ok {
					return fmt.Errorf("%s: %s.volumes[%d]: undefined volume %q: declare it under the top-level volumes", file, at, i, v.Source)
				}
			}
		}
		for i, sec := range s.Secrets {
			if _, ok := p.Secrets[sec.Source]; !ok {
				return fmt.Errorf("%s: %s.secrets[%d]: undefined secret %q: declare it under the top-level secrets", file, at, i, sec.Source)
			}
		}
		for i, c := range s.Configs {
			if _, ok := p.Configs[c.Source]; !ok {
				return fmt.Errorf("%s: %s.configs[%d]: undefined config %q: declare it under the top-level configs", file, at, i, c.Source)
			}
		}
	}
	if err := p.CheckContainerNameUnicity(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return checkDependencies(p)
}

// checkDependencies refuses depends_on entries naming no service (unless required: false)
// and cycles, naming the file and the key.
func checkDependencies(p *types.Project) error {
	file := strings.Join(p.ComposeFiles, ", ")
	for _, name := range sortedServices(p) {
		s := p.Services[name]
		for _, dep := range sortedKeys(s.DependsOn) {
			d := s.DependsOn[dep]
			if _, ok := p.Services[dep]; !ok && d.Required {
				if _, disabled := p.DisabledServices[dep]; disabled {
					return fmt.Errorf("%s: services.%s.depends_on: service %q is disabled by its profiles", file, name, dep)
				}
				return fmt.Errorf("%s: services.%s.depends_on: unknown service %q", file, name, dep)
			}
		}
	}
	if _, err := Order(p); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// Order returns the services so that each comes after what it depends on; a cycle is an
// error that spells it out.
func Order(p *types.Project) ([]string, error) {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out, stack []string
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, n)
			return fmt.Errorf("services.%s.depends_on: dependency cycle: %s -> %s", n, strings.Join(stack[i:], " -> "), n)
		}
		state[n] = visiting
		stack = append(stack, n)
		s := p.Services[n]
		deps := make([]string, 0, len(s.DependsOn))
		for d := range s.DependsOn {
			if _, ok := p.Services[d]; ok {
				deps = append(deps, d)
			}
		}
		slices.Sort(deps)
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		out = append(out, n)
		return nil
	}
	for _, n := range sortedServices(p) {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortedServices(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
