package compose

import (
	"bytes"
	"strings"
	"testing"
)

// Plain: one line per change, notes at once.
func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	p.event("Container", "p-web-1", "Creating")
	p.note("[warn] careful")
	p.event("Container", "p-web-1", "Started")
	p.close()
	want := " Container p-web-1  Creating\n[warn] careful\n Container p-web-1  Started\n"
	if b.String() != want {
		t.Errorf("plain output %q, want %q", b.String(), want)
	}
}

// Live: each resource keeps one line, redrawn over the last drawing (cursor up by its
// height); the notes come after the last drawing.
func TestProgressLive(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true)
	p.event("Network", "p_default", "Creating")
	p.event("Network", "p_default", "Created")
	p.event("Container", "p-web-1", "Creating")
	p.note("[warn] careful")
	p.event("Container", "p-web-1", "Started")
	p.close()
	out := b.String()
	last := out[strings.LastIndex(out, "\x1b[3A"):]
	for _, want := range []string{"[+] Done 2/2", "Network p_default  Created", "Container p-web-1  Started"} {
		if !strings.Contains(last, want) {
			t.Errorf("last drawing %q lacks %q", last, want)
		}
	}
	if strings.Contains(out, "Creating\n[warn]") || !strings.HasSuffix(out, "[warn] careful\n") {
		t.Errorf("the note is not after the lines: %q", out)
	}
	if !strings.Contains(out, "\x1b[2A") {
		t.Errorf("a drawing of 2 lines was not drawn over: %q", out)
	}
}
