package build

import (
	"context"
	"fmt"
)

// schedule runs every node as soon as all its deps are done, at most workers at a time,
// choosing among ready nodes in the given order (file order). There are no waves: a node
// waits for its own deps only. The first failure cancels the context the running nodes
// got, starts nothing more, waits for those running, and is returned with its node's name.
func schedule(ctx context.Context, order []string, deps map[string][]string, workers int,
	run func(ctx context.Context, name string) error) (string, error) {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waiting := map[string]int{}
	users := map[string][]string{}
	for _, n := range order {
		for _, d := range deps[n] {
			waiting[n]++
			users[d] = append(users[d], n)
		}
	}
	type done struct {
		name string
		err  error
	}
	results := make(chan done)
	started := map[string]bool{}
	running, finished := 0, 0
	var failed string
	var ferr error
	for finished < len(order) {
		if ferr == nil {
			for _, n := range order {
				if running >= workers {
					break
				}
				if started[n] || waiting[n] > 0 {
					continue
				}
				if err := ctx.Err(); err != nil {
					failed, ferr = "", err
					break
				}
				started[n] = true
				running++
				go func(n string) { results <- done{n, run(ctx, n)} }(n)
			}
		}
		if running == 0 {
			if ferr != nil {
				return failed, ferr
			}
			return "", fmt.Errorf("build graph stalled with %d of %d blocks done", finished, len(order))
		}
		r := <-results
		running--
		finished++
		if r.err != nil && ferr == nil {
			failed, ferr = r.name, r.err
			cancel()
		}
		for _, u := range users[r.name] {
			waiting[u]--
		}
	}
	return failed, ferr
}
