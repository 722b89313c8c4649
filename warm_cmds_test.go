package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// warmProcs finds the warm shims of the data root root (named by their command line,
// "minibox-shim --warm <root>/containers ..."), with every process under them; paired are
// the shims whose init exists.
func warmProcs(root string) (shims, paired, all []procInfo) {
	procs := allProcs()
	children := map[int][]procInfo{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	prefix := "minibox-shim\x00--warm\x00" + root + "/containers\x00"
	for _, p := range procs {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
		if err == nil && strings.HasPrefix(string(cmd), prefix) && p.state != "Z" {
			shims = append(shims, p)
		}
	}
	for _, p := range shims {
		if len(children[p.pid]) > 0 {
			paired = append(paired, p)
		}
	}
	for q := append([]procInfo(nil), shims...); len(q) > 0; q = q[1:] {
		if q[0].state != "Z" {
			all = append(all, q[0])
		}
		q = append(q, children[q[0].pid]...)
	}
	return shims, paired, all
}

// warmProcsCmd is `warm-procs [-stop] N FILE`: waits (up to 60 s) until N warm shims of
// $DATA_ROOT run, each with its init, then adds every warm shim of $DATA_ROOT and every
// process under them to FILE, a line "pid start-time" each (procs-gone reads it). -stop
// stops (SIGSTOP) the shims that have their init: pairs that cannot act when their daemon
// dies. Recorded processes still alive when the script ends are killed.
//
// `! warm-procs` fails if any warm shim of $DATA_ROOT, or a process under one, runs now.
func warmProcsCmd(ts *testscript.TestScript, neg bool, args []string) {
	root := ts.Getenv("DATA_ROOT")
	if neg {
		if len(args) != 0 {
			ts.Fatalf("usage: ! warm-procs")
		}
		if _, _, all := warmProcs(root); len(all) > 0 {
			var left []string
			for _, p := range all {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
				left = append(left, fmt.Sprintf("%d (%s, state %s)", p.pid, strings.ReplaceAll(string(cmd), "\x00", " "), p.state))
			}
			sort.Strings(left)
			ts.Fatalf("warm shims of %s still running:\n%s", root, strings.Join(left, "\n"))
		}
		return
	}
	stop := len(args) > 0 && args[0] == "-stop"
	if stop {
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: warm-procs [-stop] N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	var found []procInfo
	for {
		_, paired, all := warmProcs(root)
		if len(paired) >= n {
			if stop {
				for _, s := range paired {
					syscall.Kill(s.pid, syscall.SIGSTOP)
				}
			}
			found = all
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("warm-procs: %d of %d warm pairs after 60s", len(paired), n)
		}
		time.Sleep(time.Millisecond)
	}
	recordProcs(ts, "warm-procs", args[1], found)
}
