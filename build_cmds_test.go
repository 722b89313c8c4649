package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// procInfo is what /proc/<pid>/stat says of a process: enough to tell it from a later
// process that got its PID.
type procInfo struct {
	pid, ppid int
	state     string
	start     uint64 // clock ticks after boot
}

func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, false
	}
	// The command name may hold spaces and parentheses: the fields follow the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return procInfo{pid: pid, ppid: ppid, state: f[0], start: start}, true
}

func allProcs() []procInfo {
	ents, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// buildProcs finds the shims of the builds of the data root root: processes working in a
// block's directory, tmp/build-*/<block> (deleted or not), whose parent is not one (init
// starts in its shim's directory), with their descendants.
func buildProcs(root string) (shims []procInfo, children map[int][]procInfo) {
	procs := allProcs()
	children = map[int][]procInfo{}
	inBuild := map[int]bool{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.pid))
		if err == nil && strings.HasPrefix(cwd, filepath.Join(root, "tmp", "build-")) {
			inBuild[p.pid] = true
		}
	}
	for _, p := range procs {
		if inBuild[p.pid] && !inBuild[p.ppid] {
			shims = append(shims, p)
		}
	}
	return shims, children
}

// buildProcsCmd is `build-procs [-run] [-stop] N FILE`: waits (up to 60 s) until N build
// shims of $DATA_ROOT run (with -run: each with a workload, a child of its init), then adds
// them and all their descendants to FILE, a line "pid start-time" each; N 0 records what
// runs now. -stop stops the shims (SIGSTOP): a shim that cannot act when its daemon dies.
// Recorded processes still alive when the script ends are killed.
func buildProcsCmd(ts *testscript.TestScript, neg bool, args []string) {
	run, stop := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-run":
			run = true
		case "-stop":
			stop = true
		default:
			ts.Fatalf("build-procs: unknown flag %s", args[0])
		}
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: build-procs [-run] [-stop] N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	root := ts.Getenv("DATA_ROOT")
	deadline := time.Now().Add(60 * time.Second)
	var found []procInfo
	for {
		shims, children := buildProcs(root)
		var ready []procInfo
		for _, s := range shims {
			if !run || hasGrandchild(s, children) {
				ready = append(ready, s)
			}
		}
		if len(ready) >= n {
			if stop {
				for _, s := range shims {
					syscall.Kill(s.pid, syscall.SIGSTOP)
				}
			}
			// The shims and everything under them.
			for q := append([]procInfo(nil), shims...); len(q) > 0; q = q[1:] {
				found = append(found, q[0])
				q = append(q, children[q[0].pid]...)
			}
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("build-procs: %d of %d build shims ready after 60s", len(ready), n)
		}
		time.Sleep(time.Millisecond)
	}
	recordProcs(ts, "build-procs", args[1], found)
}

// recordProcs appends found to file (a PID and its start time a line, for procs-gone) and
// kills those still the same processes when the script ends.
func recordProcs(ts *testscript.TestScript, cmd, file string, found []procInfo) {
	var b strings.Builder
	for _, p := range found {
		fmt.Fprintf(&b, "%d %d\n", p.pid, p.start)
	}
	f, err := os.OpenFile(ts.MkAbs(file), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	ts.Check(err)
	_, err = f.WriteString(b.String())
	ts.Check(errors.Join(err, f.Close()))
	ts.Defer(func() {
		for _, p := range found {
			if q, ok := readProc(p.pid); ok && q.start == p.start {
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	})
	ts.Logf("%s: %d processes", cmd, len(found))
}

func hasGrandchild(p procInfo, children map[int][]procInfo) bool {
	for _, c := range children[p.pid] {
		if len(children[c.pid]) > 0 {
			return true
		}
	}
	return false
}

// procsGoneCmd is `procs-gone FILE`: waits (up to 30 s) until every process recorded by
// build-procs in FILE has ended (its PID gone, a zombie, or another process's).
func procsGoneCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: procs-gone FILE")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var alive []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var pid int
			var start uint64
			if _, err := fmt.Sscan(line, &pid, &start); err != nil {
				continue
			}
			if p, ok := readProc(pid); ok && p.start == start && p.state != "Z" {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
				alive = append(alive, fmt.Sprintf("%d (%s, cwd %s)", pid, strings.ReplaceAll(string(cmd), "\x00", " "), cwd))
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(alive)
			ts.Fatalf("procs-gone: still running after 30s:\n%s", strings.Join(alive, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// httpServe DIR serves DIR's files over HTTP on loopback for the rest of the script
// (ADD <url> downloads them) and sets $HTTP_URL; it counts requests per path in
// DIR/../http-requests.log, one line per GET.
func httpServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: http-serve DIR")
	}
	dir := ts.MkAbs(args[0])
	logPath := ts.MkAbs("http-requests.log")
	var mu sync.Mutex
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "%s %s\n", r.Method, r.URL.Path)
			f.Close()
		}
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	ts.Defer(srv.Close)
	ts.Setenv("HTTP_URL", srv.URL)
}
