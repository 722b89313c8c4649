package ignore

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIgnore(t *testing.T) {
	ig, err := Parse([]byte("# deps\nnode_modules\n*.log\n/build\ndocs/**/*.md\n!docs/keep/README.md\nsecret?.txt\n[ab].tmp\n"))
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

// TestDockerIgnoreExceptionInExcludedDir: an exception below an excluded directory
// re-includes the file (Docker's rule), and only directories that can hold one are
// walked into.
func TestDockerIgnoreExceptionInExcludedDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("vendor\n!vendor/keep/*.txt\nlogs/\n!**/important.log\nbuild\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := LoadDocker(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"vendor":                  true,
		"vendor/lib.go":           true,
		"vendor/keep/a.txt":       false,
		"vendor/keep/a.go":        true,
		"logs/x.log":              true,
		"logs/deep/important.log": false,
		"build/out":               true,
		"main.go":                 false,
	} {
		if got := ig.Excluded(path); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", path, got, want)
		}
	}
	if !ig.Descend("logs/deep") || !ig.Descend("build") {
		t.Errorf("**/important.log may be below any directory")
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("vendor\nbuild\n!vendor/keep/*.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ig, err = LoadDocker(dir); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"vendor":      true,
		"vendor/keep": true,
		"vendor/gone": false,
		"build":       false,
	} {
		if got := ig.Descend(path); got != want {
			t.Errorf("Descend(%q) = %v, want %v", path, got, want)
		}
	}
	none, _ := Parse([]byte("vendor\n!vendor/x\n"))
	if none.Descend("vendor") {
		t.Errorf("a .miniboxignore never descends (its own rules re-include directly)")
	}
}
