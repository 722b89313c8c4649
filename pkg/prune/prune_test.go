package prune

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

type tree struct {
	t    *testing.T
	root string
}

func (tr tree) file(rel, content string) string {
	p := filepath.Join(tr.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
	return p
}

func (tr tree) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(tr.root, rel))
	return err == nil
}

func blob(name string) digest.Digest { return digest.FromString(name) }

func hex(name string) string { return blob(name).Encoded() }

// fixture lays out a data root with one of everything; "kept" is referenced, "used" is a
// stopped container's layer, "orphan" is neither.
func fixture(t *testing.T) tree {
	tr := tree{t, t.TempDir()}
	for _, n := range []string{"kept", "used", "orphan"} {
		tr.file("blobs/sha256/"+hex(n), strings.Repeat(n, 4096))
		tr.file("blobs/sha256/"+hex(n)+".index.json", "{}")
		tr.file("extracted/"+hex(n)+"/etc/"+n, n)
		tr.file("cache/"+hex(n)+"/"+hex(n+"-file"), n)
	}
	tr.file("blobs/sha256/"+hex("gone")+".index.json", "{}") // index without a blob
	tr.file("blobs/sha256/.ingest-123", "partial")           // a writer's temp file
	tr.file("tmp/pull-abc/layer", "partial")
	tr.file("tmp/stray", "x")
	tr.file("layers/key1/diff/bin/tool", strings.Repeat("t", 10000))
	tr.file("layers/key1/meta.json", "{}")
	tr.file("layers/key2/meta.json", "{}")
	tr.file("volumes/data/file", "precious")
	tr.file("volumes/.meta/data.json", "{}")
	tr.file("containers/abc/config.json", "{}")
	tr.file("state.json", "{}")
	tr.file("index.json", "{}")
	tr.file("miniboxd.lock", "1")
	tr.file("lazy/.lazyfs.sock", "")
	os.MkdirAll(filepath.Join(tr.root, "lazy", hex("orphan")), 0o755) // leftover mount point
	return tr
}

func opts(tr tree) Options {
	return Options{
		Root:       tr.root,
		Referenced: map[digest.Digest]bool{blob("kept"): true},
		Used:       map[digest.Digest]bool{blob("used"): true},
	}
}

func TestPlanRemovesOnlyTheUnreferenced(t *testing.T) {
	tr := fixture(t)
	p, err := Make(opts(tr))
	if err != nil {
		t.Fatal(err)
	}
	got := p.Summary()
	want := []string{
		"blob " + filepath.Join(tr.root, "blobs/sha256", hex("orphan")),
		"extracted " + filepath.Join(tr.root, "extracted", hex("orphan")),
		"mount " + filepath.Join(tr.root, "lazy", hex("orphan")),
		"orphan-toc " + filepath.Join(tr.root, "blobs/sha256", hex("gone")+".index.json"),
		"tmp " + filepath.Join(tr.root, "tmp/pull-abc"),
		"tmp " + filepath.Join(tr.root, "tmp/stray"),
	}
	// The orphan's cache goes with its (leftover) mount directory, not as an action of its own.
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r := p.Apply(slog.New(slog.DiscardHandler))
	if r.BlobsRemoved != 1 || r.ExtractedRemoved != 1 || r.TmpRemoved != 2 || r.FuseMountsKilled != 0 || r.BuildCacheRemoved != 0 {
		t.Errorf("report %+v", r)
	}
	if r.BytesFreed < int64(4096*len("orphan")) || r.BytesFreed != p.Bytes {
		t.Errorf("bytes freed %d, plan said %d", r.BytesFreed, p.Bytes)
	}
	for _, rel := range []string{
		"blobs/sha256/" + hex("kept"), "blobs/sha256/" + hex("kept") + ".index.json",
		"blobs/sha256/" + hex("used"), "blobs/sha256/" + hex("used") + ".index.json",
		"extracted/" + hex("kept"), "extracted/" + hex("used"), "cache/" + hex("kept"),
		"layers/key1/meta.json", "layers/key2", "volumes/data/file", "volumes/.meta/data.json",
		"containers/abc/config.json", "state.json", "index.json", "miniboxd.lock", "lazy/.lazyfs.sock",
		"blobs/sha256/.ingest-123",
	} {
		if !tr.exists(rel) {
			t.Errorf("%s removed", rel)
		}
	}
	for _, rel := range []string{
		"blobs/sha256/" + hex("orphan"), "blobs/sha256/" + hex("orphan") + ".index.json",
		"blobs/sha256/" + hex("gone") + ".index.json", "extracted/" + hex("orphan"),
		"cache/" + hex("orphan"), "lazy/" + hex("orphan"), "tmp/stray", "tmp/pull-abc",
	} {
		if tr.exists(rel) {
			t.Errorf("%s kept", rel)
		}
	}
	if !tr.exists("tmp") {
		t.Error("tmp/ itself removed")
	}
}

func TestBuildCache(t *testing.T) {
	tr := fixture(t)
	o := opts(tr)
	o.BuildCache = true
	release, err := HoldLayer(tr.root, "key2") // a running build holds key2
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	p, err := Make(o)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Apply(slog.New(slog.DiscardHandler))
	if r.BuildCacheRemoved != 1 || r.BuildCacheBytesFreed < 10000 {
		t.Errorf("report %+v", r)
	}
	if tr.exists("layers/key1") || !tr.exists("layers/key2/meta.json") {
		t.Error("build cache: key1 kept or held key2 removed")
	}
	release()
	p, _ = Make(o)
	if r := p.Apply(slog.New(slog.DiscardHandler)); r.BuildCacheRemoved != 1 || tr.exists("layers/key2") || tr.exists("layers/key2.lock") {
		t.Errorf("released key2 not removed: %+v", r)
	}
}

// Bytes are real: a file hard-linked from a kept directory frees nothing.
func TestHardLinkedBytes(t *testing.T) {
	tr := fixture(t)
	big := tr.file("layers/key1/diff/big", strings.Repeat("b", 1<<20))
	if err := os.Link(big, filepath.Join(tr.root, "extracted", hex("orphan"), "big")); err != nil {
		t.Fatal(err)
	}
	p, _ := Make(opts(tr))
	for _, a := range p.Actions {
		if a.Kind == Extracted && a.Bytes >= 1<<20 {
			t.Errorf("extracted layer sharing its file with the build cache claims %d bytes", a.Bytes)
		}
	}
	o := opts(tr)
	o.BuildCache = true
	p, _ = Make(o)
	if p.Bytes < 1<<20 || p.Bytes > 1<<20+200000 {
		t.Errorf("with the build cache: %d bytes, want the 1 MiB file counted once", p.Bytes)
	}
	r := p.Apply(slog.New(slog.DiscardHandler))
	if r.BytesFreed != p.Bytes {
		t.Errorf("applied %d, planned %d", r.BytesFreed, p.Bytes)
	}
}

// Work of running operations is kept: anything changed since the oldest began, and paths
// they hold open.
func TestRunningOperationsKept(t *testing.T) {
	tr := fixture(t)
	old := time.Now().Add(-time.Hour)
	filepath.Walk(tr.root, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	since := time.Now()
	tr.file("tmp/pull-new/blob", "landing")
	tr.file("blobs/sha256/"+hex("landed"), "layer of a pull not yet named") // pull: blobs, then entries
	f, err := os.Open(filepath.Join(tr.root, "tmp/stray"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := opts(tr)
	o.Since = since
	o.Busy = Busy(tr.root)
	p, _ := Make(o)
	p.Apply(slog.New(slog.DiscardHandler))
	for _, rel := range []string{"tmp/pull-new/blob", "blobs/sha256/" + hex("landed"), "tmp/stray"} {
		if !tr.exists(rel) {
			t.Errorf("%s removed under a running operation", rel)
		}
	}
	if tr.exists("tmp/pull-abc") || tr.exists("blobs/sha256/"+hex("orphan")) {
		t.Error("old leftovers kept")
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/a\040b\134c`); got != `/a b\c` {
		t.Errorf("unescape = %q", got)
	}
}

// TestCacheMounts: RUN --mount=type=cache directories go with the build cache (system
// prune --build-cache, builder prune), not without it; one a running RUN holds stays;
// builder prune touches nothing else.
func TestCacheMounts(t *testing.T) {
	tr := fixture(t)
	tr.file("cache-mounts/"+hex("apt")+"/archives/pkg.deb", strings.Repeat("d", 20000))
	tr.file("cache-mounts/"+hex("go")+"/mod/x", "x")
	p, err := Make(opts(tr))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Summary() {
		if strings.Contains(s, "cache-mounts") {
			t.Errorf("a prune without the build cache plans %s", s)
		}
	}
	release, err := HoldCacheMount(tr.root, hex("go"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	o := opts(tr)
	o.OnlyBuildCache = true
	if p, err = Make(o); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Actions {
		if a.Kind != BuildCache && a.Kind != CacheMount {
			t.Errorf("builder prune plans %s %s", a.Kind, a.Paths[0])
		}
	}
	r := p.Apply(slog.New(slog.DiscardHandler))
	// key1, key2 and the apt cache mount; the go one is held.
	if r.BuildCacheRemoved != 3 || r.BuildCacheBytesFreed < 30000 || r.BlobsRemoved != 0 || r.TmpRemoved != 0 {
		t.Errorf("report %+v", r)
	}
	if tr.exists("cache-mounts/"+hex("apt")) || !tr.exists("cache-mounts/"+hex("go")+"/mod/x") {
		t.Error("apt cache mount kept or the held go cache mount removed")
	}
	if !tr.exists("tmp/stray") || !tr.exists("blobs/sha256/"+hex("orphan")) {
		t.Error("builder prune removed more than the build cache")
	}
	release()
	o = opts(tr)
	o.BuildCache = true
	p, _ = Make(o)
	if p.Apply(slog.New(slog.DiscardHandler)); tr.exists("cache-mounts/"+hex("go")) || tr.exists("cache-mounts/"+hex("go")+".lock") {
		t.Error("system prune --build-cache left the released cache mount")
	}
}
