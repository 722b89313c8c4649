package logfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func collect(t *testing.T, path string, opts Options, ended func() bool, done <-chan struct{}) string {
	t.Helper()
	if ended == nil {
		ended = func() bool { return true }
	}
	var b strings.Builder
	err := Read(path, opts, ended, done, func(r Record) error {
		b.WriteString(r.Stream[:3] + ":" + r.Text)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return b.String()
}

func TestLocalRoundTripAndTail(t *testing.T) {
	for _, driver := range []string{DriverLocal, DriverJSON} {
		t.Run(driver, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "container.log")
			w, err := Open(path, Config{Driver: driver})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(Stdout, []byte("o1\no2\n"))
			w.Write(Stderr, []byte("e1\n"))
			w.Write(Stdout, []byte("o3\x00\xff\n"))
			w.Close()
			got := collect(t, path, Options{}, nil, nil)
			want := "std:o1\no2\nstd:e1\nstd:o3\x00\xff\n"
			if driver == DriverJSON {
				want = "std:o1\no2\nstd:e1\nstd:o3\x00\ufffd\n" // JSON keeps text, not bytes
			}
			if got != want {
				t.Errorf("all = %q, want %q", got, want)
			}
			if got := collect(t, path, Options{Stderr: true}, nil, nil); got != "std:e1\n" {
				t.Errorf("stderr = %q", got)
			}
			if got := collect(t, path, Options{Tail: 3}, nil, nil); !strings.HasPrefix(got, "std:o2\nstd:e1\n") {
				t.Errorf("tail 3 = %q", got)
			}
		})
	}
}

// TestRotation: files shift, the oldest go, and a read (and a tail) spans the files kept.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, err := Open(path, Config{Driver: DriverLocal, MaxSize: 100, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		w.Write(Stdout, []byte("line "+strconv.Itoa(i)+" "+strings.Repeat("x", 30)+"\n")) // 58 bytes a record
	}
	w.Close()
	if w.Err() != nil {
		t.Fatal(w.Err())
	}
	for _, name := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(name)
		if err != nil || st.Size() > 100 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Fatal("max-file 3 kept a fourth file")
	}
	got := collect(t, path, Options{}, nil, nil)
	if strings.Count(got, "\n") != 3 || !strings.Contains(got, "line 17 ") || !strings.HasSuffix(got, "line 19 "+strings.Repeat("x", 30)+"\n") {
		t.Errorf("read = %q", got)
	}
	if got := collect(t, path, Options{Tail: 2}, nil, nil); !strings.HasPrefix(got, "std:line 18") {
		t.Errorf("tail 2 = %q", got)
	}
}

// TestFollowAcrossRotation: a follower reading the file being rotated away sees every
// record once, in order.
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	// Enough files that none is deleted before a slow follower reaches it: dropping the
	// oldest file is rotation working, not a follower losing records.
	w, err := Open(path, Config{Driver: DriverLocal, MaxSize: 200, MaxFiles: 40})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Stdout, []byte("first\n"))
	ended := make(chan struct{})
	isEnded := func() bool {
		select {
		case <-ended:
			return true
		default:
			return false
		}
	}
	result := make(chan string)
	first := make(chan struct{})
	go func() {
		var b strings.Builder
		Read(path, Options{Follow: true}, isEnded, nil, func(r Record) error {
			if r.Text == "first\n" {
				close(first)
			}
			b.WriteString(r.Text)
			return nil
		})
		result <- b.String()
	}()
	<-first // the follower holds the first file
	var want strings.Builder
	want.WriteString("first\n")
	for i := 0; i < 30; i++ {
		line := "n" + strconv.Itoa(i) + strings.Repeat(".", 40) + "\n"
		w.Write(Stdout, []byte(line))
		want.WriteString(line)
	}
	w.Close()
	close(ended)
	// Wake the follower: the end is seen on its next look at the directory.
	os.WriteFile(filepath.Join(filepath.Dir(path), "exit.json"), []byte("{}"), 0o600)
	if got := <-result; got != want.String() {
		t.Errorf("followed:\n%q\nwant\n%q", got, want.String())
	}
}

// TestCutRecord: a record still being written is not read until it is whole.
func TestCutRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, _ := Open(path, Config{Driver: DriverLocal})
	w.Write(Stdout, []byte("whole\n"))
	w.Write(Stdout, []byte("cut\n"))
	w.Close()
	st, _ := os.Stat(path)
	os.Truncate(path, st.Size()-3)
	if got := collect(t, path, Options{}, nil, nil); got != "std:whole\n" {
		t.Errorf("read = %q", got)
	}
	if got := collect(t, path, Options{Tail: 1}, nil, nil); got != "std:whole\n" {
		t.Errorf("tail = %q", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"10m": 10 << 20, "1k": 1024, "2g": 2 << 30, "500": 500, "10MB": 10 << 20, "3KiB": 3072} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "m", "-1m", "ten", "1.5m"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
