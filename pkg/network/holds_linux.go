package network

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
)

// hold is a socket bound (never listening) to a published host port, so no other program
// can take the port while DNAT sends its traffic to a container. Bound-only TCP sockets
// accept nothing, so if the rules were ever gone clients would be refused, not hang.
type hold struct {
	fd   int
	port Port
}

func closeHolds(hs []*hold) {
	for _, h := range hs {
		unix.Close(h.fd)
	}
}

// acquire binds every port (in the managed namespace), choosing free ones for HostPort 0;
// on error none stays bound.
func (m *Manager) acquire(ports []Port) ([]*hold, error) {
	var hs []*hold
	for _, p := range ports {
		h, err := m.bindHold(p)
		if err != nil {
			closeHolds(hs)
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func (m *Manager) bindHold(p Port) (*hold, error) {
	var h *hold
	err := m.inNS(func() error {
		typ := unix.SOCK_STREAM
		if p.Proto == "udp" {
			typ = unix.SOCK_DGRAM
		}
		// CLOEXEC: a shim spawned by the daemon must not inherit the hold, or the port
		// would stay taken after the daemon dies and a restarted one could not re-acquire it.
		// No SO_REUSEADDR: with it another bound, non-listening socket could share the port.
		fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("hold port %s: socket: %w", p, err)
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: p.BindIP().As4(), Port: int(p.HostPort)}); err != nil {
			unix.Close(fd)
			switch {
			case errors.Is(err, unix.EADDRINUSE):
				return errdefs.Conflict(fmt.Sprintf("host port %s is already in use", p))
			case errors.Is(err, unix.EADDRNOTAVAIL):
				return errdefs.Invalid(fmt.Sprintf("host port %s: %s is not an address of this host", p, p.BindIP()))
			}
			return fmt.Errorf("hold port %s: %w", p, err)
		}
		if p.HostPort == 0 { // the kernel chose one from the ephemeral range
			sa, err := unix.Getsockname(fd)
			if err != nil {
				unix.Close(fd)
				return fmt.Errorf("hold port %s: getsockname: %w", p, err)
			}
			p.HostPort = uint16(sa.(*unix.SockaddrInet4).Port)
		}
		h = &hold{fd: fd, port: p}
		return nil
	})
	return h, err
}

// inNS runs fn in the managed network namespace: directly for the daemon's own, else on a
// locked thread that enters it and is put back (or, if that fails, dies with its goroutine).
func (m *Manager) inNS(fn func() error) error {
	if m.ns == nil {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return // thread stays locked and exits with the goroutine
		}
		defer unix.Close(orig)
		if err := unix.Setns(int(m.ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", m.cfg.NetNS, err)
			return
		}
		ferr := fn()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}
