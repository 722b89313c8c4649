package build

import "testing"

func TestIgnore(t *testing.T) {
	ig, err := ParseIgnore([]byte("# deps\nnode_modules\n*.log\n/build\ndocs/**/*.md\n!docs/keep/README.md\nsecret?.txt\n[ab].tmp\n"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"node_modules":                true,
		"web/node_modules/x/index.js": true,
		"app.log":                     true,
		"logs/today.log":              true,
		"build/out":                   true,
		"src/build":                   false,
		"docs/a.md":                   true,
		"docs/x/y/b.md":               true,
		"docs/keep/README.md":         false,
		"docs/keep/other.md":          true,
		"secret1.txt":                 true,
		"secret12.txt":                false,
		"a.tmp":                       true,
		"c.tmp":                       false,
		"main.go":                     false,
		".miniboxignore":              false,
	} {
		if got := ig.Excluded(path); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", path, got, want)
		}
	}
}
