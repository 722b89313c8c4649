package ctrstore

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/state"
)

// item stands for what the engine keeps with a record.
type item struct{ rec *Record }

func open(t *testing.T, dir string, migrate func([]byte) (ctrconfig.Config, error)) *Store[*item] {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config[*item]{State: st, Path: filepath.Join(dir, "state.json"), Migrate: migrate,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Wrap: func(r *Record) *item { return &item{rec: r} }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func add(t *testing.T, s *Store[*item], id, name string, durable bool) *item {
	t.Helper()
	r := &Record{ID: id, Name: name, Schema: ctrconfig.SchemaVersion, Status: "created"}
	it := &item{rec: r}
	if taken, err := s.Add(r, it, durable); taken != "" || err != nil {
		t.Fatalf("add %s: taken %q, err %v", name, taken, err)
	}
	return it
}

func TestLookupAndNames(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	defer s.Close()
	a := add(t, s, "abc1"+strings.Repeat("0", 60), "web", true)
	b := add(t, s, "abc2"+strings.Repeat("0", 60), "db", true)
	// A name that looks like an ID prefix: the name wins.
	c := add(t, s, "ff"+strings.Repeat("0", 62), "abc1", true)

	for _, tc := range []struct {
		ref  string
		want *item
		err  error
	}{
		{"web", a, nil},
		{"/db", b, nil},
		{a.rec.ID, a, nil},
		{"abc2", b, nil},
		{"abc1", c, nil}, // the name, not a's prefix
		{"ff", c, nil},
		{"abc", nil, errdefs.ErrConflict}, // two IDs start so
		{"", nil, errdefs.ErrInvalid},
		{"nosuch", nil, errdefs.ErrNotFound},
		{"0123", nil, errdefs.ErrNotFound},
	} {
		got, err := s.Lookup(tc.ref)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.ref, got, err, tc.want, tc.err)
		}
	}

	// A name in use is refused, and the table is unchanged.
	gen := s.Generation()
	r := &Record{ID: "dd" + strings.Repeat("0", 62), Name: "web"}
	if taken, err := s.Add(r, &item{rec: r}, true); taken != a.rec.ID || err != nil {
		t.Errorf("Add of a taken name: taken %q, err %v; want %s", taken, err, a.rec.ID)
	}
	if _, ok := s.Get(r.ID); ok || s.Generation() != gen {
		t.Error("a refused Add changed the table")
	}
	// Renames: onto another's name is refused; onto its own name is fine.
	if taken, _ := s.Rename(b.rec, "web"); taken != a.rec.ID || b.rec.Name != "db" {
		t.Errorf("Rename onto a taken name: taken %q, name %q", taken, b.rec.Name)
	}
	if taken, err := s.Rename(b.rec, "db2"); taken != "" || err != nil {
		t.Fatalf("Rename: %q %v", taken, err)
	}
	if _, ok := s.NameOwner("db"); ok {
		t.Error("the old name is still held after a rename")
	}
	if got, _ := s.Lookup("db2"); got != b {
		t.Error("the new name does not find the container")
	}
	// Delete frees the name, and only the container's own.
	s.Delete(a.rec.ID, nil)
	if _, err := s.Lookup("web"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Lookup of a deleted container: %v", err)
	}
	if id, ok := s.NameOwner("abc1"); !ok || id != c.rec.ID {
		t.Error("Delete of another container freed this one's name")
	}
	if s.Generation() <= gen {
		t.Error("the generation did not move")
	}
	if n := len(s.List()); n != 2 {
		t.Errorf("List: %d containers, want 2", n)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	a := add(t, s, strings.Repeat("a", 64), "kept", true)
	s.Update(a.rec, func(r *Record) { r.Status, r.ExitCode, r.Args = "exited", 3, []string{"sh", "-c", "exit 3"} })
	add(t, s, strings.Repeat("b", 64), "ephemeral", false)
	// A durable Add is on disk when it returns; the background saver leaves the
	// ephemeral record out.
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil || !strings.Contains(string(b), `"name":"kept"`) {
		t.Fatalf("state.json after a durable Add: %s %v", b, err)
	}
	if err := s.save(true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "state.json")); strings.Contains(string(b), "ephemeral") {
		t.Error("the background save wrote an ephemeral record")
	}
	// The last save, at Close, keeps it.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dir, nil)
	defer s2.Close()
	got, err := s2.Lookup("kept")
	if err != nil {
		t.Fatal(err)
	}
	if got.rec.Status != "exited" || got.rec.ExitCode != 3 || len(got.rec.Args) != 3 {
		t.Errorf("reloaded record: %+v", got.rec)
	}
	if _, err := s2.Lookup("ephemeral"); err != nil {
		t.Errorf("the final save lost the ephemeral record: %v", err)
	}
}

func TestMigrateSchema0(t *testing.T) {
	dir := t.TempDir()
	old := strings.Repeat("c", 64)
	bad := strings.Repeat("d", 64)
	doc := `{"containers":{"` + old + `":{"id":"` + old + `","name":"old","request":{"image":"busybox","memory":5}},` +
		`"` + bad + `":{"id":"` + bad + `","name":"bad","request":{"memory":-5}}}}`
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	migrate := func(legacy []byte) (ctrconfig.Config, error) {
		var req struct {
			Image  string
			Memory int64
		}
		if err := json.Unmarshal(legacy, &req); err != nil {
			return ctrconfig.Config{}, err
		}
		if req.Memory < 0 {
			return ctrconfig.Config{}, errors.New("memory: negative")
		}
		return ctrconfig.Config{Image: req.Image, Name: "old"}, nil
	}
	s := open(t, dir, migrate)
	got, err := s.Lookup("old")
	if err != nil {
		t.Fatal(err)
	}
	if got.rec.Schema != ctrconfig.SchemaVersion || got.rec.Conf.Image != "busybox" || got.rec.Legacy != nil {
		t.Errorf("migrated record: schema %d, config %+v, legacy %s", got.rec.Schema, got.rec.Conf, got.rec.Legacy)
	}
	// The refused record is out of the table, yet known (its files stay) and saved back
	// as it was.
	if _, err := s.Lookup("bad"); !errors.Is(err, errdefs.ErrNotFound) || !s.Known(bad) {
		t.Errorf("refused record: lookup %v, known %v", err, s.Known(bad))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	kept, err := os.ReadFile(filepath.Join(dir, "state.json.schema0"))
	if err != nil || string(kept) != doc {
		t.Errorf("state.json.schema0 is not the older daemon's file: %s %v", kept, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if !strings.Contains(string(b), `"schema":1,"config":{"image":"busybox","name":"old"`) ||
		!strings.Contains(string(b), `"request":{"memory":-5}`) {
		t.Errorf("state.json after the migration: %s", b)
	}
	// Without a migration, a schema-0 record is refused.
	r := &Record{ID: old, Name: "x", Legacy: json.RawMessage(`{}`)}
	if err := migrateRecord(r, nil); err == nil {
		t.Error("a schema-0 record migrated without a migration")
	}
}

// countingState counts the table's writes.
type countingState struct {
	Persister
	writes int
}

func (c *countingState) SaveRaw(b []byte) error {
	c.writes++
	return c.Persister.SaveRaw(b)
}

func TestPersistSharesOneWrite(t *testing.T) {
	// Only this test's own saves write: the background saver waits past its end.
	defer func(d time.Duration) { saveDelay = d }(saveDelay)
	saveDelay = time.Hour
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	st, err := state.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingState{Persister: st}
	s, err := Open(Config[*item]{State: cs, Path: path, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Wrap: func(r *Record) *item { return &item{rec: r} }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	onDisk := func(name string) bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.Contains(string(b), `"name":"`+name+`"`)
	}
	// Two runs created at once: neither is written until it is persisted.
	add(t, s, strings.Repeat("a", 64), "first", false)
	add(t, s, strings.Repeat("b", 64), "second", false)
	if onDisk("first") || onDisk("second") {
		t.Fatal("a record was written before Persist")
	}
	if err := s.Persist(strings.Repeat("a", 64)); err != nil {
		t.Fatal(err)
	}
	if cs.writes != 1 || !onDisk("first") || !onDisk("second") {
		t.Fatalf("after the first Persist: %d writes, first %v, second %v", cs.writes, onDisk("first"), onDisk("second"))
	}
	// The second's record was in that write: no other.
	if err := s.Persist(strings.Repeat("b", 64)); err != nil || cs.writes != 1 {
		t.Fatalf("second Persist: %v, %d writes", err, cs.writes)
	}
	// Persisted records are the background saver's from then on.
	s.Update(mustLookup(t, s, "second").rec, func(r *Record) { r.Status = "running" })
	if err := s.save(true); err != nil {
		t.Fatal(err)
	}
	if !onDisk("first") || !onDisk("second") {
		t.Fatal("the background save left a persisted record out")
	}
	// One the background saver wrote the table without is written again.
	add(t, s, strings.Repeat("c", 64), "third", false)
	s.Update(mustLookup(t, s, "first").rec, func(r *Record) { r.Status = "running" })
	if err := s.save(true); err != nil {
		t.Fatal(err)
	}
	n := cs.writes
	if err := s.Persist(strings.Repeat("c", 64)); err != nil || cs.writes != n+1 || !onDisk("third") {
		t.Fatalf("Persist after a background save: %v, %d writes (had %d), on disk %v", err, cs.writes, n, onDisk("third"))
	}
	// A container removed meanwhile needs no write.
	if err := s.Persist(strings.Repeat("d", 64)); err != nil || cs.writes != n+1 {
		t.Fatalf("Persist of an unknown container: %v, %d writes", err, cs.writes)
	}
}

func mustLookup(t *testing.T, s *Store[*item], ref string) *item {
	t.Helper()
	it, err := s.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	return it
}
