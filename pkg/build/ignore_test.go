package build

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

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

// TestDockerIgnoreExceptionInExcludedDir: an exception below an excluded directory
// re-includes the file (Docker's rule), and only directories that can hold one are
// walked into.
func TestDockerIgnoreExceptionInExcludedDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("vendor\n!vendor/keep/*.txt\nlogs/\n!**/important.log\nbuild\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := LoadDockerIgnore(dir)
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
	if ig, err = LoadDockerIgnore(dir); err != nil {
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
	none, _ := ParseIgnore([]byte("vendor\n!vendor/x\n"))
	if none.Descend("vendor") {
		t.Errorf("a .miniboxignore never descends (its own rules re-include directly)")
	}
}

// TestKeyFollowsIgnoreExceptions: a context hash sees what an exception takes back from
// an excluded directory and nothing else of it.
func TestKeyFollowsIgnoreExceptions(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dockerignore", "vendor\n!vendor/keep/*.txt\n")
	write("vendor/lib.go", "v1")
	write("vendor/keep/a.txt", "a1")
	write("vendor/keep/b.go", "b1")
	ig, err := LoadDockerIgnore(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := &ctxView{root: dir, ignore: ig}
	sum := func() string {
		k := keyHash{sha256.New()}
		if err := hashTree(k, v, "", true); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(k.h.Sum(nil))
	}
	first := sum()
	write("vendor/lib.go", "v2")
	write("vendor/keep/b.go", "b2")
	if sum() != first {
		t.Errorf("a change to excluded files changed the key")
	}
	write("vendor/keep/a.txt", "a2")
	if sum() == first {
		t.Errorf("a change to the re-included vendor/keep/a.txt left the key as it was")
	}
}
