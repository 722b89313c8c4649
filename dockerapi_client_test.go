package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// dockerGoClient drives miniboxd's Docker API ($DOCKER_HOST) with Docker's own Go client:
// the calls an SDK user makes, each result checked.
func dockerGoClient(ts *testscript.TestScript, neg bool, args []string) {
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

	ping, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	ts.Check(err)
	check(ping.APIVersion == "1.57" && ping.OSType == "linux", "ping: %+v", ping)
	imgs, err := c.ImageList(ctx, client.ImageListOptions{})
	ts.Check(err)
	found := false
	for _, im := range imgs.Items {
		for _, t := range im.RepoTags {
			found = found || t == "busybox:latest"
		}
	}
	check(found, "image list has no busybox:latest: %+v", imgs.Items)

	// Tagging: the client parses and normalises both names itself (distribution/reference,
	// which third_party/reference stands in for) before it sends repo and tag.
	_, err = c.ImageTag(ctx, client.ImageTagOptions{Source: "busybox", Target: "localhost:5000/team/bb"})
	ts.Check(err)
	tagged, err := c.ImageInspect(ctx, "localhost:5000/team/bb:latest")
	ts.Check(err)
	check(slices.Contains(tagged.RepoTags, "localhost:5000/team/bb:latest"), "tagged image: %+v", tagged.RepoTags)
	_, err = c.ImageTag(ctx, client.ImageTagOptions{Source: "busybox", Target: "BusyBox:x"})
	check(err != nil && strings.Contains(err.Error(), "repository name (library/BusyBox) must be lowercase"), "uppercase tag target: %v", err)
	_, err = c.ImageTag(ctx, client.ImageTagOptions{Source: "busybox", Target: "bb@sha256:" + strings.Repeat("ab", 32)})
	check(err != nil && strings.Contains(err.Error(), "refusing to create a tag with a digest reference"), "digest tag target: %v", err)
	_, err = c.ImageRemove(ctx, "localhost:5000/team/bb:latest", client.ImageRemoveOptions{})
	ts.Check(err)

	// Create, attach before the start, wait, start: output apart, the exit code.
	cr, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "goclient",
		Config: &container.Config{Image: "busybox", Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 7"},
			Labels: map[string]string{"suite": "goclient"}, Env: []string{"A=1"}}})
	ts.Check(err)
	att, err := c.ContainerAttach(ctx, cr.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	ts.Check(err)
	wait := c.ContainerWait(ctx, cr.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	_, err = c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{})
	ts.Check(err)
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	ts.Check(err)
	att.Close()
	check(stdout.String() == "out\n" && stderr.String() == "err\n", "attach: stdout %q stderr %q", stdout.String(), stderr.String())
	select {
	case res := <-wait.Result:
		check(res.StatusCode == 7, "wait: status %d", res.StatusCode)
	case err := <-wait.Error:
		ts.Fatalf("wait: %v", err)
	}

	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", "suite=goclient")})
	ts.Check(err)
	check(len(list.Items) == 1 && list.Items[0].State == container.StateExited && list.Items[0].Names[0] == "/goclient",
		"list with a label filter: %+v", list.Items)
	in, err := c.ContainerInspect(ctx, "goclient", client.ContainerInspectOptions{})
	ts.Check(err)
	check(in.Container.State.ExitCode == 7 && in.Container.Config.Labels["suite"] == "goclient", "inspect: %+v", in.Container.State)
	logs, err := c.ContainerLogs(ctx, cr.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	ts.Check(err)
	stdout.Reset()
	stderr.Reset()
	_, err = stdcopy.StdCopy(&stdout, &stderr, logs)
	ts.Check(err)
	logs.Close()
	check(stdout.String() == "out\n" && stderr.String() == "err\n", "logs: stdout %q stderr %q", stdout.String(), stderr.String())
	_, err = c.ContainerRemove(ctx, cr.ID, client.ContainerRemoveOptions{})
	ts.Check(err)

	// A running container: exec with its exit code, archives both ways, stats.
	cr, err = c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: "busybox", Cmd: []string{"sleep", "1000"}}})
	ts.Check(err)
	_, err = c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{})
	ts.Check(err)
	ex, err := c.ExecCreate(ctx, cr.ID, client.ExecCreateOptions{Cmd: []string{"sh", "-c", "echo in-exec; exit 3"}, AttachStdout: true, AttachStderr: true})
	ts.Check(err)
	ea, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	ts.Check(err)
	stdout.Reset()
	_, err = stdcopy.StdCopy(&stdout, io.Discard, ea.Reader)
	ts.Check(err)
	ea.Close()
	check(stdout.String() == "in-exec\n", "exec output %q", stdout.String())
	ei, err := c.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	ts.Check(err)
	check(!ei.Running && ei.ExitCode == 3, "exec inspect: %+v", ei)

	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "sent.txt", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello"))
	tw.Close()
	_, err = c.CopyToContainer(ctx, cr.ID, client.CopyToContainerOptions{DestinationPath: "/tmp", Content: &tb})
	ts.Check(err)
	cp, err := c.CopyFromContainer(ctx, cr.ID, client.CopyFromContainerOptions{SourcePath: "/tmp/sent.txt"})
	ts.Check(err)
	tr := tar.NewReader(cp.Content)
	h, err := tr.Next()
	ts.Check(err)
	body, _ := io.ReadAll(tr)
	cp.Content.Close()
	check(h.Name == "sent.txt" && string(body) == "hello" && cp.Stat.Size == 5, "copy back: %s %q %+v", h.Name, body, cp.Stat)

	st, err := c.ContainerStats(ctx, cr.ID, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: false})
	ts.Check(err)
	var sr container.StatsResponse
	ts.Check(json.NewDecoder(st.Body).Decode(&sr))
	st.Body.Close()
	check(sr.ID == cr.ID && sr.PidsStats.Current >= 1, "stats: %+v", sr)

	_, err = c.ContainerRemove(ctx, cr.ID, client.ContainerRemoveOptions{Force: true})
	ts.Check(err)
	_, err = c.ContainerInspect(ctx, cr.ID, client.ContainerInspectOptions{})
	check(err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container"), "inspect after remove: %v", err)
	fmt.Fprintln(ts.Stdout(), "docker Go client: ok")
}
