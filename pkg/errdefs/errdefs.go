package errdefs

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// The kinds. Wrap them with context: fmt.Errorf("container %s: %w", ref, ErrNotFound).
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrInvalid       = errors.New("invalid")
	ErrConflict      = errors.New("conflict")
	ErrForbidden     = errors.New("forbidden")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrTooLarge      = errors.New("too large")
	ErrUnavailable   = errors.New("unavailable")
)

// kindError carries a kind without adding its word to the message, for errors whose text
// already says everything ("no command given ...").
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() error   { return e.kind }
func (e *kindError) Is(t error) bool { return t == e.kind }

// New returns an error with text msg and kind kind.
func New(kind error, msg string) error { return &kindError{msg: msg, kind: kind} }

// Invalid, NotFound, Conflict and Forbidden build a kinded error from a message.
func Invalid(msg string) error   { return New(ErrInvalid, msg) }
func NotFound(msg string) error  { return New(ErrNotFound, msg) }
func Conflict(msg string) error  { return New(ErrConflict, msg) }
func Forbidden(msg string) error { return New(ErrForbidden, msg) }

// ExitError makes an applet exit with Code. Err, when set and not Silent, is printed as
// one "[error] ..." line first.
type ExitError struct {
	Code   int
	Err    error
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// noiseKinds are the kinds whose word adds nothing to a message that says what is wrong
// ("not found", "already exists" and the others still tell something, and stay).
var noiseKinds = []error{ErrInvalid, ErrConflict}

// Message is err's text for people: the kind words that wrapping appends ("...: invalid",
// "...: conflict") are dropped where err is of that kind, the rest kept as written. The
// kind itself stays on err for status codes and errors.Is.
func Message(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, k := range noiseKinds {
		if !errors.Is(err, k) {
			continue
		}
		word := k.Error()
		for _, sep := range []string{": " + word + ":", ": " + word + ";", ": " + word + ","} {
			msg = strings.ReplaceAll(msg, sep, sep[len(": "+word):])
		}
		if t, ok := strings.CutSuffix(msg, ": "+word); ok && t != "" {
			msg = t
		}
	}
	return msg
}

// HTTPStatus is the HTTP status code of err's kind, the same for every API edge (minibox's
// own and the Docker-compatible one); an error of no kind is 500.
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return 400 // Bad Request
	case errors.Is(err, ErrUnauthorized):
		return 401 // Unauthorized
	case errors.Is(err, ErrForbidden):
		return 403 // Forbidden
	case errors.Is(err, ErrNotFound):
		return 404 // Not Found
	case errors.Is(err, ErrConflict), errors.Is(err, ErrAlreadyExists):
		return 409 // Conflict
	case errors.Is(err, ErrTooLarge):
		return 413 // Request Entity Too Large
	case errors.Is(err, ErrUnavailable):
		return 503 // Service Unavailable
	}
	return 500
}

// StartFailed is a process (a container's workload, or an exec) that could not run: Code
// 126 (not runnable, unknown user) or 127 (not found). It is of kind ErrInvalid.
type StartFailed struct {
	Code int
	Msg  string
}

func (e *StartFailed) Error() string { return e.Msg }

// Is makes a start failure a 400-kind error for callers that map kinds.
func (e *StartFailed) Is(t error) bool { return t == ErrInvalid }

// ExitCode is the process exit code for an applet's result; it reports err on stderr,
// unless it is an ExitError that asks for silence.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if !ee.Silent && ee.Err != nil {
			fmt.Fprintln(os.Stderr, "[error]", Message(ee.Err))
		}
		return ee.Code
	}
	fmt.Fprintln(os.Stderr, "[error]", Message(err))
	return 125
}
