package logfile

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestLogLine(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	line := AppendJSONLine(nil, &Record{Time: ts, Stream: "stderr", Text: "a\"<b>\xff\n"})
	want := `{"time":"2026-01-02T03:04:05.000000006Z","stream":"stderr","text":"a\"<b>\ufffd\n"}` + "\n"
	if string(line) != want {
		t.Errorf("line %s, want %s", line, want)
	}
	var r Record
	if err := json.Unmarshal(line, &r); err != nil || r.Text != "a\"<b>\uFFFD\n" || !r.Time.Equal(ts) {
		t.Errorf("round trip %+v %v", r, err)
	}
	// Whatever the bytes, the line decodes to what encoding/json makes of them.
	for _, text := range []string{"", "plain", "tab\tcr\rnul\x00esc\x1b\x7f", "\\\"", "é€😀", "\xe2\x82", "\xc0\xaf", "ls\u2028ps\u2029", "\xed\xa0\x80"} {
		var got Record
		if err := json.Unmarshal(AppendJSONLine(nil, &Record{Time: ts, Stream: "stdout", Text: text}), &got); err != nil {
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
