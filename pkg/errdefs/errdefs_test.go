package errdefs

import (
	"errors"
	"fmt"
	"testing"
)

func TestMessage(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("image reference %q: bad name: %w", "A", ErrInvalid), `image reference "A": bad name`},
		{fmt.Errorf("run: %w", fmt.Errorf("name a is in use: %w", ErrConflict)), "run: name a is in use"},
		{fmt.Errorf("%w; use another", fmt.Errorf("port 80: %w", ErrConflict)), "port 80; use another"},
		{fmt.Errorf("outer: %w", fmt.Errorf("tag: %w: more", ErrInvalid)), "outer: tag: more"},
		{fmt.Errorf("image x: %w", ErrNotFound), "image x: not found"},
		{ErrInvalid, "invalid"},
		{errors.New("plain: invalid"), "plain: invalid"},
		{Invalid("no command given"), "no command given"},
	} {
		if got := Message(tt.err); got != tt.want {
			t.Errorf("Message(%q) = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(tt.err, ErrInvalid) && !errors.Is(tt.err, ErrConflict) && Message(tt.err) != tt.err.Error() {
			t.Errorf("an error of another kind changed: %q", tt.err)
		}
	}
}
