package boxinit

import (
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group  = "root:x:0:\ntty:x:5:\nusers:x:100:user,other\nuser:x:1000:\nwheel:x:10:root\n"
)

func text(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

func TestLookupUser(t *testing.T) {
	for in, want := range map[string]identity{
		"":          {UID: 0, GID: 0, Groups: []int{10}, Home: "/root"},
		"root":      {UID: 0, GID: 0, Groups: []int{10}, Home: "/root"},
		"user":      {UID: 1000, GID: 1000, Groups: []int{100}, Home: "/home/user"},
		"1000":      {UID: 1000, GID: 1000, Groups: []int{100}, Home: "/home/user"},
		"user:tty":  {UID: 1000, GID: 5, Groups: []int{100}, Home: "/home/user"},
		"1000:42":   {UID: 1000, GID: 42, Groups: []int{100}, Home: "/home/user"},
		"4242":      {UID: 4242, GID: 0, Home: "/"},
		"4242:4242": {UID: 4242, GID: 4242, Home: "/"},
	} {
		got, err := lookupUser(in, text(passwd), text(group))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("lookupUser(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"nosuch", "user:nogroup"} {
		if _, err := lookupUser(in, text(passwd), text(group)); err == nil || !strings.HasPrefix(err.Error(), "unable to find") {
			t.Errorf("lookupUser(%q) error = %v, want unable to find", in, err)
		}
	}
}

func TestWithDefault(t *testing.T) {
	env := []string{"PATH=/bin", "HOME=/x"}
	if got := withDefault(env, "HOME", "/root"); len(got) != 2 {
		t.Errorf("HOME replaced: %v", got)
	}
	if got := withDefault(env, "TERM", "xterm"); got[2] != "TERM=xterm" || len(env) != 2 {
		t.Errorf("withDefault = %v", got)
	}
}

func TestWithGroups(t *testing.T) {
	groups := func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("root:x:0:\naudio:x:29:\nusers:x:100:user\n")), nil
	}
	id := &identity{UID: 1000, GID: 1000, Groups: []int{100}}
	got, err := withGroups(id, []string{"audio", "4242", "users"}, groups)
	if err != nil || !slices.Equal(got.Groups, []int{100, 29, 4242}) {
		t.Errorf("withGroups = %+v, %v; want groups 100 29 4242", got, err)
	}
	if !slices.Equal(id.Groups, []int{100}) {
		t.Errorf("withGroups changed its argument: %v", id.Groups)
	}
	if _, err := withGroups(id, []string{"nosuch"}, groups); err == nil || !strings.HasPrefix(err.Error(), "unable to find group nosuch") {
		t.Errorf("withGroups(nosuch) error = %v", err)
	}
}
