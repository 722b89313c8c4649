package shimclient_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/shimclient"
)

// A flood of output in the local log format (which the shim splices from the workload's
// pipe once a stream is busy): every byte reaches the client whichever way it is attached,
// and the log, in order, with no character cut between two records (a JSON reader would
// turn the halves into U+FFFD).
func TestFloodThroughLogAndAttachment(t *testing.T) {
	const lines = 400000
	line := "héllo wörld ✓\n" // 3-byte characters: records end mid-character often
	script := "yes 'héllo wörld ✓' | head -n 400000; echo err >&2; echo end"
	want := strings.Repeat(line, lines) + "end\n"
	for _, mode := range []string{"handoff", "attach", "log-only"} {
		t.Run(mode, func(t *testing.T) {
			s := newSpec(t, "sh", "-c", script)
			s.Log = logfile.Config{Driver: logfile.DriverLocal}
			c := start(t, s)
			var stream io.Reader
			switch mode {
			case "handoff":
				conn, err := c.AttachHeld(context.Background(), false)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				ours, client := socketPair(t)
				defer client.Close()
				if err := conn.HandOff(ours); err != nil {
					t.Fatal(err)
				}
				ours.Close() // the shim has its own copy
				stream = client
			case "attach":
				conn, err := c.AttachConn(context.Background(), false)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				stream = conn
			}
			if err := c.Resume(context.Background()); err != nil {
				t.Fatal(err)
			}
			if stream != nil {
				raw, err := io.ReadAll(stream)
				if err != nil {
					t.Fatal(err)
				}
				got := streamsOf(t, raw)
				if got[1] != want || got[2] != "err\n" {
					t.Fatalf("attached stdout has %d bytes (want %d), stderr %q", len(got[1]), len(want), got[2])
				}
			}
			if exit, err := c.Wait(context.Background()); err != nil || exit.ExitCode != 0 {
				t.Fatalf("exit %+v %v", exit, err)
			}
			var stdout strings.Builder
			err := shimclient.ReadLogs(filepath.Join(s.Dir, "container.log"), shimclient.LogOptions{Stdout: true}, nil, func(r shimclient.LogRecord) error {
				if !utf8.ValidString(r.Text) {
					t.Errorf("a record of %d bytes is not whole characters: ...%q", len(r.Text), r.Text[max(0, len(r.Text)-8):])
				}
				stdout.WriteString(r.Text)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != want {
				t.Fatalf("the log's stdout has %d bytes, want %d", stdout.Len(), len(want))
			}
		})
	}
}
