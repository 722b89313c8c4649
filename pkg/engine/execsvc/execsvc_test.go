package execsvc

import (
	"context"
	"errors"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

// stoppedCtrs answers every lookup as a container that is not running.
type stoppedCtrs struct{ asked []string }

func (c *stoppedCtrs) ExecTarget(ref string) (Target, error) {
	c.asked = append(c.asked, ref)
	return Target{}, errdefs.Conflict("container " + ref + " is not running")
}

func TestExecRefusesBeforeReachingAShim(t *testing.T) {
	ctrs := &stoppedCtrs{}
	s := New(ctrs)
	if _, err := s.Exec(context.Background(), Options{ID: "c"}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("exec without a command: %v, want an invalid-kind error", err)
	}
	if len(ctrs.asked) != 0 {
		t.Fatalf("a request without a command looked up %v", ctrs.asked)
	}
	if _, err := s.Exec(context.Background(), Options{ID: "c", Command: []string{"true"}}); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("exec in a stopped container: %v, want the containers' conflict", err)
	}
}

func TestUnknownExecIsNotFound(t *testing.T) {
	s := New(&stoppedCtrs{})
	if _, err := s.InspectExec(context.Background(), "nope", false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("inspect: %v", err)
	}
	if err := s.ResizeExec("nope", 10, 20); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("resize: %v", err)
	}
}

// An exec's wait returns its first recorded exit, and later ones change nothing.
func TestWaitSeesTheFirstExit(t *testing.T) {
	s := New(&stoppedCtrs{})
	ent := &entry{id: "x", done: make(chan struct{}), running: true}
	s.execs.Store(ent.id, ent)
	st, err := s.InspectExec(context.Background(), "x", false)
	if err != nil || !st.Running {
		t.Fatalf("before its end: %+v, %v", st, err)
	}
	if err := s.ResizeExec("x", 10, 20); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("resize of an exec with no process: %v", err)
	}
	go func() { ent.finish(3); ent.finish(126) }()
	code, err := s.WaitExec(context.Background(), "x")
	if err != nil || code != 3 {
		t.Fatalf("wait: %d, %v; want 3", code, err)
	}
	if st, err := s.InspectExec(context.Background(), "x", true); err != nil || st.Running || st.ExitCode != 3 {
		t.Fatalf("after its end: %+v, %v", st, err)
	}
}
