package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// apiCall METHOD URI [BODY] sends one request to the script's daemon (with
// $MINIBOX_API_TOKEN) and prints "status N" and the answer's body. ${VAR}s in BODY are
// expanded (single quotes keep the script from doing it). It gives up after a minute:
// a request the daemon never answers fails the script.
func apiCall(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: api METHOD URI [BODY]")
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(os.Expand(args[2], ts.Getenv))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, args[0], ts.Getenv("MINIBOX_API")+args[1], body)
	ts.Check(err)
	if tok := ts.Getenv("MINIBOX_API_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.Fatalf("%s %s: %v", args[0], args[1], err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("%s %s: read the answer: %v", args[0], args[1], err)
	}
	fmt.Fprintf(ts.Stdout(), "status %d\n%s\n", resp.StatusCode, b)
}

// rawUpload URI opens a TCP connection to the daemon, sends the headers of a POST with
// Content-Length 100000000 and no token, sends no body, and prints the answer's status
// line. The daemon must answer from the headers alone; it gets a minute.
func rawUpload(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: raw-upload URI")
	}
	c, err := net.Dial("tcp", ts.Getenv("MINIBOX_HTTP_ADDR"))
	ts.Check(err)
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: minibox\r\nContent-Type: application/x-tar\r\nContent-Length: 100000000\r\n\r\n", args[0])
	c.SetReadDeadline(time.Now().Add(time.Minute))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		ts.Fatalf("no answer to an upload without a token: %v", err)
	}
	fmt.Fprintln(ts.Stdout(), strings.TrimSpace(line))
}

// abandonImport PATH NAME starts POST /images/import?path=PATH&name=NAME on a raw
// connection, waits until the import stages a file in $DATA_ROOT/tmp, closes the
// connection, and waits for tmp/ to be empty again: the daemon must stop the import
// and remove what it staged. Each wait is bounded by a minute.
func abandonImport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: abandon-import PATH NAME")
	}
	tmp := filepath.Join(ts.Getenv("DATA_ROOT"), "tmp")
	c, err := net.Dial("tcp", ts.Getenv("MINIBOX_HTTP_ADDR"))
	ts.Check(err)
	defer c.Close()
	auth := ""
	if tok := ts.Getenv("MINIBOX_API_TOKEN"); tok != "" {
		auth = "Authorization: Bearer " + tok + "\r\n"
	}
	fmt.Fprintf(c, "POST /images/import?name=%s&path=%s HTTP/1.1\r\nHost: minibox\r\n%sContent-Length: 0\r\n\r\n", args[1], args[0], auth)
	entries := func() []string {
		ents, err := os.ReadDir(tmp)
		ts.Check(err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	waitUntil := func(what string, cond func() bool) {
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				ts.Fatalf("%s: still %v after a minute", what, entries())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUntil("the import never staged a file in tmp/", func() bool { return len(entries()) > 0 })
	ts.Logf("staged: %v; closing the connection", entries())
	c.Close()
	waitUntil("tmp/ not emptied once the client left", func() bool { return len(entries()) == 0 })
}
