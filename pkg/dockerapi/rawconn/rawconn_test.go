package rawconn

import (
	"io"
	"net"
	"testing"
)

func TestFixHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nHost: \r\n\r\n", "GET / HTTP/1.1\r\nHost: docker\r\n\r\n"},
		{"POST /exec/1/start HTTP/1.1\r\nHost:\r\nContent-Length: 0\r\n\r\nstdin", "POST /exec/1/start HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\nstdin"},
		{"GET / HTTP/1.1\r\nHost: d\r\n\r\n", "GET / HTTP/1.1\r\nHost: d\r\n\r\n"},
		// Only the header block: what follows may be a container's input.
		{"GET / HTTP/1.1\r\nHost: d\r\n\r\n\r\nHost: \r\n", "GET / HTTP/1.1\r\nHost: d\r\n\r\n\r\nHost: \r\n"},
		{"GET / HTTP/1.1\r\nHost: \r\n", "GET / HTTP/1.1\r\nHost: \r\n"}, // no end of header yet
	} {
		if got := string(fixHost([]byte(tc.in))); got != tc.want {
			t.Errorf("fixHost(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A wrapped connection hands the fixed header, then the rest of the stream untouched.
func TestListenerConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := &hostFixConn{Conn: server}
	if Unwrap(c) != server || Unwrap(server) != server {
		t.Error("Unwrap does not give the socket")
	}
	go func() {
		client.Write([]byte("GET / HTTP/1.1\r\nHost: \r\n\r\n"))
		client.Write([]byte("rest"))
		client.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := "GET / HTTP/1.1\r\nHost: docker\r\n\r\nrest"; string(got) != want {
		t.Errorf("read %q, want %q", got, want)
	}
}

// A unix peer that closes entirely is a hangup.
func TestHangup(t *testing.T) {
	a, b, err := unixPair(t)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	left, stop := Hangup(a)
	defer stop()
	b.Close()
	<-left
}

func unixPair(t *testing.T) (net.Conn, net.Conn, error) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	b, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	return <-ch, b, nil
}
