package appletname

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestBase(t *testing.T) {
	for _, p := range []string{"", "/", "//", "minibox", "/usr/bin/minibox", "bin/minibox/", "a//b//", "./minibox", "..", "/x/.", "é/ü"} {
		if got, want := Base(p), filepath.Base(p); got != want {
			t.Errorf("Base(%q) = %q, filepath.Base %q", p, got, want)
		}
	}
}

func TestOf(t *testing.T) {
	for _, c := range []struct {
		argv []string
		name string
		args []string
	}{
		{[]string{"minibox"}, CLI, []string{}},
		{[]string{"/usr/local/bin/minibox", "run", "--rm", "bb"}, CLI, []string{"run", "--rm", "bb"}},
		{[]string{"minibox", "daemon", "--x"}, Daemon, []string{"--x"}},
		{[]string{"minibox", "lazyfs"}, LazyFS, []string{}},
		{[]string{"minibox", "dns", "a"}, DNS, []string{"a"}},
		{[]string{"/bin/miniboxd", "daemon"}, Daemon, []string{"daemon"}},
		{[]string{"minibox-lazyfs", "dns"}, LazyFS, []string{"dns"}},
		{[]string{"minibox-dns"}, DNS, []string{}},
		{[]string{"mb", "daemon"}, Daemon, []string{}}, // any other name is the CLI, aliases and all
		{[]string{"mb", "ps"}, CLI, []string{"ps"}},
		{[]string{"minibox", "run", "daemon"}, CLI, []string{"run", "daemon"}},
	} {
		name, args := Of(c.argv)
		if name != c.name || !slices.Equal(args, c.args) {
			t.Errorf("Of(%q) = %q %q, want %q %q", c.argv, name, args, c.name, c.args)
		}
	}
}
