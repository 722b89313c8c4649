package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
)

// BenchmarkAttachDetach is the time networking adds to a bridged container's start and
// removal: veth pair, address, routes, (with ports) holds and DNAT rules, then all removed.
func BenchmarkAttachDetach(b *testing.B) {
	for _, ports := range []int{0, 1} {
		b.Run(fmt.Sprintf("ports=%d", ports), func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			if err := e.m.EnsureBridge(ctx); err != nil {
				b.Fatal(err)
			}
			ep := Endpoint{Addr: netip.MustParseAddr("172.19.0.2")}
			for b.Loop() {
				// A new container each time, as for real: a new namespace and id (so no
				// waiting for the last one's veth, which the kernel is still removing).
				b.StopTimer()
				c := newNS(b, "c")
				ep.ID, ep.PID = randID(), c.tid
				b.StartTimer()
				ep.Ports = nil
				if ports > 0 {
					ep.Ports = []Port{{ContainerPort: 80, Proto: "tcp"}}
				}
				if err := e.m.Attach(ctx, &ep); err != nil {
					b.Fatal(err)
				}
				if err := e.m.Detach(ctx, ep.ID); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkAttach alone: what `run` waits for before the workload starts.
func BenchmarkAttach(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	if err := e.m.EnsureBridge(ctx); err != nil {
		b.Fatal(err)
	}
	ep := Endpoint{Addr: netip.MustParseAddr("172.19.0.2")}
	for b.Loop() {
		b.StopTimer()
		c := newNS(b, "c")
		ep.ID, ep.PID = randID(), c.tid
		b.StartTimer()
		if err := e.m.Attach(ctx, &ep); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := e.m.Detach(ctx, ep.ID); err != nil {
			b.Fatal(err)
		}
		c.close()
		b.StartTimer()
	}
}

// BenchmarkThroughput sends TCP data from the host to a container through a published port
// (127.0.0.1, DNAT + masquerade), from the external host through it, and straight to the
// container's address.
func BenchmarkThroughput(b *testing.B) {
	e := newEnv(b)
	c := newNS(b, "c")
	var ln net.Listener
	var err error
	c.do(func() { ln, err = net.Listen("tcp4", ":81") })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	ep := Endpoint{ID: randID(), PID: c.tid, Addr: netip.MustParseAddr("172.19.0.2"),
		Ports: []Port{{HostPort: 8081, ContainerPort: 81, Proto: "tcp"}}}
	if err := e.m.Attach(context.Background(), &ep); err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 128<<10)
	for _, tc := range []struct {
		name string
		from *nsThread
		addr string
	}{
		{"published-loopback", e.host, "127.0.0.1:8081"},
		{"published-external", e.ext, e.hostIP.String() + ":8081"},
		{"direct", e.host, "172.19.0.2:81"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var conn net.Conn
			var err error
			tc.from.do(func() { conn, err = net.Dial("tcp4", tc.addr) })
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			b.SetBytes(int64(len(chunk)))
			for b.Loop() {
				if _, err := conn.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
