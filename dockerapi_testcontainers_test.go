package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// tcOnce guards the process environment Testcontainers reads (once per process): one
// script uses it.
var tcOnce sync.Once

// testcontainersGo drives miniboxd's Docker API ($DOCKER_HOST) with Testcontainers for
// Go, its reaper off: a busybox container (already in the daemon: Testcontainers pulls
// only what an image inspect does not find) serving HTTP on a published port, waited for
// by a log line and by the port listening, read through the mapped port, terminated.
func testcontainersGo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: testcontainers-go")
	}
	tcOnce.Do(func() {
		os.Setenv("DOCKER_HOST", ts.Getenv("DOCKER_HOST"))
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	})
	if os.Getenv("DOCKER_HOST") != ts.Getenv("DOCKER_HOST") {
		ts.Fatalf("testcontainers-go: one daemon per test process (Testcontainers caches its host)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctr, err := testcontainers.Run(ctx, "busybox",
		testcontainers.WithExposedPorts("8080/tcp"),
		testcontainers.WithLabels(map[string]string{"suite": "testcontainers"}),
		testcontainers.WithCmd("sh", "-c", "mkdir /www && echo 'hello from tc' > /www/index.html && echo 'serving now' && exec httpd -f -p 8080 -h /www"),
		testcontainers.WithWaitStrategy(
			wait.ForLog("serving now").WithStartupTimeout(time.Minute),
			wait.ForListeningPort("8080/tcp").WithStartupTimeout(time.Minute)),
	)
	terminated := false
	defer func() {
		if ctr != nil && !terminated { // a failure below: the container goes all the same
			ctr.Terminate(context.Background())
		}
	}()
	ts.Check(err)
	ep, err := ctr.PortEndpoint(ctx, "8080/tcp", "http")
	ts.Check(err)
	mapped, err := ctr.MappedPort(ctx, "8080/tcp")
	ts.Check(err)
	// The endpoint Testcontainers chose (the bridge's gateway when it finds itself in a
	// container, else localhost), and the loopback address a host test dials.
	for _, url := range []string{ep, "http://127.0.0.1:" + mapped.Port()} {
		resp, err := http.Get(url + "/index.html")
		ts.Check(err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "hello from tc" {
			ts.Fatalf("GET %s/index.html: %d %q", url, resp.StatusCode, body)
		}
	}
	logs, err := ctr.Logs(ctx)
	ts.Check(err)
	out, _ := io.ReadAll(logs)
	logs.Close()
	if !strings.Contains(string(out), "serving now") {
		ts.Fatalf("logs: %q", out)
	}
	id := ctr.GetContainerID()
	terminated = true
	ts.Check(ctr.Terminate(ctx))
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	ts.Check(err)
	defer cli.Close()
	if _, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil {
		ts.Fatalf("container %s still there after Terminate", id)
	}
	fmt.Fprintf(ts.Stdout(), "testcontainers: ok (served on %s)\n", ep)
}
