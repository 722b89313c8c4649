package build

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibox/minibox/pkg/build/ignore"
)

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
	ig, err := ignore.LoadDocker(dir)
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
