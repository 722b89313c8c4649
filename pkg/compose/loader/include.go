package loader

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/paths"
)

// includes loads what cfg's include: names and takes the key out of cfg. Each entry is
// a project of its own (a path, or {path, project_directory, env_file}; path one file or
// several merged in order): interpolated with its own .env or env_file, its relative
// paths resolved against its project directory (the first file's, unless given). What
// it declares (services, networks, volumes, secrets, configs) joins the including file.
func (l *loader) includes(cfg map[string]any, file string) (map[string]any, error) {
	inc, ok := cfg["include"]
	if !ok {
		return nil, nil
	}
	delete(cfg, "include")
	list, ok := inc.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: include: expected a list", file)
	}
	out := map[string]any{}
	for i, e := range list {
		at := fmt.Sprintf("%s: include[%d]", file, i)
		d, err := l.includeOne(e, file, at)
		if err != nil {
			return nil, err
		}
		if err := conflicts(out, d, at); err != nil {
			return nil, err
		}
		for _, section := range resourceSections {
			m, _ := d[section].(map[string]any)
			for k, v := range m {
				top, _ := out[section].(map[string]any)
				if top == nil {
					top = map[string]any{}
					out[section] = top
				}
				top[k] = v
			}
		}
	}
	return out, nil
}

var resourceSections = []string{"services", "networks", "volumes", "secrets", "configs"}

type includeEntry struct {
	files, envFiles []string
	dir             string
}

// parseInclude reads one entry of include:, its paths relative to the including file.
func parseInclude(e any, base, at string) (includeEntry, error) {
	var ie includeEntry
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(base, p)
	}
	switch t := e.(type) {
	case string:
		ie.files = []string{rel(t)}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			switch k {
			case "path", "env_file":
				list, err := stringOrList(t[k])
				if err != nil {
					return ie, fmt.Errorf("%s.%s: %w", at, k, err)
				}
				for _, p := range list {
					if k == "path" {
						ie.files = append(ie.files, rel(p))
					} else {
						ie.envFiles = append(ie.envFiles, rel(p))
					}
				}
			case "project_directory":
				d, ok := t[k].(string)
				if !ok {
					return ie, fmt.Errorf("%s.project_directory: expected a string", at)
				}
				ie.dir = rel(d)
			default:
				return ie, fmt.Errorf("%s: unknown key %q (path, project_directory, env_file)", at, k)
			}
		}
	default:
		return ie, fmt.Errorf("%s: expected a path or a mapping with path", at)
	}
	if len(ie.files) == 0 {
		return ie, fmt.Errorf("%s: path is required", at)
	}
	if ie.dir == "" {
		ie.dir = filepath.Dir(ie.files[0])
	}
	return ie, nil
}

func (l *loader) includeOne(e any, file, at string) (map[string]any, error) {
	ie, err := parseInclude(e, filepath.Dir(file), at)
	if err != nil {
		return nil, err
	}
	for _, f := range ie.files {
		if slices.Contains(l.including, f) || f == file {
			return nil, fmt.Errorf("%s: include cycle: %s -> %s", at, strings.Join(append(slices.Clip(l.including), file), " -> "), f)
		}
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			return nil, fmt.Errorf("%s: %s: no such file", at, f)
		}
	}
	env, err := withEnvFiles(l.env, ie.envFiles, ie.dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	sub := &loader{env: env, workDir: ie.dir, warnf: l.warnf, including: append(slices.Clip(l.including), file)}
	dict := map[string]any{}
	for _, f := range ie.files {
		if dict, err = sub.mergeFile(dict, f); err != nil {
			return nil, err
		}
	}
	if err := paths.ResolveRelativePaths(dict, ie.dir, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	return dict, nil
}

// conflicts refuses a resource that both cfg and what an include brought declare,
// unless both say the same.
func conflicts(cfg, included map[string]any, at string) error {
	for _, section := range resourceSections {
		mine, _ := cfg[section].(map[string]any)
		theirs, _ := included[section].(map[string]any)
		for _, k := range sortedKeys(theirs) {
			if v, ok := mine[k]; ok && !reflect.DeepEqual(v, theirs[k]) {
				return fmt.Errorf("%s: %s.%s is declared here and by an included file", at, section, k)
			}
		}
	}
	return nil
}

func stringOrList(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string or a list of strings")
}
