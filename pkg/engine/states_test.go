package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Every pair of statuses: the moves a container may make, and only those.
func TestStatusMoves(t *testing.T) {
	allowed := map[[2]string]bool{
		{StatusCreated, StatusRunning}: true, {StatusCreated, StatusPaused}: true, {StatusCreated, StatusExited}: true,
		{StatusRunning, StatusPaused}: true, {StatusRunning, StatusExited}: true, {StatusRunning, StatusCreated}: true,
		{StatusPaused, StatusRunning}: true, {StatusPaused, StatusExited}: true, {StatusPaused, StatusCreated}: true,
		{StatusRestarting, StatusRunning}: true, {StatusRestarting, StatusPaused}: true,
		{StatusRestarting, StatusExited}: true, {StatusRestarting, StatusCreated}: true,
		{StatusExited, StatusRunning}: true, {StatusExited, StatusRestarting}: true,
	}
	for _, from := range statuses {
		for _, to := range statuses {
			want := from == to || allowed[[2]string{from, to}]
			r := &Record{Name: "c", Status: from}
			err := moveTo(r, to)
			if want {
				if err != nil || r.Status != to {
					t.Errorf("%s -> %s: %v (status %s), want the move", from, to, err, r.Status)
				}
				continue
			}
			var se *StateError
			if !errors.As(err, &se) || !errors.Is(err, errdefs.ErrConflict) {
				t.Errorf("%s -> %s: err %v, want a StateError that is a conflict", from, to, err)
			}
			if r.Status != from {
				t.Errorf("%s -> %s: refused, yet the status became %s", from, to, r.Status)
			}
		}
	}
	for from, tos := range next {
		for _, to := range tos {
			if !allowed[[2]string{from, to}] {
				t.Errorf("the table allows %s -> %s, which this test does not list", from, to)
			}
		}
	}
}

// Every pair of status and operation, with the message a user sees for a refusal.
func TestOperationsByStatus(t *testing.T) {
	want := map[Op]map[string]string{ // "" = allowed
		OpExec: {StatusCreated: "is not running", StatusRunning: "", StatusPaused: "is paused; unpause it first",
			StatusRestarting: "is not running", StatusExited: "is not running"},
		OpAttach: {StatusCreated: "is not running", StatusRunning: "", StatusPaused: "",
			StatusRestarting: "is not running", StatusExited: "is not running"},
		OpKill: {StatusCreated: "is not running", StatusRunning: "", StatusPaused: "",
			StatusRestarting: "is not running", StatusExited: "is not running"},
		OpPause: {StatusCreated: "is not running", StatusRunning: "", StatusPaused: "is already paused",
			StatusRestarting: "is not running", StatusExited: "is not running"},
		OpUnpause: {StatusCreated: "is not paused", StatusRunning: "is not paused", StatusPaused: "",
			StatusRestarting: "is not paused", StatusExited: "is not paused"},
		OpRemove: {StatusCreated: "", StatusRunning: "is running: stop it first or remove it with -f",
			StatusPaused: "is paused: stop it first or remove it with -f", StatusRestarting: "is restarting: stop it first or remove it with -f",
			StatusExited: ""},
	}
	if len(want) != len(allowedIn) {
		t.Fatalf("%d operations in the table, %d in this test", len(allowedIn), len(want))
	}
	for op, byStatus := range want {
		for _, st := range statuses {
			msg, ok := byStatus[st]
			if !ok {
				t.Fatalf("%s in %s: not in this test", op, st)
			}
			err := allow(&Record{Name: "web", Status: st}, op)
			switch {
			case msg == "" && err != nil:
				t.Errorf("%s in %s: %v, want allowed", op, st, err)
			case msg != "" && err == nil:
				t.Errorf("%s in %s: allowed, want refused", op, st)
			case msg != "" && err.Error() != fmt.Sprintf("container web %s", msg):
				t.Errorf("%s in %s: %q, want %q", op, st, err, "container web "+msg)
			case msg != "" && !errors.Is(err, errdefs.ErrConflict):
				t.Errorf("%s in %s: %v is not a conflict", op, st, err)
			}
		}
	}
}
