package shimapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFrames(t *testing.T) {
	var b bytes.Buffer
	WriteFrame(&b, Stdout, []byte("out"))
	WriteFrame(&b, Stderr, []byte("error!"))
	if got := b.Bytes()[:8]; !bytes.Equal(got, []byte{1, 0, 0, 0, 0, 0, 0, 3}) {
		t.Errorf("header %v", got)
	}
	var buf []byte
	for _, want := range []struct {
		s byte
		p string
	}{{Stdout, "out"}, {Stderr, "error!"}} {
		s, p, err := ReadFrame(&b, buf)
		if err != nil || s != want.s || string(p) != want.p {
			t.Errorf("ReadFrame = %d %q %v", s, p, err)
		}
	}
	if _, _, err := ReadFrame(&b, buf); err == nil {
		t.Errorf("ReadFrame past the end: no error")
	}
}

func TestLogLine(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	line := AppendLogLine(nil, &LogRecord{Time: ts, Stream: "stderr", Text: "a\"<b>\xff\n"})
	want := `{"time":"2026-01-02T03:04:05.000000006Z","stream":"stderr","text":"a\"<b>\ufffd\n"}` + "\n"
	if string(line) != want {
		t.Errorf("line %s, want %s", line, want)
	}
	var r LogRecord
	if err := json.Unmarshal(line, &r); err != nil || r.Text != "a\"<b>\uFFFD\n" || !r.Time.Equal(ts) {
		t.Errorf("round trip %+v %v", r, err)
	}
	// Whatever the bytes, the line decodes to what encoding/json makes of them.
	for _, text := range []string{"", "plain", "tab\tcr\rnul\x00esc\x1b\x7f", "\\\"", "é€😀", "\xe2\x82", "\xc0\xaf", "ls\u2028ps\u2029", "\xed\xa0\x80"} {
		var got LogRecord
		if err := json.Unmarshal(AppendLogLine(nil, &LogRecord{Time: ts, Stream: "stdout", Text: text}), &got); err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		ref, _ := json.Marshal(text)
		var want string
		json.Unmarshal(ref, &want)
		if got.Text != want {
			t.Errorf("%q decodes to %q, encoding/json's %q", text, got.Text, want)
		}
	}
}

func TestSplitUTF8(t *testing.T) {
	euro := "€" // e2 82 ac
	for in, want := range map[string]int{
		"abc":                              3,
		"ab" + euro:                        5,
		"ab" + euro[:1]:                    2,
		"ab" + euro[:2]:                    2,
		"\xff\xff":                         2, // invalid bytes are not waited for
		"":                                 0,
		strings.Repeat("x", 10) + euro[:2]: 10,
	} {
		if got := SplitUTF8([]byte(in)); got != want {
			t.Errorf("SplitUTF8(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestExitRecord(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadExit(dir); !os.IsNotExist(err) {
		t.Errorf("ReadExit of nothing: %v", err)
	}
	e := &Exit{ExitCode: 137, Signal: 9, OOMKilled: true, FinishedAt: time.Unix(5, 0).UTC()}
	done, err := WriteExit(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	done(true)
	b, _ := os.ReadFile(dir + "/" + ExitName)
	if string(b) != `{"exit_code":137,"signal":9,"oom_killed":true,"finished_at":"1970-01-01T00:00:05Z"}` {
		t.Errorf("exit.json %s", b)
	}
	got, err := ReadExit(dir)
	if err != nil || *got != *e {
		t.Errorf("ReadExit = %+v %v", got, err)
	}
}

// TestWaitReaped: the exit comes first, then the word that init is reaped; a shim that closes
// without it (gone, or older) leaves the caller unsure.
func TestWaitReaped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		second string // written after the exit line, then the connection closes
		want   bool
	}{{"reaped", `{"reaped":true}` + "\n", true}, {"closed", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "s.sock")
			ln, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			hold := make(chan struct{})
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				var req Request
				NewConn(c.(*net.UnixConn)).ReadJSON(&req)
				c.Write([]byte(`{"exit":{"exit_code":3}}` + "\n"))
				<-hold
				c.Write([]byte(tc.second))
			}()
			// The exit is returned while the shim still holds the connection open.
			ex, reaped, err := Wait(context.Background(), sock)
			if err != nil || ex.ExitCode != 3 {
				t.Fatalf("Wait = %+v, %v; want exit 3", ex, err)
			}
			close(hold)
			if got := <-reaped; got != tc.want {
				t.Errorf("reaped = %v, want %v", got, tc.want)
			}
		})
	}
}
