package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/minibox/minibox/pkg/api/client"
)

// cpLoop drives the archive API directly, many times over, without a CLI process each:
//
//	cp-loop [-both] N get <ctr> <path>        N archive reads; stdout gets every tar read
//	cp-loop [-both] N put <ctr> <dir> <tar>   N archive writes of the tar file into dir
//
// Failed calls are counted, not fatal (a racing container makes many fail); stderr gets
// "ok <n> failed <m>". With -both the loop goes on after N calls until one call has
// succeeded and one has failed (at most 100×N calls): the container racing the calls shares
// the CPUs with everything else on the host and may not run at all for the N calls, which
// would then all meet its swap in the same state and prove nothing about the race.
func cpLoop(ts *testscript.TestScript, neg bool, args []string) {
	both := len(args) > 0 && args[0] == "-both"
	if both {
		args = args[1:]
	}
	if neg || len(args) < 4 {
		ts.Fatalf("usage: cp-loop [-both] N get <ctr> <path> | cp-loop [-both] N put <ctr> <dir> <tar>")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	c, err := client.New(ts.Getenv("MINIBOX_API"), ts.Getenv("MINIBOX_API_TOKEN"))
	ts.Check(err)
	ctx := context.Background()
	ok, failed := 0, 0
	more := func(i int) bool {
		return i < n || both && (ok == 0 || failed == 0) && i < 100*n
	}
	why := map[string]int{} // failures by message, so a failed assertion says what went wrong
	fail := func(err error) {
		failed++
		why[err.Error()]++
	}
	switch args[1] {
	case "get":
		for i := 0; more(i); i++ {
			body, _, err := c.ArchiveGet(ctx, args[2], args[3])
			if err != nil {
				fail(err)
				continue
			}
			b, err := io.ReadAll(body)
			body.Close()
			if err != nil {
				fail(err)
				continue
			}
			ok++
			ts.Stdout().Write(b)
		}
	case "put":
		if len(args) != 5 {
			ts.Fatalf("usage: cp-loop N put <ctr> <dir> <tar>")
		}
		tarball, err := os.ReadFile(ts.MkAbs(args[4]))
		ts.Check(err)
		for i := 0; more(i); i++ {
			if err := c.ArchivePut(ctx, args[2], args[3], bytes.NewReader(tarball)); err != nil {
				fail(err)
				continue
			}
			ok++
		}
	default:
		ts.Fatalf("cp-loop: unknown mode %q", args[1])
	}
	fmt.Fprintf(ts.Stderr(), "ok %d failed %d\n", ok, failed)
	if ok == 0 && n > 0 {
		describeContainer(ts, c, args[2])
	}
	for msg, n := range why {
		fmt.Fprintf(ts.Stderr(), "  %d× %s\n", n, msg)
	}
}

// describeContainer says, when every call failed, in what state the container and its
// processes were: a container that exited or froze (or a workload stopped) mid-loop shows
// here, not only as a count of failures.
func describeContainer(ts *testscript.TestScript, c *client.Client, ref string) {
	raw, err := c.InspectRaw(context.Background(), "/containers/inspect", "id", ref)
	if err != nil {
		fmt.Fprintf(ts.Stderr(), "  inspect: %v\n", err)
		return
	}
	var in struct {
		State struct {
			Status   string
			Pid      int
			ExitCode int
		}
	}
	json.Unmarshal(raw, &in)
	fmt.Fprintf(ts.Stderr(), "  container %s, pid %d, exit code %d\n", in.State.Status, in.State.Pid, in.State.ExitCode)
	if in.State.Pid <= 0 {
		return
	}
	pids := []string{strconv.Itoa(in.State.Pid)}
	ch, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", in.State.Pid, in.State.Pid))
	for _, pid := range append(pids, strings.Fields(string(ch))...) {
		st, _ := os.ReadFile("/proc/" + pid + "/stat")
		w, _ := os.ReadFile("/proc/" + pid + "/wchan")
		fmt.Fprintf(ts.Stderr(), "  /proc/%s/stat %s (wchan %s)\n", pid, strings.TrimSpace(string(st)), w)
	}
}
