package shimclient

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/shimfiles"
)

func writeLog(t *testing.T, dir string, recs ...LogRecord) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, shimfiles.LogName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range recs {
		f.Write(logfile.AppendJSONLine(nil, &recs[i]))
	}
}

func collect(t *testing.T, dir string, opts LogOptions, done <-chan struct{}) string {
	t.Helper()
	var b strings.Builder
	err := ReadLogs(filepath.Join(dir, shimfiles.LogName), opts, done, func(r LogRecord) error {
		b.WriteString(r.Stream[3:4] + r.Text) // "o" or "e"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReadLogsSelect(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []LogRecord
	for i := range 2000 { // several 64 KiB blocks for tail's backward scan
		stream := "stdout"
		if i%3 == 0 {
			stream = "stderr"
		}
		recs = append(recs, LogRecord{Time: t0.Add(time.Duration(i) * time.Second), Stream: stream, Text: strings.Repeat("x", 40) + "\n"})
	}
	recs[1998].Text, recs[1999].Text = "a\n", "b\n"
	writeLog(t, dir, recs...)
	if got := collect(t, dir, LogOptions{Tail: 2}, nil); got != "ea\nob\n" {
		t.Errorf("tail 2: %q", got)
	}
	if got := collect(t, dir, LogOptions{Tail: 1, Stdout: true}, nil); got != "ob\n" {
		t.Errorf("tail 1 stdout: %q", got)
	}
	if got := collect(t, dir, LogOptions{Tail: 5000}, nil); strings.Count(got, "\n") != 2000 {
		t.Errorf("tail beyond the start: %d lines", strings.Count(got, "\n"))
	}
	got := collect(t, dir, LogOptions{Since: t0.Add(1997 * time.Second), Until: t0.Add(1998 * time.Second)}, nil)
	if got != "o"+strings.Repeat("x", 40)+"\nea\n" {
		t.Errorf("since/until: %q", got)
	}
	if got := collect(t, dir, LogOptions{Stderr: true, Since: t0.Add(1990 * time.Second)}, nil); strings.Count(got, "e") != 3 {
		t.Errorf("stderr since: %q", got)
	}
}

// A record is one read of the output: tail counts the lines inside records, and a line may
// span two records.
func TestReadLogsTailCountsLines(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeLog(t, dir,
		LogRecord{Time: t0, Stream: "stdout", Text: "l1\nl2\nl3\n"},
		LogRecord{Time: t0, Stream: "stdout", Text: "l4\nl5"},
		LogRecord{Time: t0, Stream: "stdout", Text: " end\n"})
	for n, want := range map[int]string{
		1:  "ol5o end\n",
		2:  "ol4\nl5o end\n",
		3:  "ol3\nol4\nl5o end\n",
		5:  "ol1\nl2\nl3\nol4\nl5o end\n",
		50: "ol1\nl2\nl3\nol4\nl5o end\n",
	} {
		if got := collect(t, dir, LogOptions{Tail: n}, nil); got != want {
			t.Errorf("tail %d: %q, want %q", n, got, want)
		}
	}
	// A big chunk: the last two of many lines in one record.
	dir = t.TempDir()
	var big strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&big, "%d\n", i)
	}
	writeLog(t, dir, LogRecord{Time: t0, Stream: "stdout", Text: big.String()})
	if got := collect(t, dir, LogOptions{Tail: 2}, nil); got != "o4998\n4999\n" {
		t.Errorf("tail 2 of one big record: %q", got)
	}
}

func TestReadLogsFollow(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	writeLog(t, dir, LogRecord{Time: now, Stream: "stdout", Text: "one\n"})
	result := make(chan string)
	go func() { result <- collect(t, dir, LogOptions{Follow: true}, nil) }()
	writeLog(t, dir, LogRecord{Time: now, Stream: "stderr", Text: "two\n"})
	// A half-written line is held until its end arrives.
	f, _ := os.OpenFile(filepath.Join(dir, shimfiles.LogName), os.O_WRONLY|os.O_APPEND, 0)
	line := logfile.AppendJSONLine(nil, &LogRecord{Time: now, Stream: "stdout", Text: "three\n"})
	f.Write(line[:10])
	time.Sleep(20 * time.Millisecond)
	f.Write(line[10:])
	f.Close()
	// The container ends: exit.json appears; follow drains and returns.
	closeExit, err := shimfiles.WriteExit(dir, &shimapi.Exit{})
	if err != nil {
		t.Fatal(err)
	}
	closeExit(true)
	select {
	case got := <-result:
		if got != "oone\netwo\nothree\n" {
			t.Errorf("follow: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end after exit.json appeared")
	}
	// done ends a follow of a live container too.
	os.Remove(filepath.Join(dir, shimfiles.ExitName))
	done := make(chan struct{})
	go func() { result <- collect(t, dir, LogOptions{Follow: true, Tail: 1}, done) }()
	time.Sleep(20 * time.Millisecond)
	close(done)
	select {
	case got := <-result:
		if got != "othree\n" {
			t.Errorf("follow tail 1: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end when done closed")
	}
}
