package kong

import (
	"math/rand"
	"reflect"
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
		if HasInterpolatedVar(s, "version") != (interpolationRegex.MatchString(s) && hasVarByRegexp(s, "version")) {
			t.Fatalf("%q: HasInterpolatedVar differs", s)
		}
	}
}

func hasVarByRegexp(s, v string) bool {
	for _, m := range interpolationRegex.FindAllStringSubmatch(s, -1) {
		if m[3] == v {
			return true
		}
	}
	return false
}
