package kong

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// randomTags are tags made of the characters the tag grammars give a meaning to, mixed
// with plain and multi-byte ones, so that every branch of both parsers is taken.
func randomTags(n int) []string {
	alphabet := []string{"a", "b", "k", ":", "=", `"`, "'", " ", ",", `\`, "\n", "é", "$", "{", "}", "\xff", "help", "cmd", "${version}", "${default}", "$$"}
	rng := rand.New(rand.NewSource(1))
	tags := []string{
		"", `cmd:""`, `help:"Run a command."`, `short:"d" help:"Detach."`, `name:"env-file" sep:"none" placeholder:"FILE" help:"Read KEY=VAL lines."`,
		`embed:""`, `cmd help:"x"`, `arg optional`, `help:"a"b"`, `help:"unterminated`, `kong:"name='x',help='y'"`,
		`help:"tab	inside"`, `help:"quote \"inside\""`, `help:"é and ü"`,
	}
	for len(tags) < n {
		var s string
		for i := rng.Intn(24); i > 0; i-- {
			s += alphabet[rng.Intn(len(alphabet))]
		}
		tags = append(tags, s)
	}
	return tags
}

// TestParseTagItemsPlain checks that the byte walk answers exactly as the rune walk
// wherever it answers at all.
func TestParseTagItemsPlain(t *testing.T) {
	answered := 0
	for _, tag := range randomTags(60000) {
		for _, chr := range []tagChars{bareChars, kongChars} {
			got, ok := parseTagItemsPlain(tag, chr)
			want, err := parseTagItemsEscaped(tag, chr)
			if !ok {
				continue
			}
			answered++
			if err != nil {
				t.Fatalf("%q: plain parsed %v where the escaped parser fails: %v", tag, got, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: plain %q, escaped %q", tag, got, want)
			}
		}
	}
	if answered < 8000 {
		t.Errorf("the plain parser answered only %d tags", answered)
	}
}

// TestInterpolateWithoutDollar checks that the regular expression leaves a string
// without a "$" as it is, which interpolate assumes without running it.
func TestInterpolateWithoutDollar(t *testing.T) {
	vars := Vars{"version": "1", "default": "d"}
	for _, s := range randomTags(30000) {
		want, err := interpolateMatches(s, vars, map[string]string{"default": "x"})
		got, gotErr := interpolate(s, vars, map[string]string{"default": "x"})
		if err != nil || gotErr != nil {
			if (err == nil) != (gotErr == nil) {
				t.Fatalf("%q: error %v, interpolated %v", s, gotErr, err)
			}
			continue
		}
		if got != want {
			t.Fatalf("%q: %q, the regular expression gives %q", s, got, want)
		}
		if HasInterpolatedVar(s, "version") != (interpolationRegex().MatchString(s) && hasVarByRegexp(s, "version")) {
			t.Fatalf("%q: HasInterpolatedVar differs", s)
		}
	}
}

func hasVarByRegexp(s, v string) bool {
	for _, m := range interpolationRegex().FindAllStringSubmatch(s, -1) {
		if m[3] == v {
			return true
		}
	}
	return false
}

// TestDashedLowerASCII checks the ASCII flag namer against camelCase's.
func TestDashedLowerASCII(t *testing.T) {
	alphabet := "aAbZz09_- ."
	rng := rand.New(rand.NewSource(3))
	names := []string{"", "lowercase", "Class", "MyClass", "MyC", "HTML", "PDFLoader", "AString", "SimpleXMLParser",
		"vimRPCPlugin", "GL11Version", "99Bottles", "May5", "BFG9000", "Two  spaces", "CPUs", "IPv6", "OOMKillDisable", "ABc"}
	for len(names) < 200000 {
		b := make([]byte, rng.Intn(10))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, name := range names {
		got, ok := dashedLowerASCII(name)
		if want := strings.ToLower(dashedString(name)); !ok || got != want {
			t.Fatalf("%q: %q (%v), camelCase's %q", name, got, ok, want)
		}
	}
	if _, ok := dashedLowerASCII("BöseÜberraschung"); ok {
		t.Errorf("answered for a name that is not ASCII")
	}
}

// TestHydrateTagAsUpstream checks hydrateTag, which looks up only the keys a tag has,
// against v1.17.0's, which looks each one up, on tags made of every key it reads.
func TestHydrateTagAsUpstream(t *testing.T) {
	keys := []string{"cmd", "arg", "required", "optional", "default", "name", "help", "type", "env", "short", "hidden",
		"format", "sep", "mapsep", "group", "xor", "lastwins", "and", "prefix", "envprefix", "xorprefix", "embed",
		"negatable", "aliases", "set", "placeholder", "enum", "passthrough", "other"}
	values := []string{"", "x", "a,b c", "none", "ab", "é", "partial", "all", "k=v", "withargs"}
	types := []reflect.Type{nil, reflect.TypeOf(""), reflect.TypeOf([]string{}), reflect.TypeOf(map[string]int{}), reflect.TypeOf(new(int)), reflect.TypeOf(false)}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 100000; i++ {
		var parts []string
		for n := rng.Intn(5); n > 0; n-- {
			parts = append(parts, fmt.Sprintf("%s:%q", keys[rng.Intn(len(keys))], values[rng.Intn(len(values))]))
		}
		items, err := parseTagItems(strings.Join(parts, " "), bareChars)
		if err != nil {
			t.Fatal(err)
		}
		typ := types[rng.Intn(len(types))]
		got, want := &Tag{items: items}, &Tag{items: items}
		gotErr, wantErr := hydrateTag(got, typ), hydrateTagUpstream(want, typ)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: error %v, upstream's %v", parts, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n%#v\nupstream's\n%#v", parts, got, want)
		}
	}
}

func hydrateTagUpstream(t *Tag, typ reflect.Type) error { //nolint: gocyclo
	var typeName string
	if typ != nil {
		typeName = typ.Name()
	}
	var err error
	t.Cmd = t.Has("cmd")
	t.Arg = t.Has("arg")
	required := t.Has("required")
	optional := t.Has("optional")
	if required && optional {
		return fmt.Errorf("can't specify both required and optional")
	}
	t.Required = required
	t.Optional = optional
	t.HasDefault = t.Has("default")
	t.Default = t.Get("default")
	// Arguments with defaults are always optional.
	if t.Arg && t.HasDefault {
		t.Optional = true
	} else if t.Arg && !optional { // Arguments are required unless explicitly made optional.
		t.Required = true
	}
	t.Name = t.Get("name")
	t.Help = t.Get("help")
	t.Type = t.Get("type")
	t.TypeName = typeName
	for _, env := range t.GetAll("env") {
		t.Envs = append(t.Envs, strings.FieldsFunc(env, tagSplitFn)...)
	}
	t.Short, err = t.GetRune("short")
	if err != nil && t.Get("short") != "" {
		return fmt.Errorf("invalid short flag name %q: %s", t.Get("short"), err)
	}
	t.Hidden = t.Has("hidden")
	t.Format = t.Get("format")
	t.Sep, _ = t.GetSep("sep", ',')
	t.MapSep, _ = t.GetSep("mapsep", ';')
	t.Group = t.Get("group")
	for _, xor := range t.GetAll("xor") {
		t.Xor = append(t.Xor, strings.FieldsFunc(xor, tagSplitFn)...)
	}
	for _, lastWins := range t.GetAll("lastwins") {
		t.LastWins = append(t.LastWins, strings.FieldsFunc(lastWins, tagSplitFn)...)
	}
	if len(t.LastWins) > 0 {
		group := t.LastWins[0]
		for _, lastWins := range t.LastWins[1:] {
			if lastWins != group {
				return fmt.Errorf("lastwins flags can only belong to one group")
			}
		}
		t.LastWins = t.LastWins[:1]
	}
	for _, and := range t.GetAll("and") {
		t.And = append(t.And, strings.FieldsFunc(and, tagSplitFn)...)
	}
	t.Prefix = t.Get("prefix")
	t.EnvPrefix = t.Get("envprefix")
	t.XorPrefix = t.Get("xorprefix")
	t.Embed = t.Has("embed")
	if t.Has("negatable") {
		negatable := t.Get("negatable")
		if negatable == "" {
			negatable = negatableDefault // placeholder for default negation of --no-<flag>
		}
		t.Negatable = negatable
	}
	aliases := t.Get("aliases")
	if len(aliases) > 0 {
		t.Aliases = append(t.Aliases, strings.FieldsFunc(aliases, tagSplitFn)...)
	}
	t.Vars = Vars{}
	for _, set := range t.GetAll("set") {
		parts := strings.SplitN(set, "=", 2)
		if len(parts) != 2 {
			return fmt.Errorf("set should be in the form key=value but got %q", set)
		}
		t.Vars[parts[0]] = parts[1]
	}
	t.PlaceHolder = t.Get("placeholder")
	t.Enum = t.Get("enum")
	scalarType := typ == nil || !(typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Ptr)
	if t.Enum != "" && !(t.Required || t.HasDefault) && scalarType {
		return fmt.Errorf("enum value is only valid if it is either required or has a valid default value")
	}
	passthrough := t.Has("passthrough")
	if passthrough && !t.Arg && !t.Cmd {
		return fmt.Errorf("passthrough only makes sense for positional arguments or commands")
	}
	t.Passthrough = passthrough
	if t.Passthrough {
		passthroughMode := t.Get("passthrough")
		switch passthroughMode {
		case "partial":
			t.PassthroughMode = PassThroughModePartial
		case "all", "":
			t.PassthroughMode = PassThroughModeAll
		default:
			return fmt.Errorf("invalid passthrough mode %q, must be one of 'partial' or 'all'", passthroughMode)
		}
	}
	return nil
}
