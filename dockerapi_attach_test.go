package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// dockerAttachList checks, with Docker's Go client, what attach and the container list
// do beyond the common path: the stdout/stderr selection (of attach and of exec), logs=1 with stream=1, an
// attachment whose client leaves before the start, every network of a container in the
// list, and ports listed only while a container runs.
func dockerAttachList(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: docker-attach-list")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(client.WithHost(ts.Getenv("DOCKER_HOST")))
	ts.Check(err)
	defer c.Close()
	check := func(ok bool, format string, a ...any) {
		if !ok {
			ts.Fatalf(format, a...)
		}
	}
	create := func(cfg *container.Config, hc *container.HostConfig) string {
		cfg.Image = "busybox"
		cr, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc})
		ts.Check(err)
		return cr.ID
	}
	remove := func(id string) {
		_, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
		ts.Check(err)
	}
	start := func(id string) {
		_, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{})
		ts.Check(err)
	}

	// Only the streams asked for reach the client.
	for _, sel := range []struct {
		stdout, stderr bool
		out, err       string
	}{{true, false, "out\n", ""}, {false, true, "", "err\n"}} {
		id := create(&container.Config{Cmd: []string{"sh", "-c", "echo out; echo err >&2"}}, nil)
		att, err := c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdout: sel.stdout, Stderr: sel.stderr})
		ts.Check(err)
		start(id)
		var stdout, stderr bytes.Buffer
		_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
		ts.Check(err)
		att.Close()
		check(stdout.String() == sel.out && stderr.String() == sel.err, "attach stdout=%v stderr=%v: got %q and %q",
			sel.stdout, sel.stderr, stdout.String(), stderr.String())
		remove(id)
	}

	// An exec streams only what its create attached (AttachStdout, AttachStderr); with a
	// tty there is one stream, stdout. What is left out the process still writes freely.
	id := create(&container.Config{Cmd: []string{"sleep", "1000"}}, nil)
	start(id)
	for _, sel := range []struct {
		stdout, stderr, tty bool
		out, err            string
	}{{true, false, false, "out\n", ""}, {false, true, false, "", "err\n"}, {false, false, false, "", ""},
		{false, true, true, "", ""}, {true, false, true, "out\r\nerr\r\n", ""}} {
		ex, err := c.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 4"},
			AttachStdout: sel.stdout, AttachStderr: sel.stderr, TTY: sel.tty})
		ts.Check(err)
		ea, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: sel.tty})
		ts.Check(err)
		var stdout, stderr bytes.Buffer
		if sel.tty {
			_, err = io.Copy(&stdout, ea.Reader)
		} else {
			_, err = stdcopy.StdCopy(&stdout, &stderr, ea.Reader)
		}
		ts.Check(err)
		ea.Close()
		check(stdout.String() == sel.out && stderr.String() == sel.err, "exec AttachStdout=%v AttachStderr=%v Tty=%v: got %q and %q",
			sel.stdout, sel.stderr, sel.tty, stdout.String(), stderr.String())
		ei, err := c.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		ts.Check(err)
		check(!ei.Running && ei.ExitCode == 4, "exec inspect after the stream: %+v", ei)
	}
	remove(id)

	// logs=1 with stream=1: what was printed before the attach, then what follows.
	id = create(&container.Config{Cmd: []string{"sh", "-c", "echo first; read x; echo \"second $x\""}, OpenStdin: true}, nil)
	start(id)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		lr, err := c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true})
		ts.Check(err)
		b, _ := io.ReadAll(lr)
		lr.Close()
		if bytes.Contains(b, []byte("first")) {
			break
		}
		check(time.Now().Before(deadline), "the container never printed its first line")
	}
	att, err := c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Logs: true, Stdin: true, Stdout: true, Stderr: true})
	ts.Check(err)
	_, err = att.Conn.Write([]byte("go\n"))
	ts.Check(err)
	ts.Check(att.CloseWrite())
	var out bytes.Buffer
	_, err = stdcopy.StdCopy(&out, io.Discard, att.Reader)
	ts.Check(err)
	att.Close()
	check(out.String() == "first\nsecond go\n", "attach with logs=1&stream=1: %q", out.String())
	remove(id)

	// Before the start: a client that half-closes (the docker CLI does, with no input to
	// send) stays attached and gets the output; one that leaves takes its attachment
	// with it, and the daemon closes its end without waiting for a start.
	id = create(&container.Config{Cmd: []string{"echo", "later"}}, nil)
	sock := strings.TrimPrefix(ts.Getenv("DOCKER_HOST"), "unix://")
	rawAttach := func() *net.UnixConn {
		conn, err := net.Dial("unix", sock)
		ts.Check(err)
		fmt.Fprintf(conn, "POST /v1.41/containers/%s/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", id)
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		// The answer's headers, byte by byte: what follows is the stream.
		var head []byte
		for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
			var b [1]byte
			_, err := conn.Read(b[:])
			ts.Check(err)
			head = append(head, b[0])
		}
		check(bytes.HasPrefix(head, []byte("HTTP/1.1 101")), "attach: %q", head)
		return conn.(*net.UnixConn)
	}
	stays := rawAttach()
	defer stays.Close()
	ts.Check(stays.CloseWrite())
	leaves := rawAttach()
	fi, err := os.Stat(fmt.Sprintf("/proc/self/fd/%d", fdOf(ts, leaves)))
	ts.Check(err)
	ino := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	// The daemon's end is the socket whose peer is this one ("ss -x": ... local-inode
	// peer-address peer-inode); once the client closes, the peer shows as 0, so the
	// daemon's end is followed by its own inode.
	sockets := func() [][]string {
		out, err := exec.Command("ss", "-xnH").Output()
		ts.Check(err)
		var rows [][]string
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 4 {
				rows = append(rows, f)
			}
		}
		return rows
	}
	daemonIno := ""
	for _, f := range sockets() {
		if f[len(f)-1] == ino {
			daemonIno = f[len(f)-3]
		}
	}
	check(daemonIno != "", "no daemon end found for the attachment's socket %s", ino)
	leaves.Close()
	daemonEnd := func() bool {
		for _, f := range sockets() {
			if f[len(f)-3] == daemonIno {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(time.Minute); daemonEnd(); time.Sleep(20 * time.Millisecond) {
		check(time.Now().Before(deadline), "the attachment of a client that left stays until the start")
	}
	start(id)
	out.Reset()
	_, err = stdcopy.StdCopy(&out, io.Discard, stays)
	ts.Check(err)
	check(out.String() == "later\n", "a half-closed attachment got %q", out.String())
	remove(id)

	// The list shows every network of a container, and its ports only while it runs:
	// each published binding and each exposed port without one.
	_, err = c.NetworkCreate(ctx, "listnet", client.NetworkCreateOptions{Driver: "bridge"})
	ts.Check(err)
	id = create(&container.Config{Cmd: []string{"sleep", "1000"}, ExposedPorts: network.PortSet{
		network.MustParsePort("80/tcp"): {}, network.MustParsePort("90/tcp"): {}}},
		&container.HostConfig{PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}})
	start(id)
	_, err = c.NetworkConnect(ctx, "listnet", client.NetworkConnectOptions{Container: id})
	ts.Check(err)
	listed := func() container.Summary {
		l, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("id", id)})
		ts.Check(err)
		check(len(l.Items) == 1, "list by id: %+v", l.Items)
		return l.Items[0]
	}
	s := listed()
	var nets []string
	for name, ep := range s.NetworkSettings.Networks {
		check(ep.IPAddress.IsValid(), "network %s without an address in the list", name)
		nets = append(nets, name)
	}
	check(len(nets) == 2 && s.NetworkSettings.Networks["bridge"] != nil && s.NetworkSettings.Networks["listnet"] != nil,
		"list networks: %v", nets)
	byNet, err := c.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("network", "listnet")})
	ts.Check(err)
	check(len(byNet.Items) == 1 && byNet.Items[0].ID == id, "list filtered by a second network: %+v", byNet.Items)
	var ports []string
	for _, p := range s.Ports {
		switch {
		case p.PrivatePort == 80 && p.PublicPort > 0 && p.IP.String() == "127.0.0.1":
			ports = append(ports, "80 published")
		case p.PrivatePort == 90 && p.PublicPort == 0:
			ports = append(ports, "90 exposed")
		default:
			ports = append(ports, "unexpected")
		}
	}
	check(strings.Join(ports, ",") == "80 published,90 exposed" || strings.Join(ports, ",") == "90 exposed,80 published",
		"ports of a running container: %+v", s.Ports)
	_, err = c.ContainerStop(ctx, id, client.ContainerStopOptions{})
	ts.Check(err)
	s = listed()
	check(s.State == container.StateExited && len(s.Ports) == 0, "ports of a stopped container: %s %+v", s.State, s.Ports)
	remove(id)
	_, err = c.NetworkRemove(ctx, "listnet", client.NetworkRemoveOptions{})
	ts.Check(err)
	ts.Logf("attach and list: ok")
}

func fdOf(ts *testscript.TestScript, c *net.UnixConn) int {
	rc, err := c.SyscallConn()
	ts.Check(err)
	fd := -1
	ts.Check(rc.Control(func(f uintptr) { fd = int(f) }))
	return fd
}
