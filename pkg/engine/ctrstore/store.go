// Package ctrstore is the table of container records: lookups by ID, name and ID prefix,
// the names' uniqueness, the generation that keys the edges' list caches, and state.json
// (its load, the migration of old records, the background and full saves).
//
// What the engine keeps with a record (live handles) rides along as a value of type T;
// the table's lock guards both the records and those values.
package ctrstore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/netsvc"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/lazyre"
	"github.com/minibox/minibox/pkg/network"
)

// A record's statuses, as the API shows them (pkg/engine's states.go holds which may follow
// which).
const (
	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusPaused     = "paused"
	StatusRestarting = "restarting"
	StatusExited     = "exited"
)

// Live reports whether the container runs or is paused: its ports are bound then.
func (r *Record) Live() bool { return r.Status == StatusRunning || r.Status == StatusPaused }

// Record is one container as state.json keeps it.
type Record struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Image       string               `json:"image"`      // as the user named it
	ImageName   string               `json:"image_name"` // normalised reference, if any
	ImageID     string               `json:"image_id"`   // config digest
	ImageDigest string               `json:"image_digest"`
	Layers      []ocispec.Descriptor `json:"layers"` // bottom first
	// Schema is the version of Conf (ctrconfig.SchemaVersion). A record of schema 0 was
	// written before Conf existed: it holds the API's create request in Legacy instead,
	// and is migrated once at load.
	Schema  int              `json:"schema,omitempty"`
	Conf    ctrconfig.Config `json:"config"`
	Legacy  json.RawMessage  `json:"request,omitempty"`
	Args    []string         `json:"args"` // entrypoint + command, resolved at create
	Created time.Time        `json:"created_at"`

	Status       string         `json:"status"`
	PID          int            `json:"pid,omitempty"`
	StartedAt    time.Time      `json:"started_at,omitzero"`
	FinishedAt   time.Time      `json:"finished_at,omitzero"`
	ExitCode     int            `json:"exit_code"`
	OOMKilled    bool           `json:"oom_killed,omitempty"`
	Error        string         `json:"error,omitempty"`
	IP           string         `json:"ip,omitempty"`
	Ports        []network.Port `json:"ports,omitempty"`
	RestartCount int            `json:"restart_count,omitempty"`
	UserStopped  bool           `json:"user_stopped,omitempty"`
	AnonVolumes  []string       `json:"anon_volumes,omitempty"`
	// Endpoints are the container's user-defined networks, in the order of their
	// interfaces.
	Endpoints []netsvc.Endpoint `json:"endpoints,omitempty"`
	// Bridge is the default bridge joined after the create by a container of a
	// user-defined network (docker network connect bridge): one more interface, never
	// the primary one. Replaced whole, never changed in place (snapshots share it).
	Bridge *netsvc.Endpoint `json:"bridge,omitempty"`
	Lazy   bool             `json:"lazy,omitempty"`
	// Config is the image's config at create: the container keeps working if the image
	// is removed.
	Config ocispec.ImageConfig `json:"image_config"`
	Mounts []volumesvc.Mount   `json:"mounts,omitempty"`
	// ImageHealth is the image's HEALTHCHECK (Docker's config extension).
	ImageHealth *ctrconfig.Healthcheck `json:"image_health,omitempty"`
}

// Persister reads and writes state.json (pkg/state, sealed or not).
type Persister interface {
	Load(v any) (migrate bool, err error)
	SaveRaw(b []byte) error
}

// Config is what Open needs.
type Config[T any] struct {
	State Persister
	// Path is state.json's: a migration keeps the older daemon's file next to it.
	Path string
	// Migrate turns the create request of a schema-0 record into its Config; nil refuses
	// such records.
	Migrate func(legacy []byte) (ctrconfig.Config, error)
	Log     *slog.Logger
	// Wrap makes what the engine keeps with a record loaded from state.json.
	Wrap func(r *Record) T
}

type entry[T any] struct {
	v   T
	rec *Record
	// ephemeral: a foreground `run --rm`, which lives as long as its client's request,
	// or a run's container until Persist. The background saver leaves it out (it comes
	// and goes between two saves); a daemon's last save keeps it, and one that died
	// removes what it left.
	ephemeral bool
	added     uint64 // the table's generation once Add had recorded it
}

// Store is the table of records and its file.
type Store[T any] struct {
	mu    sync.RWMutex
	byID  map[string]*entry[T]
	names map[string]string
	gen   uint64 // bumped on every change; keys the edges' list caches
	// refused are the records that failed their migration at load, by ID: saved back
	// unchanged, and their directories are not orphans.
	refused map[string]*Record

	state Persister
	log   *slog.Logger

	saveMu sync.Mutex
	saved  []byte // the records as last written (saveMu)
	// The last write, when it was a full one (ephemeral records included): the generation
	// it held and its error (saveMu).
	savedFull bool
	savedGen  uint64
	saveErr   error
	saveKick  chan struct{}
	saveDone  chan struct{}
	// saveClosing ends the saver's wait at shutdown.
	saveClosing chan struct{}
	kickMu      sync.Mutex
}

// stateDoc is state.json.
type stateDoc struct {
	Containers map[string]*Record `json:"containers"`
}

// Open loads state.json, migrates the records of an older schema (a record that fails
// is refused: kept on disk as it was, left out of the table) and starts the saver.
func Open[T any](cfg Config[T]) (*Store[T], error) {
	var doc stateDoc
	migrate, err := cfg.State.Load(&doc)
	if err != nil {
		return nil, err
	}
	s := &Store[T]{byID: map[string]*entry[T]{}, names: map[string]string{}, refused: map[string]*Record{},
		state: cfg.State, log: cfg.Log}
	old := 0
	for id, r := range doc.Containers {
		if r == nil || r.ID != id {
			continue
		}
		if r.Schema < ctrconfig.SchemaVersion {
			old++
			if err := migrateRecord(r, cfg.Migrate); err != nil {
				// Left out of the containers, but nothing of it is lost: every save writes
				// it back as it was, its directory stays (Known), and the next start tries
				// again.
				s.log.Error("container record refused: its configuration does not pass the validator; its record and files are kept",
					"id", id, "name", r.Name, "err", err)
				s.refused[id] = r
				continue
			}
		}
		s.byID[id] = &entry[T]{v: cfg.Wrap(r), rec: r}
		s.names[r.Name] = id
	}
	s.saveKick, s.saveDone, s.saveClosing = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go s.saver(s.saveKick) // the field is nil once closed: the saver ranges over its own copy
	if old > 0 {
		// The file as the older daemon wrote it, for a downgrade or a refused record.
		if err := keepOldState(cfg.Path); err != nil {
			return s, err
		}
		s.log.Info("container records migrated to the current configuration schema", "records", old-len(s.refused),
			"refused", len(s.refused), "schema", ctrconfig.SchemaVersion)
		return s, s.Save()
	}
	if migrate {
		s.log.Info("state.json was plaintext: rewriting it encrypted")
		return s, s.Save()
	}
	return s, nil
}

// migrateRecord gives a record of schema 0 its Config: the create request it holds, run
// through the validator once.
func migrateRecord(r *Record, fn func([]byte) (ctrconfig.Config, error)) error {
	if len(r.Legacy) == 0 {
		return errors.New("the record holds no configuration")
	}
	if fn == nil {
		return errors.New("this daemon cannot read records of schema 0")
	}
	cfg, err := fn(r.Legacy)
	if err != nil {
		return err
	}
	r.Conf, r.Schema, r.Legacy = cfg, ctrconfig.SchemaVersion, nil
	return nil
}

// keepOldState copies state.json to state.json.schema0 (as it is, sealed or not), once:
// a later start keeps the first copy.
func keepOldState(path string) error {
	dst := path + ".schema0"
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, b, 0o600)
}

// Lock, Unlock, RLock and RUnlock hold the table's lock, which also guards what the
// engine keeps with each record. The methods named ...Locked need it held.
func (s *Store[T]) Lock()    { s.mu.Lock() }
func (s *Store[T]) Unlock()  { s.mu.Unlock() }
func (s *Store[T]) RLock()   { s.mu.RLock() }
func (s *Store[T]) RUnlock() { s.mu.RUnlock() }

// Get is the container with this full ID.
func (s *Store[T]) Get(id string) (T, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.GetLocked(id)
}

// GetLocked is Get with the lock held.
func (s *Store[T]) GetLocked(id string) (T, bool) {
	if en := s.byID[id]; en != nil {
		return en.v, true
	}
	var zero T
	return zero, false
}

// Known reports whether id has a record, a refused one included: its files are not
// orphans.
func (s *Store[T]) Known(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[id] != nil || s.refused[id] != nil
}

// NameOwner is the ID of the container that holds name.
func (s *Store[T]) NameOwner(name string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.names[name]
	return id, ok
}

var idRe = lazyre.New(`^[0-9a-f]{1,64}$`)

// IsIDPrefix reports whether ref could be an ID or its prefix: 1 to 64 hex characters.
func IsIDPrefix(ref string) bool { return idRe.MatchString(ref) }

// Lookup finds a container by exact name, full ID or unique ID prefix.
func (s *Store[T]) Lookup(ref string) (T, error) {
	var zero T
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return zero, errdefs.Invalid("a container ID or name is required")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id, ok := s.names[ref]; ok {
		return s.byID[id].v, nil
	}
	if en, ok := s.byID[ref]; ok {
		return en.v, nil
	}
	if IsIDPrefix(ref) {
		var found *entry[T]
		for id, en := range s.byID {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return zero, errdefs.Conflict(fmt.Sprintf("container ID prefix %q is ambiguous; give more characters", ref))
				}
				found = en
			}
		}
		if found != nil {
			return found.v, nil
		}
	}
	return zero, errdefs.NotFound(fmt.Sprintf("no such container: %s", ref))
}

// Add records a new container and claims its name in one step (names are unique): when
// the name is taken, nothing changes and taken is the holder's ID. A durable container's
// record is on disk when Add returns; an ephemeral one (a foreground `run --rm`) is
// left to the saver, which skips it.
func (s *Store[T]) Add(r *Record, v T, durable bool) (taken string, err error) {
	s.mu.Lock()
	if other, ok := s.names[r.Name]; ok {
		s.mu.Unlock()
		return other, nil
	}
	s.gen++
	s.byID[r.ID] = &entry[T]{v: v, rec: r, ephemeral: !durable, added: s.gen}
	s.names[r.Name] = r.ID
	s.mu.Unlock()
	if !durable {
		s.SaveSoon()
		return "", nil
	}
	return "", s.Save()
}

// Persist makes an ephemeral record durable: it is on disk when Persist returns, and the
// background saver keeps it from then on. A write of the whole table since its Add holds
// it already: containers run at once (compose up) share one write. A record removed
// meanwhile needs none.
func (s *Store[T]) Persist(id string) error {
	s.mu.Lock()
	en := s.byID[id]
	if en == nil {
		s.mu.Unlock()
		return nil
	}
	en.ephemeral = false
	want := en.added
	s.mu.Unlock()
	return s.saveThrough(want)
}

// Rename gives the container with record r a new name and writes the table: when
// another container holds the name, nothing changes and taken is its ID.
func (s *Store[T]) Rename(r *Record, name string) (taken string, err error) {
	s.mu.Lock()
	if other, ok := s.names[name]; ok && other != r.ID {
		s.mu.Unlock()
		return other, nil
	}
	delete(s.names, r.Name)
	r.Name = name
	s.names[name] = r.ID
	s.gen++
	s.mu.Unlock()
	return "", s.Save()
}

// Delete takes the record with this ID out of the table (its name too, when the name is
// still its own); also runs under the lock. The removal is written soon.
func (s *Store[T]) Delete(id string, also func()) {
	s.mu.Lock()
	if en := s.byID[id]; en != nil {
		delete(s.byID, id)
		if s.names[en.rec.Name] == id {
			delete(s.names, en.rec.Name)
		}
	}
	if also != nil {
		also()
	}
	s.gen++
	s.mu.Unlock()
	s.SaveSoon()
}

// Update changes a record under the lock, bumps the generation and has it written soon.
func (s *Store[T]) Update(r *Record, fn func(r *Record)) {
	s.Change(func() { fn(r) })
	s.SaveSoon()
}

// Change runs fn under the lock and bumps the generation, without a write: for what a
// restart rebuilds from the container's own files, or what state.json does not hold.
func (s *Store[T]) Change(fn func()) {
	s.mu.Lock()
	fn()
	s.gen++
	s.mu.Unlock()
}

// Touch bumps the generation: something a list shows changed outside the records (a
// health status).
func (s *Store[T]) Touch() { s.Change(func() {}) }

// ChangedLocked bumps the generation; the caller holds the write lock.
func (s *Store[T]) ChangedLocked() { s.gen++ }

// Generation is bumped on every change: an edge's list cache is good while it holds.
func (s *Store[T]) Generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// GenerationLocked is Generation with the lock held.
func (s *Store[T]) GenerationLocked() uint64 { return s.gen }

// LenLocked is the number of containers.
func (s *Store[T]) LenLocked() int { return len(s.byID) }

// AllLocked is every container by ID, in no order.
func (s *Store[T]) AllLocked() iter.Seq2[string, T] {
	return func(yield func(string, T) bool) {
		for id, en := range s.byID {
			if !yield(id, en.v) {
				return
			}
		}
	}
}

// List is every container, in no order.
func (s *Store[T]) List() []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]T, 0, len(s.byID))
	for _, en := range s.byID {
		out = append(out, en.v)
	}
	return out
}

// NewID is a new container ID: 64 random hex characters.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// saver writes state.json in the background, one write for a burst of changes. Only a
// container's creation waits for its write: every later change can be rebuilt at start
// from the container's own files (a live shim, exit.json, a missing directory).
//
// It waits saveDelay after a change for the ones that follow (a `run --rm` is created,
// started and removed in tens of milliseconds), and writes nothing when the records are
// what it last wrote: every write is an fsync, which the host's disk makes everyone wait
// for.
func (s *Store[T]) saver(kicks <-chan struct{}) {
	defer close(s.saveDone)
	for range kicks {
		t := time.NewTimer(saveDelay)
		select {
		case <-t.C:
		case <-s.saveClosing:
			t.Stop()
		}
		if err := s.save(true); err != nil {
			s.log.Error("save state", "err", err)
		}
	}
}

// saveDelay is how long the saver gathers changes before it writes (a variable: a test
// that counts writes keeps the saver out of its way).
var saveDelay = 100 * time.Millisecond

// SaveSoon has the saver write the table after saveDelay.
func (s *Store[T]) SaveSoon() {
	s.kickMu.Lock()
	defer s.kickMu.Unlock()
	if s.saveKick == nil {
		return // closed: Close writes the final state itself
	}
	select {
	case s.saveKick <- struct{}{}:
	default: // a write is already due and will include this change
	}
}

// Save writes every record; the snapshot is taken under saveMu so the last write always
// holds the newest state. Callers that change records at once share writes: one that
// waited for saveMu while another wrote a snapshot holding its change returns that
// write's result instead of writing (and fsyncing) again.
func (s *Store[T]) Save() error {
	s.mu.RLock()
	want := s.gen
	s.mu.RUnlock()
	return s.saveThrough(want)
}

// saveThrough writes every record unless a full write since generation want did.
func (s *Store[T]) saveThrough(want uint64) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.savedFull && s.savedGen >= want {
		return s.saveErr
	}
	return s.saveLocked(false)
}

// save is the background saver's with background set: the records but ephemeral ones,
// not written when they are what it last wrote.
func (s *Store[T]) save(background bool) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return s.saveLocked(background)
}

func (s *Store[T]) saveLocked(background bool) (err error) {
	s.mu.RLock()
	gen := s.gen
	doc := stateDoc{Containers: make(map[string]*Record, len(s.byID)+len(s.refused))}
	for id, r := range s.refused {
		doc.Containers[id] = r
	}
	for id, en := range s.byID {
		if background && en.ephemeral {
			continue
		}
		doc.Containers[id] = en.rec
	}
	b, err := json.Marshal(doc)
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	if background && bytes.Equal(b, s.saved) {
		return nil
	}
	err = s.state.SaveRaw(b)
	if background {
		s.savedFull = s.savedFull && err != nil // a background write leaves ephemeral records out
	} else {
		s.savedFull, s.savedGen, s.saveErr = true, gen, err
	}
	if err != nil {
		return err
	}
	s.saved = b
	return nil
}

// Close stops the saver and writes the table a last time, ephemeral records included.
func (s *Store[T]) Close() error {
	close(s.saveClosing)
	s.kickMu.Lock()
	close(s.saveKick)
	s.saveKick = nil
	s.kickMu.Unlock()
	<-s.saveDone
	return s.Save()
}
