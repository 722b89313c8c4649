package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/minibox/minibox/pkg/api/client"
)

// cpLoop drives the archive API directly, many times over, without a CLI process each:
//
//	cp-loop N get <ctr> <path>        N archive reads; stdout gets every tar read
//	cp-loop N put <ctr> <dir> <tar>   N archive writes of the tar file into dir
//
// Failed calls are counted, not fatal (a racing container makes many fail); stderr gets
// "ok <n> failed <m>".
func cpLoop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: cp-loop N get <ctr> <path> | cp-loop N put <ctr> <dir> <tar>")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	c, err := client.New(ts.Getenv("MINIBOX_API"), ts.Getenv("MINIBOX_API_TOKEN"))
	ts.Check(err)
	ctx := context.Background()
	ok, failed := 0, 0
	why := map[string]int{} // failures by message, so a failed assertion says what went wrong
	fail := func(err error) {
		failed++
		why[err.Error()]++
	}
	switch args[1] {
	case "get":
		for range n {
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
		for range n {
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
	for msg, n := range why {
		fmt.Fprintf(ts.Stderr(), "  %d× %s\n", n, msg)
	}
}
