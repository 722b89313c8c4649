package shim

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// initProcess is init, our child, started with syscall.StartProcess rather than os/exec:
// os.StartProcess first checks, once a process, that pidfds work, by cloning a child of
// its own that exits at once (os.checkPidfd), a process's creation and end at every warm
// spawn. Init is our child, so its PID stays its own until we reap it: the signals go by
// PID, with the reaping, under mu, so that none can reach a PID reused after it.
type initProcess struct {
	Pid    int
	mu     sync.Mutex
	reaped bool
}

// startInit starts path with argv and env, files as its descriptors 0, 1, ...
func startInit(path string, argv, env []string, files []*os.File, attr *syscall.SysProcAttr) (*initProcess, error) {
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd() // blocking, as os.StartProcess leaves a child's descriptors
	}
	pid, _, err := syscall.StartProcess(path, argv, &syscall.ProcAttr{Env: env, Files: fds, Sys: attr})
	runtime.KeepAlive(files)
	if err != nil {
		return nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return &initProcess{Pid: pid}, nil
}

// Signal sends sig to init; os.ErrProcessDone once it has been reaped (or is a zombie).
func (p *initProcess) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	err := syscall.Kill(p.Pid, sig)
	if err == syscall.ESRCH {
		return os.ErrProcessDone
	}
	if err != nil {
		return os.NewSyscallError("kill", err)
	}
	return nil
}

// Kill sends SIGKILL.
func (p *initProcess) Kill() error { return p.Signal(syscall.SIGKILL) }

// Reaped reports whether Wait has reaped init.
func (p *initProcess) Reaped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reaped
}

// errWaited is a second Wait's.
var errWaited = errors.New("init: Wait was already called")

// Wait waits for init to exit and reaps it, once.
func (p *initProcess) Wait() (syscall.WaitStatus, error) {
	// Exited first, still unreaped: Signal may run meanwhile, on init's own PID.
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return 0, errWaited
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.Pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		p.reaped = true
		if err != nil {
			return 0, os.NewSyscallError("wait", err)
		}
		return ws, nil
	}
}

// exitStatusError is init's end when not a success (as exec.ExitError).
type exitStatusError struct{ ws syscall.WaitStatus }

func (e *exitStatusError) Error() string {
	if e.ws.Signaled() {
		return "signal: " + e.ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(e.ws.ExitStatus())
}

// waitError is Wait's outcome as an error: nil for a success, as exec.Cmd.Wait's.
func waitError(ws syscall.WaitStatus, err error) error {
	if err == nil && ws.ExitStatus() != 0 {
		return &exitStatusError{ws}
	}
	return err
}
