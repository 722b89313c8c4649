package ctrio

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/cgroup"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/logfile"
)

// dirRootfs is a "container" whose root is a directory of the test's.
type dirRootfs string

func (d dirRootfs) WithRootfs(ctx context.Context, ref string, fn func(root int) error) error {
	if ref != "c1" {
		return errdefs.NotFound("no such container: " + ref)
	}
	root, err := inroot.OpenRoot(string(d))
	if err != nil {
		return err
	}
	defer unix.Close(root)
	return fn(root)
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// cp's operations stay inside the container's root: a symlink that points out of it
// resolves inside, and extraction lands below the destination.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "conf"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("no"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "escape"))
	f := NewFiles(dirRootfs(dir))
	ctx := context.Background()

	st, err := f.StatPath(ctx, "c1", "/etc/conf")
	if err != nil || st.Name != "conf" || st.Size != 5 {
		t.Fatalf("stat: %+v %v", st, err)
	}
	if _, err := f.StatPath(ctx, "c1", "etc/conf"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("a relative path: %v, want invalid", err)
	}
	if _, err := f.StatPath(ctx, "c1", "/escape/secret"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("through a symlink out of the root: %v, want not found", err)
	}
	if _, err := f.StatPath(ctx, "c2", "/etc"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("no such container: %v", err)
	}

	var buf bytes.Buffer
	if err := f.ArchivePath(ctx, "c1", "/etc", false, &buf); err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, buf.Bytes()); !slices.Contains(names, "etc/conf") {
		t.Errorf("archive of /etc: %v", names)
	}

	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	tw.WriteHeader(&tar.Header{Name: "new.txt", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	tw.Close()
	if err := f.ExtractArchive(ctx, "c1", "/etc", &in); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "etc", "new.txt")); err != nil || string(b) != "hi" {
		t.Errorf("extracted: %q %v", b, err)
	}
	if err := f.ExtractArchive(ctx, "c1", "/etc/conf", bytes.NewReader(in.Bytes())); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("into a file: %v, want invalid", err)
	}
	if err := f.ExtractArchive(ctx, "c1", "/nowhere", bytes.NewReader(in.Bytes())); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("into a missing directory: %v, want not found", err)
	}

	buf.Reset()
	if err := f.ExportContainer(ctx, "c1", &buf); err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, buf.Bytes()); !slices.Contains(names, "etc/conf") || slices.Contains(names, "escape/secret") {
		t.Errorf("export: %v", names)
	}
}

// Changes: a path the image lacks is added, one it has is changed; the daemon's own
// bind-mount targets are left out.
func TestChanges(t *testing.T) {
	upper, lower := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(upper, "etc"), 0o755)
	os.MkdirAll(filepath.Join(lower, "etc"), 0o755)
	os.WriteFile(filepath.Join(lower, "etc", "passwd"), nil, 0o644)
	os.WriteFile(filepath.Join(upper, "etc", "passwd"), nil, 0o644)
	os.WriteFile(filepath.Join(upper, "etc", "new"), nil, 0o644)
	os.WriteFile(filepath.Join(upper, "etc", "hosts"), nil, 0o644)
	got, err := Changes(upper, []string{lower})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{ChangeModify, "/etc"}, {ChangeAdd, "/etc/new"}, {ChangeModify, "/etc/passwd"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, err := Changes(filepath.Join(upper, "missing"), nil); err != nil || len(got) != 0 {
		t.Errorf("no upper directory: %v %v", got, err)
	}
}

// Top reads ps -ef's columns from /proc; a PID that is gone is left out.
func TestTop(t *testing.T) {
	res := Top([]int{os.Getpid(), 1 << 30})
	if len(res.Titles) != 8 || len(res.Processes) != 1 {
		t.Fatalf("got %+v", res)
	}
	row := res.Processes[0]
	if row[1] != strconv.Itoa(os.Getpid()) || row[2] != strconv.Itoa(os.Getppid()) || row[0] != strconv.Itoa(os.Getuid()) {
		t.Errorf("row %v", row)
	}
}

type fakeSource struct {
	mu    sync.Mutex
	usage uint64
}

func (f *fakeSource) CgroupStats(id string) (*cgroup.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage += 10000
	return &cgroup.Stats{CPUUsageUsec: f.usage, Pids: 20, PidsLimit: 112, MemoryUsage: 50, MemoryLimit: 100}, nil
}

func (f *fakeSource) NetCounters(id string) (uint64, uint64, error) { return 7, 8, nil }

type fixed Target

func (t fixed) Target() Target { return Target(t) }

// A shared pids controller reports the workload's share: init's limit and threads off.
// A stopped container has no figures; the network's are the bridge's only.
func TestSampler(t *testing.T) {
	s := NewSampler(&fakeSource{}, 12)
	s.window = time.Millisecond
	st, err := s.Read(context.Background(), []Container{
		fixed{ID: "a", Name: "a", Running: true, PID: os.Getpid(), Bridge: true},
		fixed{ID: "b", Name: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b := st[0], st[1]
	if a.PidsLimit != 100 || a.Pids >= 20 || a.NetInput != 7 || a.MemoryPercent != 50 || a.CPUPercent <= 0 {
		t.Errorf("running: %+v", a)
	}
	if b.MemoryUsage != 0 || b.CPUUsageUsec != 0 || b.Name != "b" {
		t.Errorf("stopped: %+v", b)
	}
	s.Forget("a")
	if _, ok := s.samples.Load("a"); ok {
		t.Error("a forgotten container's reading is kept")
	}
}

func TestLogs(t *testing.T) {
	c := &ctrconfig.Config{}
	ApplyLogDefaults(c, logfile.Config{MaxSize: 1 << 20, MaxFiles: 3})
	if c.LogDriver != logfile.DriverLocal || c.LogOpts["max-size"] != "1048576" || c.LogOpts["max-file"] != "3" {
		t.Errorf("defaults: %s %v", c.LogDriver, c.LogOpts)
	}
	if lc := LogConfig(c); lc.Driver != logfile.DriverLocal || lc.MaxSize != 1<<20 || lc.MaxFiles != 3 {
		t.Errorf("log config %+v", lc)
	}
	own := &ctrconfig.Config{LogDriver: logfile.DriverJSON, LogOpts: map[string]string{"max-size": "10k"}}
	ApplyLogDefaults(own, logfile.Config{Driver: logfile.DriverLocal, MaxSize: 1 << 20, MaxFiles: 3})
	if own.LogDriver != logfile.DriverJSON || own.LogOpts["max-size"] != "10k" || own.LogOpts["max-file"] != "3" {
		t.Errorf("the container's own: %s %v", own.LogDriver, own.LogOpts)
	}
	if lc := LogConfig(&ctrconfig.Config{}); lc.Driver != logfile.DriverJSON {
		t.Errorf("a record from before drivers: %+v", lc)
	}
	d := &ctrconfig.Config{Labels: map[string]string{"app": "a b", "x": "y"}, LogOpts: map[string]string{"labels": "app,none", "env": "MODE"}}
	if got := LogDetails(d, []string{"MODE=prod", "OTHER=1"}); got != "MODE=prod,app=a+b" {
		t.Errorf("details %q", got)
	}
}
