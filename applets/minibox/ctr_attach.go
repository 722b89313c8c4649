package minibox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
)

// defaultDetachKeys is Docker's Ctrl-P Ctrl-Q.
var defaultDetachKeys = []byte{0x10, 0x11}

// forwarded are the signals passed on to a container run without -t.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// session drives one upgraded connection (run -i/-t, exec -i/-t, attach, start -a):
// stdin up, output down, the terminal raw with -t, its size followed, signals forwarded
// without -t.
type session struct {
	att        *client.Attached
	out        *Output
	tty        bool // the process has a pty: raw bytes, not frames
	stdin      bool // send our stdin
	detachKeys []byte
	// resize sends the terminal's size (nil: not a tty session).
	resize func(h, w int) error
	// signal forwards a signal by name (nil: not forwarded, as for exec).
	signal func(name string) error
	// ended blocks until the process ended (nil: not watched). Should the daemon's stream
	// stay open and silent for followGrace after that, the session ends anyway.
	ended func(ctx context.Context) error
}

// activityReader counts what passes, so a silent stream can be told from a busy one.
type activityReader struct {
	r io.Reader
	n atomic.Int64
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	a.n.Add(int64(n))
	return n, err
}

// closeWhenSilent closes the connection once ended returned and no byte came for
// followGrace.
func (s *session) closeWhenSilent(ctx context.Context, in *activityReader) {
	if s.ended(ctx) != nil {
		return
	}
	seen := in.n.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(followGrace):
		}
		now := in.n.Load()
		if now == seen {
			s.att.Close()
			return
		}
		seen = now
	}
}

// result is how a session ended.
type result struct {
	detached  bool
	engineErr string // an engine-error frame's message
}

func (s *session) run(ctx context.Context) (result, error) {
	var res result
	in := os.Stdin
	inFd := int(in.Fd())
	if s.tty && s.stdin && term.IsTerminal(inFd) {
		old, err := term.MakeRaw(inFd)
		if err != nil {
			return res, fmt.Errorf("put the terminal in raw mode: %w", err)
		}
		// Restored on every way out of this function, panics included.
		defer term.Restore(inFd, old)
	}
	stop := make(chan struct{})
	defer close(stop)
	if s.tty && s.resize != nil {
		s.followSize(stop)
	}
	if !s.tty && s.signal != nil {
		s.forwardSignals(stop)
	} else if s.tty {
		// In raw mode ^C is a byte for the container; a SIGTERM or SIGHUP to us ends the
		// session (and restores the terminal) instead of killing us raw.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			defer signal.Stop(sigs)
			select {
			case <-sigs:
				s.att.Close()
			case <-stop:
			}
		}()
	}

	var detached sync.Once
	detach := func() {
		detached.Do(func() { res.detached = true })
		s.att.Close()
	}
	if s.stdin {
		go s.copyStdin(in, detach)
	} else {
		// No stdin: the process sees EOF at once.
		s.att.CloseWrite()
	}

	src := &activityReader{r: s.att}
	if s.ended != nil {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.closeWhenSilent(wctx, src)
	}
	var err error
	if s.tty {
		_, err = io.Copy(s.out.Stdout, src)
		if errors.Is(err, os.ErrClosed) || isClosedConn(err) {
			err = nil
		}
	} else {
		res.engineErr, err = client.Demux(src, s.out.Stdout, s.out.Stderr)
	}
	s.att.Close()
	if res.detached {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

func isClosedConn(err error) bool {
	return err != nil && strings.Contains(err.Error(), "use of closed network connection")
}

// copyStdin sends stdin, watching for the detach keys; EOF half-closes the connection.
func (s *session) copyStdin(in io.Reader, detach func()) {
	keys := s.detachKeys
	buf := make([]byte, 32<<10)
	matched := 0
	for {
		n, err := in.Read(buf)
		if n > 0 {
			var send []byte
			for _, b := range buf[:n] {
				if len(keys) > 0 && b == keys[matched] {
					matched++
					if matched == len(keys) {
						if len(send) > 0 {
							s.att.Write(send)
						}
						detach()
						return
					}
					continue
				}
				if matched > 0 {
					send = append(send, keys[:matched]...)
					matched = 0
					if len(keys) > 0 && b == keys[0] {
						matched = 1
						continue
					}
				}
				send = append(send, b)
			}
			if len(send) > 0 {
				if _, werr := s.att.Write(send); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if matched > 0 {
				s.att.Write(keys[:matched])
			}
			if s.tty {
				// On a terminal, end of input is the EOF character: the line discipline
				// turns ^D into EOF for the reader and the terminal stays usable.
				s.att.Write([]byte{0x04})
				return
			}
			s.att.CloseWrite()
			return
		}
	}
}

// termFd is a terminal among stdout and stdin, for its size (-1 if none).
func termFd() int {
	for _, f := range []*os.File{os.Stdout, os.Stdin} {
		if term.IsTerminal(int(f.Fd())) {
			return int(f.Fd())
		}
	}
	return -1
}

// termSize is the terminal's rows and columns (0, 0 when not a terminal).
func termSize() (h, w int) {
	fd := termFd()
	if fd < 0 {
		return 0, 0
	}
	w, h, err := term.GetSize(fd)
	if err != nil {
		return 0, 0
	}
	return h, w
}

// followSize sends the size now and on every SIGWINCH.
func (s *session) followSize(stop <-chan struct{}) {
	send := func() {
		if h, w := termSize(); h > 0 && w > 0 {
			s.resize(h, w)
		}
	}
	send()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-winch:
				send()
			case <-stop:
				return
			}
		}
	}()
}

// forwardSignals passes INT, TERM, HUP, QUIT, USR1 and USR2 to the container.
func (s *session) forwardSignals(stop <-chan struct{}) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwarded...)
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case sig := <-sigs:
				s.signal(signalName(sig))
			case <-stop:
				return
			}
		}
	}()
}

// forwardTo forwards signals to fn until the returned stop is called (the plain run stream).
func forwardTo(fn func(name string)) (stop func()) {
	sigs := make(chan os.Signal, 4)
	done := make(chan struct{})
	signal.Notify(sigs, forwarded...)
	go func() {
		for {
			select {
			case sig := <-sigs:
				fn(signalName(sig))
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { signal.Stop(sigs); close(done) }) }
}

func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		switch s {
		case syscall.SIGINT:
			return "SIGINT"
		case syscall.SIGTERM:
			return "SIGTERM"
		case syscall.SIGHUP:
			return "SIGHUP"
		case syscall.SIGQUIT:
			return "SIGQUIT"
		case syscall.SIGUSR1:
			return "SIGUSR1"
		case syscall.SIGUSR2:
			return "SIGUSR2"
		}
		return fmt.Sprint(int(s))
	}
	return sig.String()
}

// parseDetachKeys reads Docker's --detach-keys: "ctrl-p,ctrl-q", letters, or ctrl-@ [ \ ] ^ _.
// An empty string disables detaching.
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case strings.HasPrefix(strings.ToLower(k), "ctrl-") && len(k) == 6:
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c >= 'A' && c <= 'Z':
				out = append(out, c-'A'+1)
			case c == '@':
				out = append(out, 0)
			case c == '[', c == '\\', c == ']', c == '^', c == '_':
				out = append(out, c-'@')
			default:
				return nil, usageError("--detach-keys %s: unknown key %q; use ctrl-<letter> or a single character", s, k)
			}
		default:
			return nil, usageError("--detach-keys %s: unknown key %q; use ctrl-<letter> or a single character", s, k)
		}
	}
	return out, nil
}

// exitWith turns a process's status into the CLI's exit (0: success).
func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return &errdefs.ExitError{Code: code, Silent: true}
}

// notRunnableCode maps a daemon message about a process that could not start: 127 when the
// program was not found, 126 when it could not run. It is only the fallback
// when the daemon's own exit code could not be read.
func notRunnableCode(msg string) int {
	m := strings.ToLower(msg)
	if strings.Contains(m, "not found") || strings.Contains(m, "no such file") {
		return 127
	}
	return 126
}
