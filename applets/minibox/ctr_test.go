package minibox

import (
	"archive/tar"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
)

func TestPsRows(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	list := map[string]api.ContainerSummary{
		"a": {ID: strings.Repeat("a", 64), Name: "old", Image: "busybox", Status: "running", CreatedAt: now.Add(-time.Hour),
			Command: []string{"sh", "-c", "echo a very long command line here"}, Labels: map[string]string{"team": "x"}},
		"b": {ID: strings.Repeat("b", 64), Name: "new", Image: "busybox", Status: "exited", ExitCode: 137, CreatedAt: now,
			Command: []string{"true"}, Publish: []api.PortBinding{{HostPort: 8080, ContainerPort: 80}, {HostIP: "127.0.0.1", HostPort: 53, ContainerPort: 53, Protocol: "udp"}}},
		"c": {ID: strings.Repeat("c", 64), Name: "mid", Image: "busybox", Status: "paused", CreatedAt: now.Add(-time.Minute),
			Project: "p1", Health: "healthy"},
	}
	rows := psRows(list, psFilter{}, false)
	if len(rows) != 2 || rows[0].Name != "mid" || rows[1].Name != "old" {
		t.Fatalf("ps rows (running, paused; newest first) = %v", rows)
	}
	rows = psRows(list, psFilter{}, true)
	if len(rows) != 3 || rows[0].Name != "new" {
		t.Fatalf("ps -a rows = %v", rows)
	}
	r := psRow(list["b"], false)
	if r.ID != strings.Repeat("b", 12) || r.Exit != "137" || r.Ports != "-" || r.Health != "none" {
		t.Errorf("psRow(exited) = %+v (a stopped container publishes no port)", r)
	}
	up := list["b"]
	up.Status = "running"
	if got := psRow(up, false).Ports; got != "0.0.0.0:8080->80/tcp, 127.0.0.1:53->53/udp" {
		t.Errorf("psRow(running).Ports = %q", got)
	}
	if r.Created != now.Local().Format("2006-01-02 15:04:05") {
		t.Errorf("created = %q", r.Created)
	}
	r = psRow(list["a"], false)
	if r.Command != "sh -c echo a very long..." || r.Exit != "-" || r.Ports != "-" {
		t.Errorf("psRow(running) = %+v", r)
	}
	if got := psRow(list["a"], true).Command; got != "sh -c echo a very long command line here" {
		t.Errorf("--no-trunc command = %q", got)
	}
	if got := psCommand([]string{"exactly-twenty-five-chars"}, false); got != "exactly-twenty-five-chars" {
		t.Errorf("25 characters are not cut: %q", got)
	}

	for _, tt := range []struct {
		filters []string
		want    string
	}{
		{[]string{"name=ol"}, "old"},
		{[]string{"status=exited"}, "new"},
		{[]string{"label=team=x"}, "old"},
		{[]string{"label=team"}, "old"},
		{[]string{"project=p1"}, "mid"},
		{[]string{"label=team=y"}, ""},
	} {
		f, err := parsePsFilters(tt.filters)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range psRows(list, f, true) {
			names = append(names, s.Name)
		}
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("--filter %v = %q, want %q", tt.filters, got, tt.want)
		}
	}
	if _, err := parsePsFilters([]string{"color=red"}); err == nil {
		t.Error("unknown filter accepted")
	}
}

func TestLogWriterTimestamps(t *testing.T) {
	var o, e bytes.Buffer
	w := newLogWriter(&Output{Stdout: &o, Stderr: &e}, true)
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 5, time.UTC)
	t1 := t0.Add(time.Second)
	w.write(api.LogLine{Time: t0, Stream: "stdout", Text: "a\nb"})
	w.write(api.LogLine{Time: t0, Stream: "stderr", Text: "err\n"})
	w.write(api.LogLine{Time: t1, Stream: "stdout", Text: "c\nd\n"})
	want := "2024-05-01T10:00:00.000000005Z a\n2024-05-01T10:00:00.000000005Z bc\n2024-05-01T10:00:01.000000005Z d\n"
	if o.String() != want {
		t.Errorf("stdout =\n%q\nwant\n%q", o.String(), want)
	}
	if e.String() != "2024-05-01T10:00:00.000000005Z err\n" {
		t.Errorf("stderr = %q", e.String())
	}
}

func TestParseLogTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"10m":                  now.Add(-10 * time.Minute),
		"1714557600":           time.Unix(1714557600, 0),
		"2024-05-01T09:00:00Z": now.Add(-time.Hour),
	} {
		got, err := parseLogTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseLogTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseLogTime("yesterday", now); err == nil {
		t.Error("parseLogTime(yesterday): no error")
	}
}

func TestDetachKeys(t *testing.T) {
	k, err := parseDetachKeys("ctrl-p,ctrl-q")
	if err != nil || !bytes.Equal(k, []byte{0x10, 0x11}) {
		t.Errorf("ctrl-p,ctrl-q = %v, %v", k, err)
	}
	k, err = parseDetachKeys("a,ctrl-[,ctrl-@")
	if err != nil || !bytes.Equal(k, []byte{'a', 0x1b, 0}) {
		t.Errorf("a,ctrl-[,ctrl-@ = %v, %v", k, err)
	}
	if k, err := parseDetachKeys(""); err != nil || k != nil {
		t.Errorf("empty = %v, %v", k, err)
	}
	for _, bad := range []string{"ctrl-", "ctrl-1", "shift-a", "ab"} {
		if _, err := parseDetachKeys(bad); err == nil {
			t.Errorf("parseDetachKeys(%q): no error", bad)
		}
	}
}

// TestCopyStdinDetach sends input through a session: bytes that start the detach
// sequence but do not finish it pass through; the full sequence detaches.
func TestCopyStdinDetach(t *testing.T) {
	for _, tt := range []struct {
		in       string
		sent     string
		detached bool
	}{
		{"ab\x10c\x10\x11rest", "ab\x10c", true},
		{"\x10\x10\x11", "\x10", true},
		{"plain", "plain", false},
		{"end\x10", "end\x10", false},
	} {
		local, remote := net.Pipe()
		att := &client.Attached{Conn: local}
		s := &session{att: att, detachKeys: defaultDetachKeys}
		got := make(chan string)
		go func() {
			var b bytes.Buffer
			buf := make([]byte, 64)
			for {
				n, err := remote.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			got <- b.String()
		}()
		detached := false
		s.copyStdin(strings.NewReader(tt.in), func() { detached = true; local.Close() })
		local.Close()
		if g := <-got; g != tt.sent || detached != tt.detached {
			t.Errorf("input %q: sent %q detached %v; want %q %v", tt.in, g, detached, tt.sent, tt.detached)
		}
	}
}

func TestSplitCtrPath(t *testing.T) {
	for _, tt := range []struct {
		in     string
		ctr, p string
		isCtr  bool
	}{
		{"web:/etc/hosts", "web", "/etc/hosts", true},
		{"web:etc", "web", "/etc", true},
		{"web:", "web", "/", true},
		{"./a:b", "", "./a:b", false},
		{"/abs:x", "", "/abs:x", false},
		{"dir/x:y", "", "dir/x:y", false},
		{"-", "", "-", false},
		{"plain", "", "plain", false},
	} {
		c, p, ok := splitCtrPath(tt.in)
		if c != tt.ctr || p != tt.p || ok != tt.isCtr {
			t.Errorf("splitCtrPath(%q) = %q %q %v", tt.in, c, p, ok)
		}
	}
}

// TestTarRoundTrip writes a host tree the way cp uploads it and extracts it the way cp
// downloads it, under a new root name and as contents only.
func TestTarRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tree")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a"), []byte("alpha"), 0o640)
	os.WriteFile(filepath.Join(src, "sub", "b"), []byte("beta"), 0o600)
	os.Symlink("a", filepath.Join(src, "link"))
	os.Link(filepath.Join(src, "a"), filepath.Join(src, "hard"))
	os.Chmod(filepath.Join(src, "sub"), 0o555)
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "sub"), 0o755) })

	os.Chown(filepath.Join(src, "a"), 1234, 5678)
	var buf bytes.Buffer
	if err := writeTar(&buf, src, "tree", false, false); err != nil {
		t.Fatal(err)
	}
	// What goes to a container belongs to its root, unless -a keeps the owners.
	for _, keep := range []bool{false, true} {
		var b bytes.Buffer
		if err := writeTar(&b, src, "tree", false, keep); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(&b)
		for h, err := tr.Next(); err == nil; h, err = tr.Next() {
			if h.Name == "tree/a" && (keep != (h.Uid == 1234 && h.Gid == 5678) || !keep && (h.Uid != 0 || h.Gid != 0) || h.Uname != "") {
				t.Errorf("keep=%v: a owned by %d:%d %q", keep, h.Uid, h.Gid, h.Uname)
			}
		}
	}
	dst := t.TempDir()
	if err := extractTar(bytes.NewReader(buf.Bytes()), dst, "tree", "copy"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dst, "copy", "sub"), 0o755) })
	check := func(p, want string, mode os.FileMode) {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}
	check(filepath.Join(dst, "copy", "a"), "alpha", 0o640)
	check(filepath.Join(dst, "copy", "sub", "b"), "beta", 0o600)
	check(filepath.Join(dst, "copy", "hard"), "alpha", 0o640)
	if l, err := os.Readlink(filepath.Join(dst, "copy", "link")); err != nil || l != "a" {
		t.Errorf("link = %q, %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "copy", "sub")); err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("sub mode = %v, %v", fi.Mode(), err)
	}

	// Contents only: the root's entries land in the directory itself.
	dst2 := t.TempDir()
	if err := extractTar(bytes.NewReader(buf.Bytes()), dst2, "tree", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dst2, "sub"), 0o755) })
	check(filepath.Join(dst2, "a"), "alpha", 0o640)
}

// TestExtractRefusesEscapes: entries climbing out, and writes through a link in the
// destination, are refused.
func TestExtractRefusesEscapes(t *testing.T) {
	mk := func(entries ...string) *bytes.Buffer {
		var b bytes.Buffer
		tw := newTestTar(&b)
		for _, e := range entries {
			tw(e)
		}
		return &b
	}
	dst := t.TempDir()
	if err := extractTar(mk("x/", "x/../../evil"), dst, "x", "x"); err == nil {
		t.Error("x/../../evil extracted")
	}
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(dst, "x"))
	if err := extractTar(mk("x/", "x/f"), dst, "x", ""); err != nil {
		t.Fatal(err) // contents go into dst itself: no link involved
	}
	os.MkdirAll(filepath.Join(dst, "y"), 0o755)
	os.Symlink(outside, filepath.Join(dst, "y", "sub"))
	if err := extractTar(mk("y/", "y/sub/f"), dst, "y", "y"); err == nil {
		t.Error("wrote through a symbolic link in the destination")
	}
	if _, err := os.Stat(filepath.Join(outside, "f")); err == nil {
		t.Error("a file landed outside the destination")
	}
}

// newTestTar returns a func adding an entry: a name ending in / is a directory, else a
// file holding its own name.
func newTestTar(w *bytes.Buffer) func(string) {
	tw := tar.NewWriter(w)
	return func(name string) {
		if strings.HasSuffix(name, "/") {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755})
		} else {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(name))})
			tw.Write([]byte(name))
		}
		tw.Flush()
	}
}
