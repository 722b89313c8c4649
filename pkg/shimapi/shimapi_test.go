package shimapi

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"testing"
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
