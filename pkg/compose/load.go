//go:build compose

// Built only with -tags compose until compose-go's package init (its JSON schema
// compiler, distribution/reference's regexps: about 11 ms and 2 MB in every process of
// this binary, shims and inits included) is kept off the start path.

// Package compose runs Compose projects on minibox: a file is loaded (compose-go), turned
// into a plan of create requests, and carried out through the native API's client only.
package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
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
}

// Load reads, merges, interpolates and validates the project, and checks what compose-go
// leaves to the engine: depends_on naming services that exist, and no cycle among them.
func Load(ctx context.Context, o Options) (*types.Project, error) {
	opts := []cli.ProjectOptionsFn{}
	if o.WorkingDir != "" {
		opts = append(opts, cli.WithWorkingDirectory(o.WorkingDir))
	}
	opts = append(opts,
		cli.WithEnv(o.Env),
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithName(o.Name),
		cli.WithResolvedPaths(true),
	)
	po, err := cli.NewProjectOptions(o.Files, opts...)
	if err != nil {
		return nil, err
	}
	if len(po.ConfigPaths) == 0 {
		return nil, errors.New("no configuration file provided: not found (looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml here and in the parent directories)")
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, explain(err, po.ConfigPaths)
	}
	if err := checkDependencies(p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkDependencies refuses depends_on entries naming no service (unless required: false)
// and cycles, naming the file and the key.
func checkDependencies(p *types.Project) error {
	file := strings.Join(p.ComposeFiles, ", ")
	for _, name := range sortedServices(p) {
		s := p.Services[name]
		for dep, d := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok && d.Required {
				if _, disabled := p.DisabledServices[dep]; disabled {
					return fmt.Errorf("%s: services.%s.depends_on: service %q is disabled by its profiles", file, name, dep)
				}
				return fmt.Errorf("%s: services.%s.depends_on: unknown service %q", file, name, dep)
			}
		}
	}
	if _, err := order(p); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// order returns the services so that each comes after what it depends on; a cycle is an
// error that spells it out.
func order(p *types.Project) ([]string, error) {
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

// explain makes compose-go's errors name the file and say plainly what is wrong: its
// consistency errors name no file, and its schema errors say "false schema" for a key the
// schema does not have.
func explain(err error, files []string) error {
	msg := strings.Replace(err.Error(), " false schema", ": unknown key", 1)
	for _, f := range files {
		if strings.Contains(msg, f) {
			return errors.New(msg)
		}
	}
	return fmt.Errorf("%s: %s", strings.Join(files, ", "), msg)
}
