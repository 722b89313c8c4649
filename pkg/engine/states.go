package engine

import (
	"fmt"
	"slices"

	"github.com/minibox/minibox/pkg/engine/ctrstore"
	"github.com/minibox/minibox/pkg/errdefs"
)

// A container's life as one table: which status may follow which, and which operation a
// status allows. Every change of Record.Status goes through moveTo, every operation that
// depends on the status through allow, so the rules live here and nowhere else.

// Container statuses, as the API shows them.
const (
	StatusCreated    = ctrstore.StatusCreated
	StatusRunning    = ctrstore.StatusRunning
	StatusPaused     = ctrstore.StatusPaused
	StatusRestarting = ctrstore.StatusRestarting
	StatusExited     = ctrstore.StatusExited
)

var statuses = []string{StatusCreated, StatusRunning, StatusPaused, StatusRestarting, StatusExited}

// next lists the statuses each one may move to. Staying is always allowed. The edges
// back to created exist for a daemon that restarts and finds a shim whose workload was
// never let go: nobody will resume it, so it is ended and the container can start again.
var next = map[string][]string{
	StatusCreated:    {StatusRunning, StatusPaused, StatusExited},                // paused: a pause just before a daemon's kill -9
	StatusRunning:    {StatusPaused, StatusExited, StatusCreated},                // created: held workload found at daemon start
	StatusPaused:     {StatusRunning, StatusExited, StatusCreated},               // exited: killed while frozen
	StatusRestarting: {StatusRunning, StatusPaused, StatusExited, StatusCreated}, // exited: stopped during the back-off
	StatusExited:     {StatusRunning, StatusRestarting},
}

// Op is something asked of a container whose answer depends on its status.
type Op string

const (
	OpExec    Op = "exec"
	OpAttach  Op = "attach"
	OpKill    Op = "kill"
	OpPause   Op = "pause"
	OpUnpause Op = "unpause"
	OpRemove  Op = "remove" // without force
)

// allowedIn lists, per operation, the statuses that allow it.
var allowedIn = map[Op][]string{
	OpExec:    {StatusRunning},
	OpAttach:  {StatusRunning, StatusPaused},
	OpKill:    {StatusRunning, StatusPaused},
	OpPause:   {StatusRunning},
	OpUnpause: {StatusPaused},
	OpRemove:  {StatusCreated, StatusExited},
}

// StateError is an operation or a move that the container's status does not allow
// (409 at the API).
type StateError struct {
	Name   string // the container's name
	Status string
	Op     Op     // set for a refused operation
	To     string // set for a refused move
}

func (e *StateError) Error() string {
	if e.To != "" {
		return fmt.Sprintf("container %s cannot go from %s to %s", e.Name, e.Status, e.To)
	}
	switch {
	case e.Op == OpUnpause:
		return fmt.Sprintf("container %s is not paused", e.Name)
	case e.Op == OpPause && e.Status == StatusPaused:
		return fmt.Sprintf("container %s is already paused", e.Name)
	case e.Op == OpRemove:
		return fmt.Sprintf("container %s is %s: stop it first or remove it with -f", e.Name, e.Status)
	case e.Status == StatusPaused:
		return fmt.Sprintf("container %s is paused; unpause it first", e.Name)
	}
	return fmt.Sprintf("container %s is not running", e.Name)
}

// Is makes a StateError a conflict for the API's status map.
func (e *StateError) Is(target error) bool { return target == errdefs.ErrConflict }

// canMove reports whether status from may become to.
func canMove(from, to string) bool {
	return from == to || slices.Contains(next[from], to)
}

// allow says whether r's status allows op.
func allow(r *Record, op Op) error {
	if slices.Contains(allowedIn[op], r.Status) {
		return nil
	}
	return &StateError{Name: r.Name, Status: r.Status, Op: op}
}

// moveTo changes r's status. A move the table does not allow is a bug in the engine,
// not in the request: it is refused, and the caller logs it.
func moveTo(r *Record, to string) error {
	if !canMove(r.Status, to) {
		return &StateError{Name: r.Name, Status: r.Status, To: to}
	}
	r.Status = to
	return nil
}

// setStatus moves c's record to status to under the record lock.
func (e *Engine) setStatus(c *ctr, to string, also func(r *Record)) {
	e.update(c, func(r *Record) {
		if err := moveTo(r, to); err != nil {
			e.Log.Error("refused status change", "id", r.ID[:12], "err", err)
		}
		if also != nil { // what happened (an exit code, a PID) is recorded either way
			also(r)
		}
	})
}
