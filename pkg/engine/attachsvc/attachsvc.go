// Package attachsvc connects clients to containers' stdio: attach and resize of a running
// container, and run and start with the stdio attached before the workload runs, so that
// no output is lost. It reaches containers through the Containers interface the engine
// implements.
package attachsvc

import (
	"context"
	"errors"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/shimclient"
)

// BeforeResume runs between the container's creation and its workload's start (attach
// here to lose no output).
type BeforeResume func(shim *shimclient.Container) error

// Containers is what the service asks of the containers.
type Containers interface {
	// AttachTarget is the shim of a running (or paused) container, else a 409-kind error.
	AttachTarget(ref string) (*shimclient.Container, error)
	// CreateForRun creates a container for run, its record not yet on disk: a daemon that
	// dies before PersistRun removes it at its next start.
	CreateForRun(ctx context.Context, cfg ctrconfig.Config) (string, []string, error)
	// PersistRun puts the record of a container CreateForRun made on disk; when it cannot,
	// the container is removed and the error says why.
	PersistRun(id string) error
	// StartContainer starts the container, running before between its creation and its
	// workload's start; a workload that cannot run is an *errdefs.StartFailed.
	StartContainer(ctx context.Context, ref string, before BeforeResume) (string, error)
	// DiscardUnstarted removes a container whose first start failed, if it was to be
	// removed anyway (--rm).
	DiscardUnstarted(id string)
}

// Service attaches to the daemon's containers.
type Service struct{ ctrs Containers }

// New makes the service over the engine's containers.
func New(ctrs Containers) *Service { return &Service{ctrs: ctrs} }

// AttachContainer attaches to a running container's stdio: raw bytes for a tty, else
// multiplexed frames.
func (s *Service) AttachContainer(ctx context.Context, ref string, stdin bool) (*shimclient.Conn, bool, error) {
	shim, err := s.ctrs.AttachTarget(ref)
	if err != nil {
		return nil, false, err
	}
	conn, err := shim.AttachConn(ctx, stdin)
	return conn, shim.Tty(), err
}

// ResizeContainer sets a running container's terminal size.
func (s *Service) ResizeContainer(ref string, h, w uint16) error {
	shim, err := s.ctrs.AttachTarget(ref)
	if err != nil {
		return err
	}
	return shim.Resize(h, w)
}

// RunStarted is a container created and started by Run with its stdio attached.
type RunStarted struct {
	ID   string
	Tty  bool
	Conn *shimclient.Conn // nil when detached
	// Failed is set when the workload could not run (exit 126/127); Conn is nil then.
	Failed *errdefs.StartFailed
}

// RunAttach says whether and how RunContainer attaches its caller to the container's stdio.
type RunAttach struct {
	Output bool // false: detached
	Stdin  bool
	// Held: the shim holds the output until the caller hands it the client's connection
	// (RunStarted.Conn.HandOff, when Conn.Held) or reads the stream itself.
	Held bool
}

// RunContainer creates and starts a container; unless detached it attaches first, so no
// output is lost.
// A tty gets the client's size (height, width; 0 = unknown) before the workload starts.
//
// The record reaches the disk once the start is over, before the answer; a foreground
// `run --rm`'s never needs to. Written at the creation, it would hold each start back by
// a write and an fsync: containers run at once (compose up) would queue for the disk
// before their starts instead of sharing one write after them. A daemon that dies in
// between removes the container at its next start; its client had no answer.
func (s *Service) RunContainer(ctx context.Context, req ctrconfig.Config, att RunAttach, height, width uint16) (*RunStarted, []string, error) {
	durable := !(att.Output && req.AutoRemove)
	id, warnings, err := s.ctrs.CreateForRun(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	run := &RunStarted{ID: id}
	var before BeforeResume
	if att.Output {
		before = attachBefore(ctx, run, att.Stdin, att.Held, height, width)
	}
	_, err = s.ctrs.StartContainer(ctx, id, before)
	if err != nil && !run.failed(err) {
		// A container that never ran is not kept when it was meant to be removed.
		s.ctrs.DiscardUnstarted(id)
		if durable {
			s.ctrs.PersistRun(id) // the created container stays, as after a failed start
		}
		return nil, warnings, err
	}
	if durable {
		if perr := s.ctrs.PersistRun(id); perr != nil {
			run.failed(perr) // lets go of the attachment, if any
			return nil, warnings, perr
		}
	}
	return run, warnings, nil
}

// failed takes a failed start: the attachment goes, and a workload that could not run
// (126/127) is recorded in run.Failed (true) rather than being an error of the request.
func (run *RunStarted) failed(err error) bool {
	if run.Conn != nil {
		run.Conn.Close()
		run.Conn = nil
	}
	var sf *errdefs.StartFailed
	if errors.As(err, &sf) {
		run.Failed = sf
		return true
	}
	return false
}

// attachBefore attaches run to the container's stdio (a tty sized first) before its
// workload starts.
func attachBefore(ctx context.Context, run *RunStarted, stdin, held bool, height, width uint16) BeforeResume {
	return func(shim *shimclient.Container) error {
		if shim.Tty() && height > 0 && width > 0 {
			if err := shim.Resize(height, width); err != nil {
				return err
			}
		}
		attach := shim.AttachConn
		if held {
			attach = shim.AttachHeld
		}
		conn, err := attach(ctx, stdin)
		run.Conn, run.Tty = conn, shim.Tty()
		return err
	}
}

// StartAttached starts a container with its stdio attached before the workload runs
// (start -a -i: nothing typed or printed is lost between the start and the attach). One
// that is already running is attached to.
func (s *Service) StartAttached(ctx context.Context, ref string, stdin bool, height, width uint16) (*RunStarted, error) {
	run := &RunStarted{}
	id, err := s.ctrs.StartContainer(ctx, ref, attachBefore(ctx, run, stdin, false, height, width))
	run.ID = id
	if err != nil {
		if run.failed(err) {
			return run, nil
		}
		return nil, err
	}
	if run.Conn == nil { // it was running already
		if run.Conn, run.Tty, err = s.AttachContainer(ctx, id, stdin); err != nil {
			return nil, err
		}
	}
	return run, nil
}
