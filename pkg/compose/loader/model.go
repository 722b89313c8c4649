package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/compose-spec/compose-go/v2/override"
	"github.com/compose-spec/compose-go/v2/paths"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/transform"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/compose-spec/compose-go/v2/validation"
	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v4"
)

// loader holds what every file of one project is read with.
type loader struct {
	env     map[string]string
	workDir string
	warnf   func(string)
	// including holds the files whose include: is being loaded, to catch cycles.
	including []string
	// parsed holds the documents of files already decoded to find the project's name,
	// each taken by the file's first read: every command decodes its files once.
	parsed map[string][]doc
	// oneFile says the project is one file with no include: the project's own decode names
	// that file in its errors, so the file need not be decoded on its own first.
	oneFile bool
}

// docs are file's documents: those decoded earlier (once), else read now.
func (l *loader) docs(file string) ([]doc, error) {
	if d, ok := l.parsed[file]; ok {
		delete(l.parsed, file)
		return d, nil
	}
	return readYAML(file)
}

func (l *loader) lookup(k string) (string, bool) {
	v, ok := l.env[k]
	return v, ok
}

// doc is one YAML document of a file: its mapping, and the keys it tagged !reset or
// !override, which drop what earlier files (or an extended service) set there.
type doc struct {
	dict   map[string]any
	resets [][]string
}

// readYAML reads every document of file.
func readYAML(file string) ([]doc, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []doc
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		var d doc
		root := &n
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind == 0 || root.Tag == "!!null" {
			continue // an empty document
		}
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: the top level must be a mapping", file)
		}
		tags(root, nil, &d.resets)
		var raw any
		if err := root.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		v, err := stringKeys(raw, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		d.dict = v.(map[string]any)
		out = append(out, d)
	}
	return out, nil
}

// tags takes the !reset entries out of the tree and clears the !override tags, noting
// the path of each: a reset drops the earlier value, an override replaces it instead of
// merging with it. Aliases are not followed: their target is walked where it is written.
func tags(n *yaml.Node, at []string, out *[][]string) {
	switch n.Kind {
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := at
			if k.Value != "<<" {
				p = append(slices.Clip(at), k.Value)
			}
			switch v.Tag {
			case "!reset":
				*out = append(*out, p)
				continue
			case "!override":
				*out = append(*out, p)
				v.Tag = ""
			}
			if v.Kind != yaml.AliasNode {
				tags(v, p, out)
			}
			kept = append(kept, k, v)
		}
		n.Content = kept
	case yaml.SequenceNode:
		kept := n.Content[:0]
		for _, v := range n.Content {
			if v.Tag == "!reset" {
				continue
			}
			if v.Tag == "!override" {
				v.Tag = ""
			}
			if v.Kind != yaml.AliasNode {
				tags(v, append(slices.Clip(at), "[]"), out)
			}
			kept = append(kept, v)
		}
		n.Content = kept
	}
}

// stringKeys turns YAML's maps into map[string]any; a key that is not a string is an
// error naming where.
func stringKeys(v any, at string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			c, err := stringKeys(e, join(at, k))
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
		return t, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v: keys must be strings", orTop(at), k)
			}
			c, err := stringKeys(e, join(at, s))
			if err != nil {
				return nil, err
			}
			out[s] = c
		}
		return out, nil
	case []any:
		for i, e := range t {
			c, err := stringKeys(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	}
	return v, nil
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func orTop(at string) string {
	if at == "" {
		return "top level"
	}
	return at
}

// reset deletes the value at path p of dict.
func reset(dict map[string]any, p []string) {
	for i, k := range p {
		if i == len(p)-1 {
			delete(dict, k)
			return
		}
		next, ok := dict[k].(map[string]any)
		if !ok {
			return
		}
		dict = next
	}
}

// readFile is one file read and interpolated, its documents merged, its services'
// extends applied; relative paths are left as written.
func (l *loader) readFile(file string, seen []string) (map[string]any, [][]string, error) {
	docs, err := l.docs(file)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{}
	var resets [][]string
	for _, d := range docs {
		cfg, err := interpolation.Interpolate(d.dict, interpolation.Options{LookupValue: l.lookup, Substitute: template.Substitute})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := l.original(cfg, file); err != nil {
			return nil, nil, err
		}
		if err := l.extends(cfg, file, d.resets, seen); err != nil {
			return nil, nil, err
		}
		for _, p := range d.resets {
			reset(out, p)
		}
		if out, err = override.Merge(out, cfg); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		resets = append(resets, d.resets...)
	}
	return out, resets, nil
}

// mergeFile reads file, checks it on its own (so an error names it), and merges it over
// dict, as each -f file is merged over the ones before it.
func (l *loader) mergeFile(dict map[string]any, file string) (map[string]any, error) {
	cfg, resets, err := l.readFile(file, nil)
	if err != nil {
		return nil, err
	}
	included, err := l.includes(cfg, file)
	if err != nil {
		return nil, err
	}
	if err := checkFile(cfg, file, !l.oneFile || len(included) > 0); err != nil {
		return nil, err
	}
	delete(cfg, "version") // obsolete, and ignored by Compose too
	if len(included) > 0 {
		if err := conflicts(cfg, included, file); err != nil {
			return nil, err
		}
		if dict, err = override.Merge(dict, included); err != nil {
			return nil, fmt.Errorf("%s: include: %w", file, err)
		}
	}
	for _, p := range resets {
		reset(dict, p)
	}
	if dict, err = override.Merge(dict, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if dict, err = override.EnforceUnicity(dict); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if dict, err = transform.Canonical(dict, false); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return override.EnforceUnicity(dict)
}

// extends replaces each service that extends another (in this file or another one) by
// the other merged with it. seen holds file:service pairs under way, to catch cycles.
func (l *loader) extends(cfg map[string]any, file string, resets [][]string, seen []string) error {
	services, _ := cfg["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		if err := l.extendOne(services, name, file, resets, seen); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) extendOne(services map[string]any, name, file string, resets [][]string, seen []string) error {
	s, ok := services[name].(map[string]any)
	if !ok {
		return nil
	}
	ext, ok := s["extends"]
	if !ok {
		return nil
	}
	at := fmt.Sprintf("%s: services.%s.extends", file, name)
	key := file + ":" + name
	if slices.Contains(seen, key) {
		return fmt.Errorf("%s: cycle: %s -> %s", at, strings.Join(seen, " -> "), key)
	}
	seen = append(slices.Clip(seen), key)
	var ref, from string
	switch e := ext.(type) {
	case string:
		ref = e
	case map[string]any:
		ref, _ = e["service"].(string)
		if f, ok := e["file"]; ok {
			if from, ok = f.(string); !ok {
				return fmt.Errorf("%s.file: expected a string", at)
			}
		}
	}
	if ref == "" {
		return fmt.Errorf("%s: expected the name of a service, or a mapping with service (and file)", at)
	}
	var base any
	if from == "" {
		if _, ok := services[ref]; !ok {
			return fmt.Errorf("%s: no service %q in %s", at, ref, file)
		}
		if err := l.extendOne(services, ref, file, resets, seen); err != nil {
			return err
		}
		base = services[ref]
	} else {
		if !filepath.IsAbs(from) {
			from = filepath.Join(filepath.Dir(file), from)
		}
		other, _, err := l.readFile(from, seen)
		if err != nil {
			return err
		}
		// The other file's relative paths are relative to its own directory.
		if other, err = transform.Canonical(other, false); err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		if err := paths.ResolveRelativePaths(other, filepath.Dir(from), nil); err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		others, _ := other["services"].(map[string]any)
		if base, ok = others[ref]; !ok {
			return fmt.Errorf("%s: no service %q in %s", at, ref, from)
		}
	}
	b, ok := deepClone(base).(map[string]any)
	if !ok {
		return fmt.Errorf("%s: service %q is not a mapping", at, ref)
	}
	// This service's !reset and !override apply to what it inherits.
	for _, p := range resets {
		if len(p) > 2 && p[0] == "services" && p[1] == name {
			reset(b, p[2:])
		}
	}
	delete(b, "extends")
	merged, err := override.ExtendService(b, s)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	delete(merged, "extends")
	services[name] = merged
	return nil
}

func deepClone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepClone(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepClone(e)
		}
		return out
	}
	return v
}

// checkFile checks one file on its own, in canonical form: every key is one the
// Compose Specification has (or an x- extension), and, with decodeToo, each value decodes
// into its type.
func checkFile(cfg map[string]any, file string, decodeToo bool) error {
	c, err := transform.Canonical(deepClone(cfg).(map[string]any), false)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, k := range sortedKeys(c) {
		switch {
		case k == "version", k == "name", strings.HasPrefix(k, "x-"):
		default:
			f, ok := fieldsOf(reflect.TypeFor[types.Project]())[k]
			if !ok {
				return fmt.Errorf("%s: %q: unknown top-level key (services, networks, volumes, secrets, configs, name, x-*)", file, k)
			}
			if err := checkKeys(c[k], f, k); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
	}
	if err := validation.Validate(c); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if !decodeToo {
		return nil
	}
	delete(c, "version")
	delete(c, "name")
	nameServices(c)
	var scratch types.Project
	if err := decode(c, &scratch); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

var decoderType = reflect.TypeFor[interface{ DecodeMapstructure(any) error }]()

// checkKeys walks v along type t and refuses a key t has no field for. Types that
// decode themselves (DecodeMapstructure) take several forms and are left to decode.
func checkKeys(v any, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(decoderType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // the decoder names the wrong type
		}
		fields := fieldsOf(t)
		for _, k := range sortedKeys(m) {
			if strings.HasPrefix(k, "x-") {
				continue
			}
			f, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: unknown key %q", at, k)
			}
			if err := checkKeys(m[k], f, at+"."+k); err != nil {
				return err
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if err := checkKeys(m[k], t.Elem(), at+"."+k); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if s, ok := v.([]any); ok {
			for i, e := range s {
				if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// fieldsOf maps the YAML keys of struct t (embedded and inline ones flattened) to their
// types; internal ones (#extensions, "-") are left out.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsByType.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := typeFields(t)
	fieldsByType.Store(t, m)
	return m
}

// fieldsByType holds fieldsOf's answers: a service's type has about a hundred fields,
// walked for every service of every file.
var fieldsByType sync.Map

func typeFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || strings.HasPrefix(name, "#") {
			continue
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// project turns the merged model into the project: defaults, relative paths made
// absolute against the project directory, Compose's implied values, then the decode.
func (l *loader) project(dict map[string]any, name string, files []string) (*types.Project, error) {
	at := strings.Join(files, ", ")
	if _, ok := dict["services"]; !ok {
		return nil, fmt.Errorf("%s: no services", at)
	}
	dict, err := transform.SetDefaultValues(dict)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if err := validation.Validate(dict); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if err := originalData(dict, name); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if err := normalize(dict, name, l.env); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if err := paths.ResolveRelativePaths(dict, l.workDir, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	delete(dict, "name")
	delete(dict, "version")
	nameServices(dict)
	extensions(dict, nil)
	env := types.Mapping{}
	for k, v := range l.env {
		env[k] = v
	}
	p := &types.Project{Name: name, WorkingDir: l.workDir, Environment: env}
	if err := decode(dict, p); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	p.ComposeFiles = files
	return p, nil
}

// extensions moves each mapping's x-* keys under #extensions, where the types keep
// them; maps whose keys are names (services, networks, ...) hold no extensions.
func extensions(v any, at []string) {
	switch t := v.(type) {
	case map[string]any:
		named := len(at) == 1 || len(at) == 3 && at[0] == "services" && at[2] == "depends_on"
		ext := map[string]any{}
		for k, e := range t {
			if !named && strings.HasPrefix(k, "x-") {
				ext[k] = e
				delete(t, k)
				continue
			}
			extensions(e, append(slices.Clip(at), k))
		}
		if len(ext) > 0 {
			t["#extensions"] = ext
		}
	case []any:
		for _, e := range t {
			extensions(e, append(slices.Clip(at), "[]"))
		}
	}
}

// nameServices gives each service its key as its name, which the types carry.
func nameServices(dict map[string]any) {
	services, _ := dict["services"].(map[string]any)
	for k, s := range services {
		if m, ok := s.(map[string]any); ok {
			m["name"] = k
		}
	}
}

// normalize adds what Compose implies: the default network for services that name none,
// depends_on for links, network_mode: service: and volumes_from, build's context and
// Dockerfile, the environment's bare names taken from the environment, resources named
// <project>_<key> (external ones by their key), clean volume targets.
func normalize(dict map[string]any, project string, env map[string]string) error {
	services, ok := dict["services"].(map[string]any)
	if !ok {
		return errors.New("services: expected a mapping")
	}
	usesDefault := false
	for _, name := range sortedKeys(services) {
		s, ok := services[name].(map[string]any)
		if !ok {
			if services[name] != nil {
				return fmt.Errorf("services.%s: expected a mapping", name)
			}
			s = map[string]any{}
			services[name] = s
		}
		if defaultNetwork(s) {
			usesDefault = true
		}
		impliedDependencies(s)
		if b, ok := s["build"].(map[string]any); ok {
			if b["context"] == nil {
				b["context"] = "."
			}
			if b["dockerfile"] == nil && b["dockerfile_inline"] == nil {
				b["dockerfile"] = "Dockerfile"
			}
		}
		if e, ok := s["environment"].(map[string]any); ok {
			for k, v := range e {
				if v == nil {
					if val, ok := env[k]; ok {
						e[k] = val
					}
				}
			}
		}
		if vols, ok := s["volumes"].([]any); ok {
			for _, v := range vols {
				if m, ok := v.(map[string]any); ok {
					if t, ok := m["target"].(string); ok {
						m["target"] = path.Clean(t)
					}
				}
			}
		}
		if s["pull_policy"] == "if_not_present" {
			s["pull_policy"] = types.PullPolicyMissing
		}
	}
	if usesDefault {
		nets, _ := dict["networks"].(map[string]any)
		if nets == nil {
			nets = map[string]any{}
			dict["networks"] = nets
		}
		if _, ok := nets["default"]; !ok {
			nets["default"] = nil
		}
	}
	return nameResources(dict, project)
}

// defaultNetwork puts a service that names no network (and has no network_mode) on the
// default one, and says whether the service is on it.
func defaultNetwork(s map[string]any) bool {
	if _, ok := s["network_mode"]; ok {
		return false
	}
	n, _ := s["networks"].(map[string]any)
	if len(n) == 0 {
		s["networks"] = map[string]any{"default": nil}
		return true
	}
	_, ok := n["default"]
	return ok
}

// impliedDependencies adds the depends_on entries that links, network_mode/ipc/pid:
// service: and volumes_from imply.
func impliedDependencies(s map[string]any) {
	deps, _ := s["depends_on"].(map[string]any)
	if deps == nil {
		deps = map[string]any{}
	}
	implied := func(svc string, restart bool) {
		if _, ok := deps[svc]; !ok {
			deps[svc] = map[string]any{"condition": types.ServiceConditionStarted, "restart": restart, "required": true}
		}
	}
	links, _ := s["links"].([]any)
	for _, e := range links {
		if str, ok := e.(string); ok {
			svc, _, _ := strings.Cut(str, ":")
			implied(svc, true)
		}
	}
	for _, ns := range []string{"network_mode", "ipc", "pid"} {
		if v, ok := s[ns].(string); ok {
			if svc, ok := strings.CutPrefix(v, types.ServicePrefix); ok {
				implied(svc, true)
			}
		}
	}
	vf, _ := s["volumes_from"].([]any)
	for _, e := range vf {
		if str, ok := e.(string); ok && !strings.HasPrefix(str, types.ContainerPrefix) {
			svc, _, _ := strings.Cut(str, ":")
			implied(svc, false)
		}
	}
	if len(deps) > 0 {
		s["depends_on"] = deps
	}
}

// nameResources names the project's networks, volumes, secrets and configs
// <project>_<key>, external ones by their key, unless named already.
func nameResources(dict map[string]any, project string) error {
	for _, section := range []string{"networks", "volumes", "secrets", "configs"} {
		top, ok := dict[section].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range top {
			r, _ := v.(map[string]any)
			if r == nil {
				if v != nil {
					return fmt.Errorf("%s.%s: expected a mapping", section, k)
				}
				r = map[string]any{}
				top[k] = r
			}
			if r["name"] == nil {
				if ext, _ := strconv.ParseBool(fmt.Sprint(r["external"])); ext {
					r["name"] = k
				} else {
					r["name"] = project + "_" + k
				}
			}
		}
	}
	return nil
}

// decode fills target from the canonical model. Types that parse themselves do
// (DecodeMapstructure); strings become the numbers and booleans a field wants (what
// interpolation gives), numbers the strings.
func decode(src map[string]any, target any) error {
	cfg := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(selfDecode, cast),
		Result:     target,
		TagName:    "yaml",
		Squash:     true,
	}
	d, err := mapstructure.NewDecoder(cfg)
	if err != nil {
		return err
	}
	if err := d.Decode(src); err != nil {
		return plainDecodeError(err)
	}
	return nil
}

func selfDecode(from, to reflect.Value) (any, error) {
	u, ok := to.Interface().(interface{ DecodeMapstructure(any) error })
	if !ok && to.CanAddr() {
		u, ok = to.Addr().Interface().(interface{ DecodeMapstructure(any) error })
	}
	if !ok {
		return from.Interface(), nil
	}
	if to.Kind() == reflect.Pointer && to.IsNil() {
		to.Set(reflect.New(to.Type().Elem()))
		u = to.Interface().(interface{ DecodeMapstructure(any) error })
	}
	if err := u.DecodeMapstructure(from.Interface()); err != nil {
		return to.Interface(), err
	}
	return to.Interface(), nil
}

func cast(from, to reflect.Value) (any, error) {
	switch from.Kind() {
	case reflect.String:
		s := from.String()
		switch to.Kind() {
		case reflect.Bool:
			switch strings.ToLower(s) {
			case "true", "yes", "on", "y":
				return true, nil
			case "false", "no", "off", "n":
				return false, nil
			}
			return nil, fmt.Errorf("%q: expected a boolean", s)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, to.Type().Bits())
			if err != nil {
				return nil, fmt.Errorf("%q: expected an integer", s)
			}
			return reflect.ValueOf(n).Convert(to.Type()).Interface(), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			n, err := strconv.ParseUint(s, 10, to.Type().Bits())
			if err != nil {
				return nil, fmt.Errorf("%q: expected a non-negative integer", s)
			}
			return reflect.ValueOf(n).Convert(to.Type()).Interface(), nil
		case reflect.Float32, reflect.Float64:
			n, err := strconv.ParseFloat(s, to.Type().Bits())
			if err != nil {
				return nil, fmt.Errorf("%q: expected a number", s)
			}
			return reflect.ValueOf(n).Convert(to.Type()).Interface(), nil
		}
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		if to.Kind() == reflect.String {
			return fmt.Sprint(from.Interface()), nil
		}
	}
	return from.Interface(), nil
}

// plainDecodeError rewrites mapstructure's "'services[web].ports[0].target' expected
// type..." into the dotted key a compose file writes.
func plainDecodeError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "decoding failed due to the following error(s):\n\n")
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '[' {
			j := strings.IndexByte(msg[i:], ']')
			inner := ""
			if j > 0 {
				inner = msg[i+1 : i+j]
			}
			if j > 0 && inner != "" && strings.Trim(inner, "0123456789") != "" {
				b.WriteByte('.')
				b.WriteString(inner)
				i += j
				continue
			}
		}
		b.WriteByte(c)
	}
	return errors.New(b.String())
}
