package peerwatch

import (
	"context"
	"net"
	"testing"
	"time"
)

// Watch notices a client that closed its connection.
func TestWatch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan struct{})
	stop := Watch(ctx, server, func() { close(gone) })
	defer func() { cancel(); stop() }()
	client.Close()
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Fatal("a closed client was not noticed")
	}
}
