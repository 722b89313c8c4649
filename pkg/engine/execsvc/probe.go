package execsvc

import (
	"context"
	"io"

	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/shimclient"
)

// Probes runs a container's health probes as exec runs processes in it (every namespace,
// its seccomp and capabilities), through its shim.
func Probes(shim *shimclient.Container) health.Execer { return probeExec{shim} }

type probeExec struct{ shim *shimclient.Container }

type probeProc struct{ p *shimclient.ExecProcess }

func (x probeExec) Exec(ctx context.Context, args []string, out io.Writer) (health.Process, error) {
	p, err := x.shim.Exec(ctx, shimclient.ExecSpec{Args: args}, shimclient.AttachOptions{Stdout: out, Stderr: out})
	if err != nil {
		return nil, err
	}
	return probeProc{p}, nil
}

func (p probeProc) Wait(ctx context.Context) (int, error) {
	ex, err := p.p.Wait(ctx)
	if err != nil {
		return 0, err
	}
	return ex.ExitCode, nil
}

func (p probeProc) Kill() { p.p.Signal(9) }
