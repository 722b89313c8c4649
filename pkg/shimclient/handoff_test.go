package shimclient_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// streamsOf splits a raw attach stream into what each stream carried.
func streamsOf(t *testing.T, raw []byte) map[byte]string {
	t.Helper()
	got := map[byte]string{}
	for len(raw) > 0 {
		if len(raw) < 8 {
			t.Fatalf("a partial frame header at the end: %q", raw)
		}
		n := int(raw[4])<<24 | int(raw[5])<<16 | int(raw[6])<<8 | int(raw[7])
		if len(raw) < 8+n {
			t.Fatalf("a frame of %d bytes with %d left", n, len(raw)-8)
		}
		got[raw[0]] += string(raw[8 : 8+n])
		raw = raw[8+n:]
	}
	return got
}

// socketPair is a connected pair of unix stream sockets: the "client's connection" a
// daemon hands over, and the client's end of it.
func socketPair(t *testing.T) (daemonSide *net.UnixConn, client *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// A held attachment handed the client's connection: the shim writes all of each stream
// there, in order, and ends its own connection once the output has, leaving the client's
// open for the daemon's last word. The log has everything too.
func TestAttachHeldHandOff(t *testing.T) {
	s := newSpec(t, "sh", "-c", "echo one; echo two >&2; seq 1 20000; echo three")
	c := start(t, s)
	conn, err := c.AttachHeld(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !conn.Held {
		t.Fatal("the shim did not hold the attachment")
	}
	ours, client := socketPair(t)
	defer client.Close()
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := conn.HandOff(ours); err != nil {
		t.Fatal(err)
	}
	// Nothing comes through the daemon's connection; it ends with the output.
	if rest, err := io.ReadAll(conn); err != nil || len(rest) != 0 {
		t.Fatalf("the daemon's connection carried %q (%v)", rest, err)
	}
	if exit, err := c.Wait(context.Background()); err != nil || exit.ExitCode != 0 {
		t.Fatalf("exit %+v %v", exit, err)
	}
	// The daemon's last word goes after the shim's frames, on the same connection.
	if _, err := ours.Write([]byte("end")); err != nil {
		t.Fatal(err)
	}
	ours.Close()
	raw, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("end")) {
		t.Fatalf("the stream does not end with the daemon's word: ...%q", raw[max(0, len(raw)-40):])
	}
	var seq bytes.Buffer
	for i := 1; i <= 20000; i++ {
		seq.WriteString(strconv.Itoa(i) + "\n")
	}
	got := streamsOf(t, raw[:len(raw)-3])
	if got[1] != "one\n"+seq.String()+"three\n" || got[2] != "two\n" || len(got) != 2 {
		t.Fatalf("streams %.200q", got)
	}
	if l := logs(t, s.Dir); l["stdout"] != "one\n"+seq.String()+"three\n" || l["stderr"] != "two\n" {
		t.Fatalf("log %.100q...", l)
	}
}

// A held attachment the daemon reads without handing over is relayed as usual, stdin too.
func TestAttachHeldRelay(t *testing.T) {
	s := newSpec(t, "sh", "-c", "read l; echo got $l; echo err >&2")
	s.Process.Stdin = true
	c := start(t, s)
	conn, err := c.AttachHeld(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if got := streamsOf(t, raw); got[1] != "got hello\n" || got[2] != "err\n" || len(got) != 2 {
		t.Fatalf("streams %q", got)
	}
}
