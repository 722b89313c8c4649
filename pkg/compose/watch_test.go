package compose

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestTriggerMatching(t *testing.T) {
	s := types.ServiceConfig{Name: "web"}
	tr, err := newTrigger(s, 0, types.Trigger{Path: "/p/src", Action: types.WatchActionSync, Target: "/srv",
		Ignore: []string{"*.tmp", "node_modules"}})
	if err != nil {
		t.Fatal(err)
	}
	got := tr.matching([]string{"/p/src/a.go", "/p/src/b.tmp", "/p/src/node_modules/x/y.js", "/p/other/c.go", "/p/src", "/p/srcx/d"})
	if want := []string{"a.go", "."}; !slices.Equal(got, want) {
		t.Errorf("matching: %q, want %q", got, want)
	}
	tr, err = newTrigger(s, 0, types.Trigger{Path: "/p/src", Action: types.WatchActionRestart, Include: []string{"*.conf"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.matching([]string{"/p/src/a.conf", "/p/src/b.txt"}); !slices.Equal(got, []string{"a.conf"}) {
		t.Errorf("include: %q", got)
	}
}

// A change of the watched directory itself (chmod, touch) is not a change of what it
// holds; a watched file's own change is.
func TestTriggerMatchingDirItself(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.conf")
	os.WriteFile(file, nil, 0o644)
	s := types.ServiceConfig{Name: "web"}
	onDir, _ := newTrigger(s, 0, types.Trigger{Path: dir, Action: types.WatchActionRestart})
	if got := onDir.matching([]string{dir, file}); !slices.Equal(got, []string{"f.conf"}) {
		t.Errorf("directory trigger: %q", got)
	}
	onFile, _ := newTrigger(s, 0, types.Trigger{Path: file, Action: types.WatchActionRestart})
	if got := onFile.matching([]string{dir, file}); !slices.Equal(got, []string{"."}) {
		t.Errorf("file trigger: %q", got)
	}
}

func TestTriggerRefused(t *testing.T) {
	s := types.ServiceConfig{Name: "web"}
	for _, c := range []struct {
		t    types.Trigger
		want string
	}{
		{types.Trigger{Path: "/p", Action: types.WatchActionSync}, "absolute target"},
		{types.Trigger{Path: "/p", Action: types.WatchActionSync, Target: "srv"}, "absolute target"},
		{types.Trigger{Path: "/p", Action: types.WatchActionSyncExec, Target: "/srv"}, "exec.command"},
		{types.Trigger{Path: "/p", Action: types.WatchActionRebuild}, "build section"},
		{types.Trigger{Path: "/p", Action: "copy"}, `action "copy"`},
		{types.Trigger{Path: "rel", Action: types.WatchActionRestart}, "not resolved"},
	} {
		_, err := newTrigger(s, 2, c.t)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "services.web.develop.watch[2]") {
			t.Errorf("%+v: %v, want %q", c.t, err, c.want)
		}
	}
}

func TestTarTree(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(dir, "d", "e", "f.txt"), []byte("hello"), 0o644)
	os.Symlink("e/f.txt", filepath.Join(dir, "d", "link"))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tarTree(tw, filepath.Join(dir, "d"), "srv/d"); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	tr := tar.NewReader(&b)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "srv/d/e/f.txt" {
			if body, _ := io.ReadAll(tr); string(body) != "hello" {
				t.Errorf("f.txt: %q", body)
			}
		}
		if h.Name == "srv/d/link" && h.Linkname != "e/f.txt" {
			t.Errorf("link to %q", h.Linkname)
		}
	}
	if want := []string{"srv/d/", "srv/d/e/", "srv/d/e/f.txt", "srv/d/link"}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}
