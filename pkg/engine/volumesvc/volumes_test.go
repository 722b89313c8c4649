package volumesvc

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

type event struct{ action, name string }

// service is a volume service on a fresh data root; users are the containers per volume,
// events what it published.
func service(t *testing.T) (s *Service, users map[string][]string, events *[]event) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "volumes", ".meta"), 0o700); err != nil {
		t.Fatal(err)
	}
	users = map[string][]string{}
	events = &[]event{}
	s = New(root, func(name string) []string { return users[name] }, func(action, name string, attrs map[string]string) {
		*events = append(*events, event{action, name})
	})
	return s, users, events
}

func TestCreateInspectListRemove(t *testing.T) {
	s, users, events := service(t)
	v, err := s.Create("data", map[string]string{"app": "web"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "data" || v.Mountpoint != s.Dir("data") || v.Labels["app"] != "web" || v.Anonymous || v.UsedBy == nil || v.CreatedAt.IsZero() {
		t.Errorf("created %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("mountpoint: %v", err)
	}
	// Creating it again answers it as it is.
	if again, err := s.Create("data", nil); err != nil || again.Labels["app"] != "web" {
		t.Errorf("again: %+v %v", again, err)
	}
	anon, err := s.Create("", nil)
	if err != nil || len(anon.Name) != 64 {
		t.Fatalf("a volume without a name: %+v %v", anon, err)
	}
	for _, bad := range []string{"-x", "a/b", "..", strings.Repeat("a", 65)} {
		if _, err := s.Create(bad, nil); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("create %q: %v", bad, err)
		}
		if _, err := s.Inspect(bad); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("inspect %q: %v", bad, err)
		}
	}
	vs, err := s.List()
	if err != nil || len(vs) != 2 {
		t.Fatalf("list: %+v %v", vs, err)
	}
	users["data"] = []string{"web"}
	if v, _ := s.Inspect("data"); !reflect.DeepEqual(v.UsedBy, []string{"web"}) {
		t.Errorf("used by %q", v.UsedBy)
	}
	if err := s.Remove("data", false); !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "in use by web") {
		t.Errorf("remove a volume in use: %v", err)
	}
	if err := s.Remove("data", true); err != nil {
		t.Errorf("remove with force: %v", err)
	}
	if _, err := s.Inspect("data"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("inspect after remove: %v", err)
	}
	if err := s.Remove("data", false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("remove again: %v", err)
	}
	want := []event{{"create", "data"}, {"create", "data"}, {"create", anon.Name}, {"destroy", "data"}}
	if !reflect.DeepEqual(*events, want) {
		t.Errorf("events %v, want %v", *events, want)
	}
}

func TestPrune(t *testing.T) {
	s, users, events := service(t)
	for _, n := range []string{"named", "used", "old"} {
		if _, err := s.Create(n, map[string]string{"keep": map[bool]string{true: "yes"}[n == "old"]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ensure("anon1", nil, true); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Dir("anon1"), "f"), make([]byte, 8192), 0o644)
	users["used"] = []string{"web"}
	*events = nil
	all := func(time.Time, map[string]string) bool { return true }
	warn := func(name string, err error) { t.Errorf("prune %s: %v", name, err) }
	r, err := s.Prune(false, all, warn)
	if err != nil || !reflect.DeepEqual(r.Names, []string{"anon1"}) || r.SpaceReclaimed < 8192 {
		t.Errorf("anonymous only: %+v %v", r, err)
	}
	notKept := func(_ time.Time, l map[string]string) bool { return l["keep"] != "yes" }
	r, err = s.Prune(true, notKept, warn)
	if err != nil || !reflect.DeepEqual(r.Names, []string{"named"}) {
		t.Errorf("all, but the kept: %+v %v", r, err)
	}
	vs, _ := s.List()
	var left []string
	for _, v := range vs {
		left = append(left, v.Name)
	}
	slices.Sort(left)
	if !reflect.DeepEqual(left, []string{"old", "used"}) {
		t.Errorf("left %q", left)
	}
	if want := []event{{"destroy", "anon1"}, {"prune", ""}, {"destroy", "named"}, {"prune", ""}}; !reflect.DeepEqual(*events, want) {
		t.Errorf("events %v, want %v", *events, want)
	}
}

func TestResolve(t *testing.T) {
	s, _, _ := service(t)
	host := t.TempDir()
	os.Mkdir(filepath.Join(host, "real"), 0o755)
	os.Symlink(filepath.Join(host, "real"), filepath.Join(host, "link"))
	conf := &ctrconfig.Config{
		Mounts: []ctrconfig.Mount{
			{Type: "bind", Source: filepath.Join(host, "link"), Target: "/src/", ReadOnly: true, IDMap: true},
			{Type: "volume", Source: "named", Target: "/named"},
			{Type: "volume", Target: "/anon"},
			{Type: "tmpfs", Target: "/run", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
		},
		Volumes:      map[string]string{filepath.Join(host, "new", "dir"): "/new:ro"},
		NamedVolumes: map[string]string{"other": "/other:rw"},
		Tmpfs:        []string{"/tmp:size=1m,noexec"},
	}
	img := map[string]struct{}{"/named": {}, "/var/lib/x/": {}}
	ms, anon, err := s.Resolve(conf, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(anon) != 2 || !s.Anonymous(anon[0]) || !s.Anonymous(anon[1]) || s.Anonymous("named") {
		t.Fatalf("anonymous %q", anon)
	}
	want := []Mount{
		{Type: "bind", Source: filepath.Join(host, "real"), Target: "/src", ReadOnly: true, IDMap: true},
		{Type: "volume", Name: "named", Source: s.Dir("named"), Target: "/named"},
		{Type: "volume", Name: anon[0], Source: s.Dir(anon[0]), Target: "/anon", Anonymous: true},
		{Type: "tmpfs", Target: "/run", Options: []string{"size=1048576", "mode=1777"}},
		{Type: "bind", Source: filepath.Join(host, "new", "dir"), Target: "/new", ReadOnly: true},
		{Type: "volume", Name: "other", Source: s.Dir("other"), Target: "/other"},
		{Type: "tmpfs", Target: "/tmp", Options: []string{"size=1m", "noexec"}},
		{Type: "volume", Name: anon[1], Source: s.Dir(anon[1]), Target: "/var/lib/x", Anonymous: true},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("mounts\n%+v\nwant\n%+v", ms, want)
	}
	if fi, err := os.Stat(filepath.Join(host, "new", "dir")); err != nil || !fi.IsDir() {
		t.Errorf("a missing bind source is made: %v", err)
	}
}

// TestResolveRefuses: bad mounts are refused, and the anonymous volumes made before the
// refusal are gone again.
func TestResolveRefuses(t *testing.T) {
	s, _, _ := service(t)
	root := filepath.Dir(filepath.Dir(s.Dir("x")))
	outside := t.TempDir()
	os.Symlink(root, filepath.Join(outside, "root-link"))
	anonFirst := ctrconfig.Mount{Type: "volume", Target: "/a"}
	for _, c := range []struct {
		m    ctrconfig.Mount
		kind error
		msg  string
	}{
		{ctrconfig.Mount{Type: "bind", Source: filepath.Join(root, "containers"), Target: "/x"}, errdefs.ErrForbidden, "inside the minibox data root"},
		{ctrconfig.Mount{Type: "bind", Source: filepath.Join(outside, "root-link"), Target: "/x"}, errdefs.ErrForbidden, "inside the minibox data root"},
		{ctrconfig.Mount{Type: "bind", Source: filepath.Join(root, "volumes"), Target: "/x"}, errdefs.ErrForbidden, "inside the minibox data root"},
		{ctrconfig.Mount{Type: "bind", Source: filepath.Dir(root), Target: "/x"}, errdefs.ErrForbidden, "contains the minibox data root"},
		{ctrconfig.Mount{Type: "bind", Source: "relative", Target: "/x"}, errdefs.ErrInvalid, "absolute host path"},
		{ctrconfig.Mount{Type: "volume", Source: "v", Target: "rel"}, errdefs.ErrInvalid, "must be an absolute path"},
		{ctrconfig.Mount{Type: "volume", Source: "v", Target: "/a/"}, errdefs.ErrInvalid, "duplicate mount point /a"},
		{ctrconfig.Mount{Type: "volume", Source: "v", Target: "/v", IDMap: true}, errdefs.ErrInvalid, "only a bind takes idmap"},
		{ctrconfig.Mount{Type: "nfs", Target: "/v"}, errdefs.ErrInvalid, "expected bind, volume or tmpfs"},
	} {
		conf := &ctrconfig.Config{Mounts: []ctrconfig.Mount{anonFirst, c.m}}
		ms, anon, err := s.Resolve(conf, nil)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) || ms != nil || anon != nil {
			t.Errorf("%+v: %v (mounts %v, anon %q), want %v saying %q", c.m, err, ms, anon, c.kind, c.msg)
		}
	}
	// A bind of a volume's own directory is allowed.
	if _, err := s.Create("shared", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Resolve(&ctrconfig.Config{Mounts: []ctrconfig.Mount{{Type: "bind", Source: s.Dir("shared"), Target: "/s"}}}, nil); err != nil {
		t.Errorf("a bind of a volume: %v", err)
	}
	vs, _ := s.List()
	for _, v := range vs {
		if v.Anonymous {
			t.Errorf("an anonymous volume was left: %s", v.Name)
		}
	}
}

func TestSpecMountsAndOrphans(t *testing.T) {
	s, users, _ := service(t)
	ms, anon, err := s.Resolve(&ctrconfig.Config{Mounts: []ctrconfig.Mount{
		{Type: "volume", Source: "full", Target: "/full"}, {Type: "volume", Target: "/anon"}, {Type: "bind", Source: t.TempDir(), Target: "/b"},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Dir("full"), "f"), nil, 0o644)
	// A volume removed by force since is made again, empty.
	if err := s.Remove(anon[0], true); err != nil {
		t.Fatal(err)
	}
	sms, err := s.SpecMounts(ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(sms) != 3 || sms[0].CopyUp || !sms[1].CopyUp || !sms[0].IDMap || sms[2].IDMap || sms[2].Type != "bind" {
		t.Errorf("spec mounts %+v", sms)
	}
	if !s.Anonymous(anon[0]) {
		t.Errorf("the volume made again is not anonymous")
	}
	sms = append(sms, spec.Mount{Type: "volume", Source: "/elsewhere/" + anon[0]})
	if got := s.Orphans(sms); !reflect.DeepEqual(got, anon) {
		t.Errorf("orphans %q, want %q", got, anon)
	}
	users[anon[0]] = []string{"web"}
	if got := s.Orphans(sms); got != nil {
		t.Errorf("orphans of a volume in use: %q", got)
	}
	s.Discard(append(anon, "../escape", "full"))
	if _, err := s.Inspect(anon[0]); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("discarded: %v", err)
	}
}

func TestInherit(t *testing.T) {
	from := []Mount{
		{Type: "volume", Name: "data", Source: "/v/data", Target: "/data"},
		{Type: "bind", Source: "/host/logs", Target: "/logs", ReadOnly: true, IDMap: true},
		{Type: "tmpfs", Target: "/run"},
		{Type: "volume", Name: "mine", Target: "/mine"},
	}
	conf := &ctrconfig.Config{NamedVolumes: map[string]string{"own": "/mine/:ro"}}
	Inherit(conf, from, "")
	want := []ctrconfig.Mount{
		{Type: "volume", Source: "data", Target: "/data"},
		{Type: "bind", Source: "/host/logs", Target: "/logs", ReadOnly: true, IDMap: true},
	}
	if !reflect.DeepEqual(conf.Mounts, want) {
		t.Errorf("mounts %+v, want %+v", conf.Mounts, want)
	}
	// A second --volumes-from with :rw adds nothing at targets already taken.
	Inherit(conf, from, "rw")
	if len(conf.Mounts) != 2 {
		t.Errorf("again: %+v", conf.Mounts)
	}
	conf = &ctrconfig.Config{}
	Inherit(conf, from[:2], "rw")
	if conf.Mounts[1].ReadOnly {
		t.Errorf(":rw kept a read-only bind: %+v", conf.Mounts)
	}
	conf = &ctrconfig.Config{}
	Inherit(conf, from[:1], "ro")
	if !conf.Mounts[0].ReadOnly {
		t.Errorf(":ro: %+v", conf.Mounts)
	}
}
