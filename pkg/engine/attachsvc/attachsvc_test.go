package attachsvc

import (
	"context"
	"errors"
	"testing"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
)

// fakeCtrs creates container "c1" and fails its start with startErr.
type fakeCtrs struct {
	startErr  error
	durable   []bool
	hadBefore bool
	discarded []string
}

func (f *fakeCtrs) AttachTarget(ref string) (*shimclient.Container, error) {
	return nil, errdefs.Conflict("container " + ref + " is not running")
}

func (f *fakeCtrs) CreateForRun(ctx context.Context, cfg ctrconfig.Config, durable bool) (string, []string, error) {
	f.durable = append(f.durable, durable)
	return "c1", []string{"a warning"}, nil
}

func (f *fakeCtrs) StartContainer(ctx context.Context, ref string, before BeforeResume) (string, error) {
	f.hadBefore = before != nil
	return ref, f.startErr
}

func (f *fakeCtrs) DiscardUnstarted(id string) { f.discarded = append(f.discarded, id) }

func TestRunWhoseWorkloadCannotRun(t *testing.T) {
	f := &fakeCtrs{startErr: &errdefs.StartFailed{Code: 127, Msg: "not found"}}
	run, warnings, err := New(f).RunContainer(context.Background(), ctrconfig.Config{AutoRemove: true}, RunAttach{Output: true}, 0, 0)
	if err != nil || run.Failed == nil || run.Failed.Code != 127 || run.Conn != nil || len(warnings) != 1 {
		t.Fatalf("run = %+v, %v, %v", run, warnings, err)
	}
	// A foreground --rm run does not wait for its record; its start attaches first.
	if len(f.durable) != 1 || f.durable[0] || !f.hadBefore {
		t.Fatalf("durable %v, attached before the start %v", f.durable, f.hadBefore)
	}
	if len(f.discarded) != 0 {
		t.Fatalf("a container that ran (and failed with 127) was discarded: %v", f.discarded)
	}
}

func TestRunWhoseStartFails(t *testing.T) {
	boom := errors.New("no cgroup")
	f := &fakeCtrs{startErr: boom}
	run, _, err := New(f).RunContainer(context.Background(), ctrconfig.Config{}, RunAttach{}, 0, 0)
	if !errors.Is(err, boom) || run != nil {
		t.Fatalf("run = %+v, %v", run, err)
	}
	if len(f.durable) != 1 || !f.durable[0] || f.hadBefore {
		t.Fatalf("a detached run: durable %v, attached %v", f.durable, f.hadBefore)
	}
	if len(f.discarded) != 1 || f.discarded[0] != "c1" {
		t.Fatalf("discarded %v, want c1", f.discarded)
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
