package attachsvc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
)

// fakeCtrs creates container "c1" and fails its start with startErr, its record's write
// with persistErr.
type fakeCtrs struct {
	startErr   error
	persistErr error
	calls      []string // creations, starts, discards and persists, in order
	hadBefore  bool
}

func (f *fakeCtrs) AttachTarget(ref string) (*shimclient.Container, error) {
	return nil, errdefs.Conflict("container " + ref + " is not running")
}

func (f *fakeCtrs) CreateForRun(ctx context.Context, cfg ctrconfig.Config) (string, []string, error) {
	f.calls = append(f.calls, "create")
	return "c1", []string{"a warning"}, nil
}

func (f *fakeCtrs) StartContainer(ctx context.Context, ref string, before BeforeResume) (string, error) {
	f.calls = append(f.calls, "start "+ref)
	f.hadBefore = before != nil
	return ref, f.startErr
}

func (f *fakeCtrs) DiscardUnstarted(id string) { f.calls = append(f.calls, "discard "+id) }

func (f *fakeCtrs) PersistRun(id string) error {
	f.calls = append(f.calls, "persist "+id)
	return f.persistErr
}

func (f *fakeCtrs) sequence() string { return strings.Join(f.calls, ", ") }

func TestRunWhoseWorkloadCannotRun(t *testing.T) {
	f := &fakeCtrs{startErr: &errdefs.StartFailed{Code: 127, Msg: "not found"}}
	run, warnings, err := New(f).RunContainer(context.Background(), ctrconfig.Config{AutoRemove: true}, RunAttach{Output: true}, 0, 0)
	if err != nil || run.Failed == nil || run.Failed.Code != 127 || run.Conn != nil || len(warnings) != 1 {
		t.Fatalf("run = %+v, %v, %v", run, warnings, err)
	}
	// A foreground --rm run never writes its record, and a container that ran (and
	// failed with 127) is not discarded; its start attaches first.
	if got := f.sequence(); got != "create, start c1" || !f.hadBefore {
		t.Fatalf("calls %q, attached before the start %v", got, f.hadBefore)
	}
}

func TestDetachedRunPersistsAfterItsStart(t *testing.T) {
	f := &fakeCtrs{}
	run, _, err := New(f).RunContainer(context.Background(), ctrconfig.Config{}, RunAttach{}, 0, 0)
	if err != nil || run == nil || run.ID != "c1" {
		t.Fatalf("run = %+v, %v", run, err)
	}
	if got := f.sequence(); got != "create, start c1, persist c1" || f.hadBefore {
		t.Fatalf("calls %q, attached %v", got, f.hadBefore)
	}
}

func TestRunWhoseRecordCannotBeWritten(t *testing.T) {
	full := errors.New("no space left on device")
	f := &fakeCtrs{persistErr: full}
	run, _, err := New(f).RunContainer(context.Background(), ctrconfig.Config{}, RunAttach{}, 0, 0)
	if !errors.Is(err, full) || run != nil {
		t.Fatalf("run = %+v, %v", run, err)
	}
	if got := f.sequence(); got != "create, start c1, persist c1" {
		t.Fatalf("calls %q", got)
	}
}

func TestRunWhoseStartFails(t *testing.T) {
	boom := errors.New("no cgroup")
	f := &fakeCtrs{startErr: boom}
	run, _, err := New(f).RunContainer(context.Background(), ctrconfig.Config{}, RunAttach{}, 0, 0)
	if !errors.Is(err, boom) || run != nil {
		t.Fatalf("run = %+v, %v", run, err)
	}
	// The created container is discarded if it was to be removed, else kept: on disk.
	if got := f.sequence(); got != "create, start c1, discard c1, persist c1" || f.hadBefore {
		t.Fatalf("a detached run: calls %q, attached %v", got, f.hadBefore)
	}
}

func TestAttachToAStoppedContainer(t *testing.T) {
	s := New(&fakeCtrs{})
	if _, _, err := s.AttachContainer(context.Background(), "c", false); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("attach: %v", err)
	}
	if err := s.ResizeContainer("c", 10, 20); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("resize: %v", err)
	}
}
