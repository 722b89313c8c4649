package kong

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PassthroughMode indicates how parameters are passed through when "passthrough" is set.
type PassthroughMode int

const (
	// PassThroughModeNone indicates passthrough mode is disabled.
	PassThroughModeNone PassthroughMode = iota
	// PassThroughModeAll indicates that all parameters, including flags, are passed through. It is the default.
	PassThroughModeAll
	// PassThroughModePartial will validate flags until the first positional argument is encountered, then pass through all remaining positional arguments.
	PassThroughModePartial
)

// Tag represents the parsed state of Kong tags in a struct field tag.
type Tag struct {
	Ignored         bool // Field is ignored by Kong. ie. kong:"-"
	Cmd             bool
	Arg             bool
	Required        bool
	Optional        bool
	Name            string
	Help            string
	Type            string
	TypeName        string
	HasDefault      bool
	Default         string
	Format          string
	PlaceHolder     string
	Envs            []string
	Short           rune
	Hidden          bool
	Sep             rune
	MapSep          rune
	Enum            string
	Group           string
	Xor             []string
	LastWins        []string
	And             []string
	Vars            Vars
	Prefix          string // Optional prefix on anonymous structs. All sub-flags will have this prefix.
	EnvPrefix       string
	XorPrefix       string // Optional prefix on XOR/AND/last-wins groups.
	Embed           bool
	Aliases         []string
	Negatable       string
	Passthrough     bool // Deprecated: use PassthroughMode instead.
	PassthroughMode PassthroughMode

	// Storage for all tag keys for arbitrary lookups.
	items tagItems
}

func (t *Tag) String() string {
	out := []string{}
	for _, item := range t.items {
		for _, value := range item.values {
			out = append(out, fmt.Sprintf("%s:%q", item.key, value))
		}
	}
	return strings.Join(out, " ")
}

// tagItems are a tag's keys and their values, the keys in the order they first appear.
// It stands for the map upstream keeps: a tag has a handful of keys, found sooner by
// comparing them than by hashing, and one slice is made for a tag where a map made two
// objects and grew (a parse of run's grammar makes some 150).
type tagItems []tagItem

type tagItem struct {
	key    string
	values []string
}

// get is the map's items[k], found.
func (t tagItems) get(k string) ([]string, bool) {
	for i := range t {
		if t[i].key == k {
			return t[i].values, true
		}
	}
	return nil, false
}

// add appends v to k's values (items[k] = append(items[k], v)).
func (t *tagItems) add(k, v string) {
	for i := range *t {
		if (*t)[i].key == k {
			(*t)[i].values = append((*t)[i].values, v)
			return
		}
	}
	*t = append(*t, tagItem{k, []string{v}})
}

// prepend puts vs before k's values (items[k] = append(vs, items[k]...)).
func (t *tagItems) prepend(k string, vs []string) {
	for i := range *t {
		if (*t)[i].key == k {
			(*t)[i].values = append(vs, (*t)[i].values...)
			return
		}
	}
	*t = append(*t, tagItem{k, append(vs, []string(nil)...)})
}

// remove deletes k (delete(items, k)).
func (t *tagItems) remove(k string) {
	for i := range *t {
		if (*t)[i].key == k {
			*t = append((*t)[:i], (*t)[i+1:]...)
			return
		}
	}
}

type tagChars struct {
	sep, quote, assign rune
	needsUnquote       bool
}

var kongChars = tagChars{sep: ',', quote: '\'', assign: '=', needsUnquote: false}
var bareChars = tagChars{sep: ' ', quote: '"', assign: ':', needsUnquote: true}

func parseTagItems(tagString string, chr tagChars) (tagItems, error) {
	if d, ok := parseTagItemsPlain(tagString, chr); ok {
		return d, nil
	}
	return parseTagItemsEscaped(tagString, chr)
}

// parseTagItemsPlain is parseTagItemsEscaped for the tags nearly every program has:
// valid UTF-8 without a backslash or a newline. Their separator, quote and assignment
// characters are ASCII, so the bytes can be walked in place of the runes, and unquoting
// a value that holds neither a backslash, a newline nor a quote gives the value back, so
// it is not done. ok is false for any other tag or on an error, for
// parseTagItemsEscaped to answer, with its messages.
func parseTagItemsPlain(tagString string, chr tagChars) (d tagItems, ok bool) {
	if strings.ContainsAny(tagString, "\\\n") || !utf8.ValidString(tagString) {
		return nil, false
	}
	// One item a key, at most one a separator outside quotes; sized for one an assignment.
	d = make(tagItems, 0, strings.Count(tagString, string(chr.assign))+1)
	// A key or a value is the bytes the walk keeps between a separator, an assignment
	// and quotes: nearly always one run of tagString, taken as it is without a copy. One
	// that is not (a quote inside a key, or a value quoted in pieces) is left to the
	// escaped parser.
	var keyStart, keyEnd, valueStart, valueEnd int
	// Each key's values start as one-element windows (capacity one, so that a repeated
	// key's append copies) on one array for the tag, sized for one value per assignment.
	values := make([]string, 0, strings.Count(tagString, string(chr.assign))+1)
	quotes := false
	inKey := true
	add := func() {
		key, value := tagString[keyStart:keyEnd], tagString[valueStart:valueEnd]
		if _, seen := d.get(key); seen {
			d.add(key, value)
		} else {
			values = append(values, value)
			d = append(d, tagItem{key, values[len(values)-1 : len(values) : len(values)]})
		}
		keyStart, keyEnd, valueStart, valueEnd = 0, 0, 0, 0
		inKey = true
	}
	// keep extends the run [start, end) with the byte at idx; false if it is not next to it.
	keep := func(start, end *int, idx int) bool {
		if *start == *end {
			*start, *end = idx, idx+1
			return true
		}
		if *end != idx {
			return false
		}
		*end++
		return true
	}
	sep, quote, assign := byte(chr.sep), byte(chr.quote), byte(chr.assign)
	for idx := 0; idx < len(tagString); idx++ {
		r := tagString[idx]
		if !quotes && r == sep {
			add()
			continue
		}
		if r == assign && inKey {
			inKey = false
			continue
		}
		if r == quote {
			if quotes {
				quotes = false
				if idx == len(tagString)-1 || tagString[idx+1] == sep {
					continue
				}
				return nil, false
			}
			quotes = true
			continue
		}
		if inKey {
			if !keep(&keyStart, &keyEnd, idx) {
				return nil, false
			}
		} else if !keep(&valueStart, &valueEnd, idx) {
			return nil, false
		}
	}
	if quotes {
		return nil, false
	}
	add()
	return d, true
}

//nolint:gocyclo
func parseTagItemsEscaped(tagString string, chr tagChars) (tagItems, error) {
	d := tagItems{}
	key := []rune{}
	value := []rune{}
	quotes := false
	inKey := true

	add := func() error {
		// Bare tags are quoted, therefore we need to unquote them in the same fashion reflect.Lookup() (implicitly)
		// unquotes "kong tags".
		s := string(value)

		if chr.needsUnquote && s != "" {
			if unquoted, err := strconv.Unquote(fmt.Sprintf(`"%s"`, s)); err == nil {
				s = unquoted
			} else {
				return fmt.Errorf("unquoting tag value `%s`: %w", s, err)
			}
		}

		d.add(string(key), s)
		key = []rune{}
		value = []rune{}
		inKey = true

		return nil
	}

	runes := []rune(tagString)
	for idx := 0; idx < len(runes); idx++ {
		r := runes[idx]
		next := rune(0)
		eof := false
		if idx < len(runes)-1 {
			next = runes[idx+1]
		} else {
			eof = true
		}
		if !quotes && r == chr.sep {
			if err := add(); err != nil {
				return nil, err
			}

			continue
		}
		if r == chr.assign && inKey {
			inKey = false
			continue
		}
		if r == '\\' {
			if next == chr.quote {
				idx++

				// We need to keep the backslashes, otherwise subsequent unquoting cannot work
				if chr.needsUnquote {
					value = append(value, r)
				}

				r = chr.quote
			}
		} else if r == chr.quote {
			if quotes {
				quotes = false
				if next == chr.sep || eof {
					continue
				}
				return nil, fmt.Errorf("%v has an unexpected char at pos %v", tagString, idx)
			}
			quotes = true
			continue
		}
		if inKey {
			key = append(key, r)
		} else {
			value = append(value, r)
		}
	}
	if quotes {
		return nil, fmt.Errorf("%v is not quoted properly", tagString)
	}

	if err := add(); err != nil {
		return nil, err
	}

	return d, nil
}

func parseStructTagItems(tag reflect.StructTag) (tagItems, error) {
	items, err := parseTagItems(string(tag), bareChars)
	if err != nil {
		return nil, err
	}
	items.remove("kong")

	kongTag, ok := lookupKong(tag)
	if !ok {
		return items, nil
	}
	kongItems, err := parseTagItems(kongTag, kongChars)
	if err != nil {
		return nil, err
	}
	for _, item := range kongItems {
		items.prepend(item.key, item.values)
	}
	return items, nil
}

func newEmptyTag() *Tag {
	return &Tag{items: tagItems{}}
}

func tagSplitFn(r rune) bool {
	return r == ',' || r == ' '
}

func parseTagString(s string) (*Tag, error) {
	items, err := parseTagItems(s, bareChars)
	if err != nil {
		return nil, err
	}
	t := &Tag{
		items: items,
	}
	err = hydrateTag(t, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", s, err)
	}
	return t, nil
}

// lookupKong is tag.Lookup("kong"), which can only succeed where the tag holds `kong:`:
// that check alone answers for the tags nearly every program has (a lookup scans the
// whole tag, help string and all).
func lookupKong(tag reflect.StructTag) (string, bool) {
	if !strings.Contains(string(tag), "kong:") {
		return "", false
	}
	return tag.Lookup("kong")
}

func parseTag(parent reflect.Value, ft reflect.StructField) (*Tag, error) {
	if kongTag, _ := lookupKong(ft.Tag); kongTag == "-" {
		t := newEmptyTag()
		t.Ignored = true
		return t, nil
	}
	items := tagItems{}
	// First use a [Signature] if present
	signatureTag, ok := maybeGetSignature(ft.Type)
	if ok {
		signatureItems, err := parseStructTagItems(signatureTag)
		if err != nil {
			return nil, err
		}
		items = signatureItems
	}
	// Next overlay the field's tags.
	fieldItems, err := parseStructTagItems(ft.Tag)
	if err != nil {
		return nil, err
	}
	if !ok {
		items = fieldItems // what the overlay below makes of an empty map
	}
	for _, item := range fieldItems {
		if !ok {
			break
		}
		// Prepend field tag values
		items.prepend(item.key, item.values)
	}

	t := &Tag{
		items: items,
	}
	err = hydrateTag(t, ft.Type)
	if err != nil {
		return nil, failField(parent, ft, "%s", err)
	}
	return t, nil
}

// tagKeySet is a set of the keys hydrateTag reads.
type tagKeySet uint32

const (
	keyCmd tagKeySet = 1 << iota
	keyArg
	keyRequired
	keyOptional
	keyDefault
	keyName
	keyHelp
	keyType
	keyEnv
	keyShort
	keyHidden
	keyFormat
	keySep
	keyMapsep
	keyGroup
	keyXor
	keyLastwins
	keyAnd
	keyPrefix
	keyEnvprefix
	keyXorprefix
	keyEmbed
	keyNegatable
	keyAliases
	keySet
	keyPlaceholder
	keyEnum
	keyPassthrough
)

// tagKeyOf is key k's bit in a tagKeySet; 0 for a key hydrateTag does not read.
func tagKeyOf(k string) tagKeySet {
	switch k {
	case "cmd":
		return keyCmd
	case "arg":
		return keyArg
	case "required":
		return keyRequired
	case "optional":
		return keyOptional
	case "default":
		return keyDefault
	case "name":
		return keyName
	case "help":
		return keyHelp
	case "type":
		return keyType
	case "env":
		return keyEnv
	case "short":
		return keyShort
	case "hidden":
		return keyHidden
	case "format":
		return keyFormat
	case "sep":
		return keySep
	case "mapsep":
		return keyMapsep
	case "group":
		return keyGroup
	case "xor":
		return keyXor
	case "lastwins":
		return keyLastwins
	case "and":
		return keyAnd
	case "prefix":
		return keyPrefix
	case "envprefix":
		return keyEnvprefix
	case "xorprefix":
		return keyXorprefix
	case "embed":
		return keyEmbed
	case "negatable":
		return keyNegatable
	case "aliases":
		return keyAliases
	case "set":
		return keySet
	case "placeholder":
		return keyPlaceholder
	case "enum":
		return keyEnum
	case "passthrough":
		return keyPassthrough
	}
	return 0
}

func hydrateTag(t *Tag, typ reflect.Type) error { //nolint: gocyclo
	var typeName string
	if typ != nil {
		typeName = typ.Name()
	}
	var err error
	// The keys the tag has, found in one pass: most of the thirty looked up below are
	// absent from any one tag, and each answers without a map lookup.
	var present tagKeySet
	for _, item := range t.items {
		present |= tagKeyOf(item.key)
	}
	has := func(key tagKeySet) bool { return present&key != 0 }
	get := func(key tagKeySet, name string) string {
		if present&key == 0 {
			return ""
		}
		return t.Get(name)
	}
	getAll := func(key tagKeySet, name string) []string {
		if present&key == 0 {
			return nil
		}
		return t.GetAll(name)
	}
	t.Cmd = has(keyCmd)
	t.Arg = has(keyArg)
	required := has(keyRequired)
	optional := has(keyOptional)
	if required && optional {
		return fmt.Errorf("can't specify both required and optional")
	}
	t.Required = required
	t.Optional = optional
	t.HasDefault = has(keyDefault)
	t.Default = get(keyDefault, "default")
	// Arguments with defaults are always optional.
	if t.Arg && t.HasDefault {
		t.Optional = true
	} else if t.Arg && !optional { // Arguments are required unless explicitly made optional.
		t.Required = true
	}
	t.Name = get(keyName, "name")
	t.Help = get(keyHelp, "help")
	t.Type = get(keyType, "type")
	t.TypeName = typeName
	for _, env := range getAll(keyEnv, "env") {
		t.Envs = append(t.Envs, strings.FieldsFunc(env, tagSplitFn)...)
	}
	t.Short = 0 // what GetRune answers for no short tag, with an error ignored below
	if has(keyShort) {
		t.Short, err = t.GetRune("short")
		if err != nil && t.Get("short") != "" {
			return fmt.Errorf("invalid short flag name %q: %s", t.Get("short"), err)
		}
	}
	t.Hidden = has(keyHidden)
	t.Format = get(keyFormat, "format")
	t.Sep, t.MapSep = ',', ';' // GetSep's answers for no tag
	if has(keySep) {
		t.Sep, _ = t.GetSep("sep", ',')
	}
	if has(keyMapsep) {
		t.MapSep, _ = t.GetSep("mapsep", ';')
	}
	t.Group = get(keyGroup, "group")
	for _, xor := range getAll(keyXor, "xor") {
		t.Xor = append(t.Xor, strings.FieldsFunc(xor, tagSplitFn)...)
	}
	for _, lastWins := range getAll(keyLastwins, "lastwins") {
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
	for _, and := range getAll(keyAnd, "and") {
		t.And = append(t.And, strings.FieldsFunc(and, tagSplitFn)...)
	}
	t.Prefix = get(keyPrefix, "prefix")
	t.EnvPrefix = get(keyEnvprefix, "envprefix")
	t.XorPrefix = get(keyXorprefix, "xorprefix")
	t.Embed = has(keyEmbed)
	if has(keyNegatable) {
		negatable := get(keyNegatable, "negatable")
		if negatable == "" {
			negatable = negatableDefault // placeholder for default negation of --no-<flag>
		}
		t.Negatable = negatable
	}
	aliases := get(keyAliases, "aliases")
	if len(aliases) > 0 {
		t.Aliases = append(t.Aliases, strings.FieldsFunc(aliases, tagSplitFn)...)
	}
	t.Vars = Vars{}
	for _, set := range getAll(keySet, "set") {
		parts := strings.SplitN(set, "=", 2)
		if len(parts) != 2 {
			return fmt.Errorf("set should be in the form key=value but got %q", set)
		}
		t.Vars[parts[0]] = parts[1]
	}
	t.PlaceHolder = get(keyPlaceholder, "placeholder")
	t.Enum = get(keyEnum, "enum")
	scalarType := typ == nil || !(typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Ptr)
	if t.Enum != "" && !(t.Required || t.HasDefault) && scalarType {
		return fmt.Errorf("enum value is only valid if it is either required or has a valid default value")
	}
	passthrough := has(keyPassthrough)
	if passthrough && !t.Arg && !t.Cmd {
		return fmt.Errorf("passthrough only makes sense for positional arguments or commands")
	}
	t.Passthrough = passthrough
	if t.Passthrough {
		passthroughMode := get(keyPassthrough, "passthrough")
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

// Has returns true if the tag contained the given key.
func (t *Tag) Has(k string) bool {
	_, ok := t.items.get(k)
	return ok
}

// Get returns the value of the given tag.
//
// Note that this will return the empty string if the tag is missing.
func (t *Tag) Get(k string) string {
	values, _ := t.items.get(k)
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// GetAll returns all encountered values for a tag, in the case of multiple occurrences.
func (t *Tag) GetAll(k string) []string {
	values, _ := t.items.get(k)
	return values
}

// GetBool returns true if the given tag looks like a boolean truth string.
func (t *Tag) GetBool(k string) (bool, error) {
	return strconv.ParseBool(t.Get(k))
}

// GetFloat parses the given tag as a float64.
func (t *Tag) GetFloat(k string) (float64, error) {
	return strconv.ParseFloat(t.Get(k), 64)
}

// GetInt parses the given tag as an int64.
func (t *Tag) GetInt(k string) (int64, error) {
	return strconv.ParseInt(t.Get(k), 10, 64)
}

// GetRune parses the given tag as a rune.
func (t *Tag) GetRune(k string) (rune, error) {
	value := t.Get(k)
	r, size := utf8.DecodeRuneInString(value)
	if r == utf8.RuneError || size < len(value) {
		return 0, errors.New("invalid rune")
	}
	return r, nil
}

// GetSep parses the given tag as a rune separator, allowing for a default or none.
// The separator is returned, or -1 if "none" is specified. If the tag value is an
// invalid utf8 sequence, the default rune is returned as well as an error. If the
// tag value is more than one rune, the first rune is returned as well as an error.
func (t *Tag) GetSep(k string, dflt rune) (rune, error) {
	tv := t.Get(k)
	if tv == "none" {
		return -1, nil
	} else if tv == "" {
		return dflt, nil
	}
	r, size := utf8.DecodeRuneInString(tv)
	if r == utf8.RuneError {
		return dflt, fmt.Errorf(`%v:"%v" has a rune error`, k, tv)
	} else if size != len(tv) {
		return r, fmt.Errorf(`%v:"%v" is more than a single rune`, k, tv)
	}
	return r, nil
}

// Signature allows flags, args and commands to supply a default set of tags,
// that can be overridden by the field itself.
type Signature interface {
	// Signature returns default tags for the flag, arg or command.
	//
	// eg. `name:"migrate" help:"Run migrations" aliases:"mig,mg"`.
	Signature() string
}

var signatureOverrideType = reflect.TypeOf((*Signature)(nil)).Elem()

func maybeGetSignature(t reflect.Type) (reflect.StructTag, bool) {
	ut := t
	if ut.Kind() == reflect.Pointer {
		ut = ut.Elem()
	}
	// A pointer's method set holds its element's: a type whose pointer has no Signature
	// has none, and no zero value of it (a whole command's struct, for a command) need be
	// made to find out.
	if !reflect.PointerTo(ut).Implements(signatureOverrideType) {
		return "", false
	}
	ptr := reflect.New(ut)
	var sig string
	for _, v := range []reflect.Value{ptr, ptr.Elem()} {
		if v.Type().Implements(signatureOverrideType) {
			sig = v.Interface().(Signature).Signature() //nolint:forcetypeassert
			break
		}
	}
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return "", false
	}
	return reflect.StructTag(sig), true
}
